package modules

import (
	"context"
	"fmt"
	"strings"

	"github.com/kpxdev/kpx/transport"
)

var checksumTools = map[string]string{"md5": "md5sum", "sha1": "sha1sum", "sha224": "sha224sum",
	"sha256": "sha256sum", "sha384": "sha384sum", "sha512": "sha512sum"}

func statSpec() Spec {
	return Spec{Args: map[string]Arg{
		"path":   {Type: Path, Required: true, Aliases: []string{"dest", "name"}},
		"follow": {Type: Bool}, "get_checksum": {Type: Bool},
		"checksum_algorithm": {Type: Str, Aliases: []string{"checksum", "checksum_algo"},
			Choices: []string{"md5", "sha1", "sha224", "sha256", "sha384", "sha512"}},
		"get_mime":       {Type: Bool, Aliases: []string{"mime", "mime_type", "mime-type"}},
		"get_attributes": {Type: Bool, Aliases: []string{"attr", "attributes"}},
		"get_md5":        {Type: Bool},
	}}
}

// runStat reports a path's state in Ansible's stat shape. It never changes anything.
func runStat(ctx context.Context, h Host, c Call) (Result, error) {
	p := str(c.Args["path"])
	follow := boolArg(c.Args, "follow", false)
	algo := str(c.Args["checksum_algorithm"])
	if algo == "" {
		algo = "sha1"
	}
	script := probeCmd(p, false, follow) + "\n"
	if boolArg(c.Args, "get_checksum", true) {
		tool := checksumTools[algo]
		script += fmt.Sprintf("if [ -f %[1]s ] && [ -r %[1]s ]; then echo \"csum=$(%[2]s < %[1]s | { read -r s _; echo \"$s\"; })\"; fi\n", transport.Quote(p), tool)
	}
	if boolArg(c.Args, "get_mime", true) {
		script += fmt.Sprintf("command -v file >/dev/null 2>&1 && [ -e %[1]s ] && echo \"mime=$(file -b --mime-type -- %[1]s 2>/dev/null)\" && echo \"charset=$(file -b --mime-encoding -- %[1]s 2>/dev/null)\"\n", transport.Quote(p))
	}
	res, err := mustRun(ctx, h, c, "stat "+p, script)
	if err != nil {
		return failure(nil, err)
	}
	infos, err := parseProbes(string(res.Stdout))
	if err != nil || len(infos) != 1 {
		return failure(nil, fmt.Errorf("stat %s: unexpected output %q", p, res.Stdout))
	}
	fi := infos[0]
	st := map[string]any{"exists": fi.Exists}
	if fi.Exists {
		fillStat(st, p, fi)
		for _, line := range strings.Split(string(res.Stdout), "\n") {
			k, v, _ := strings.Cut(line, "=")
			switch k {
			case "csum":
				st["checksum"] = v
			case "mime":
				st["mimetype"] = v
			case "charset":
				st["charset"] = v
			}
		}
	}
	return Result{"changed": false, "stat": st}, nil
}

// fillStat writes fi in the keys of Ansible's stat result.
func fillStat(st map[string]any, p string, fi fileInfo) {
	m := fi.Mode
	st["path"] = p
	st["mode"] = octal(m)
	st["isdir"], st["isreg"], st["islnk"] = fi.Type == "directory", fi.Type == "file", fi.Type == "link"
	st["ischr"], st["isblk"], st["isfifo"], st["issock"] = fi.Type == "char", fi.Type == "block", fi.Type == "fifo", fi.Type == "socket"
	st["uid"], st["gid"], st["pw_name"], st["gr_name"] = fi.UID, fi.GID, fi.Owner, fi.Group
	st["size"], st["inode"], st["dev"], st["nlink"] = fi.Size, fi.Inode, fi.Dev, fi.Nlink
	st["mtime"], st["atime"], st["ctime"] = float64(fi.Mtime), float64(fi.Atime), float64(fi.Ctime)
	for i, who := range []string{"usr", "grp", "oth"} {
		shift := uint(6 - 3*i)
		st["r"+who] = m>>shift&4 != 0
		st["w"+who] = m>>shift&2 != 0
		st["x"+who] = m>>shift&1 != 0
	}
	st["isuid"], st["isgid"] = m&0o4000 != 0, m&0o2000 != 0
	st["readable"], st["writeable"], st["executable"] = fi.Readable, fi.Writeable, fi.Executable
	if fi.Type == "link" {
		st["lnk_source"] = fi.LinkTarget
		st["lnk_target"] = fi.LinkTarget
	}
}
