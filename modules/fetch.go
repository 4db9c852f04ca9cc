package modules

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/kpxdev/kpx/transport"
)

func fetchSpec() Spec {
	return Spec{Args: map[string]Arg{
		"src": {Type: Path, Required: true}, "dest": {Type: Path, Required: true},
		"flat": {Type: Bool}, "fail_on_missing": {Type: Bool}, "validate_checksum": {Type: Bool},
	}}
}

// runFetch copies a file from the host to the controller, to dest/HOST/PATH (or dest
// itself with flat), skipping it when the local copy's checksum already matches.
func runFetch(ctx context.Context, h Host, c Call) (Result, error) {
	src := str(c.Args["src"])
	local := fetchDest(c, src)
	r := Result{"changed": false, "file": src, "dest": local}
	infos, err := probe(ctx, h, c, true, true, src)
	if err != nil {
		return failure(r, err)
	}
	fi := infos[0]
	switch {
	case !fi.Exists:
		msg := "the remote file does not exist, not transferring, ignored"
		if boolArg(c.Args, "fail_on_missing", true) {
			r["failed"] = true
		}
		r["msg"] = msg
		return r, nil
	case fi.Type == "directory":
		return bad("remote file is a directory, fetch cannot work on directories")
	case !fi.Readable:
		return bad("file is not readable: %s", src)
	}
	r["remote_checksum"], r["remote_md5sum"] = fi.Checksum, nil
	if sum, md, err := localSums(local); err == nil && sum == fi.Checksum {
		r["checksum"], r["md5sum"] = sum, md
		return r, nil
	}
	r["changed"] = true
	if c.Check {
		return r, nil
	}
	if err := os.MkdirAll(filepath.Dir(local), 0o755); err != nil {
		return bad("%v", err)
	}
	if err := download(ctx, h, c, src, local); err != nil {
		return failure(r, err)
	}
	// As Ansible leaves it: OpenSSH's sftp client creates the local file with the host's
	// permission bits plus owner write, under the controller's usual umask (022).
	if err := os.Chmod(local, os.FileMode(fetchedMode(fi.Mode))); err != nil {
		return bad("%v", err)
	}
	sum, md, err := localSums(local)
	if err != nil {
		return bad("%v", err)
	}
	if sum != fi.Checksum && boolArg(c.Args, "validate_checksum", true) {
		return bad("checksum mismatch: the file changed on the host while it was fetched")
	}
	r["checksum"], r["md5sum"] = sum, md
	return r, nil
}

// fetchedMode is the mode of a fetched file whose mode on the host is remote.
func fetchedMode(remote uint32) uint32 { return (remote&0o777 | 0o200) &^ 0o022 }

// fetchDest is Ansible's layout: dest/INVENTORY_HOSTNAME/SRC, or with flat=yes dest
// itself (dest/BASENAME when dest ends with a slash). Relative dests start at the
// playbook's directory.
func fetchDest(c Call, src string) string {
	dest := str(c.Args["dest"])
	if !filepath.IsAbs(dest) {
		dest = filepath.Join(c.baseDir(), dest) + map[bool]string{true: "/", false: ""}[strings.HasSuffix(dest, "/")]
	}
	if boolArg(c.Args, "flat", false) {
		if strings.HasSuffix(dest, "/") {
			return filepath.Join(dest, filepath.Base(src))
		}
		return dest
	}
	return filepath.Clean(dest + "/" + c.Inventory + "/" + src)
}

// download fetches a file through SFTP, or when the login user cannot read it and the
// task escalates, through cat run as the escalated user.
func download(ctx context.Context, h Host, c Call, remote, local string) error {
	err := h.Download(ctx, remote, local)
	if err == nil || !escalated(h, c) || isHostError(err) {
		return err
	}
	res, rerr := run(ctx, h, c, transport.Cmd{Argv: []string{"cat", "--", remote}})
	if rerr != nil {
		return rerr
	}
	if res.ExitStatus != 0 {
		return fmt.Errorf("%w; cat: %s", err, strings.TrimSpace(string(res.Stderr)))
	}
	tmp, terr := os.CreateTemp(filepath.Dir(local), ".kpx-tmp-*")
	if terr != nil {
		return terr
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(res.Stdout); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), local)
}

func localSums(p string) (string, string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	s1, m5 := sha1.New(), md5.New()
	if _, err := io.Copy(io.MultiWriter(s1, m5), f); err != nil {
		return "", "", err
	}
	return hex.EncodeToString(s1.Sum(nil)), hex.EncodeToString(m5.Sum(nil)), nil
}
