package modules

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/kpxdev/kpx/transport"
)

func copySpec() Spec {
	args := fileCommonArgs()
	for k, a := range map[string]Arg{
		"src": {Type: Path}, "content": {Type: Any}, "dest": {Type: Path, Required: true},
		"backup": {Type: Bool}, "force": {Type: Bool, Aliases: []string{"thirsty"}},
		"directory_mode": {Type: Any}, "remote_src": {Type: Bool}, "follow": {Type: Bool},
		"local_follow": {Type: Bool}, "checksum": {Type: Str}, "validate": {Type: Str}, "decrypt": {Type: Bool},
	} {
		args[k] = a
	}
	return Spec{Args: args, RequiredOneOf: [][]string{{"src", "content"}},
		MutuallyExclusive: [][]string{{"src", "content"}}, Validate: validateFileArgs}
}

// validateFileArgs checks the mode arguments' syntax.
func validateFileArgs(args map[string]any) error {
	for _, k := range []string{"mode", "directory_mode"} {
		if s, ok := args[k].(string); ok && isTemplate(s) {
			continue
		}
		if _, err := parseMode(args[k]); err != nil {
			return fmt.Errorf("%s: %v", k, err)
		}
	}
	return nil
}

// copyJob is one file copy: where its content comes from and where it goes.
type copyJob struct {
	content payload
	sum     string // sha1, Ansible's "checksum"
	md5     string
	size    int64
	srcMode uint32 // for mode=preserve
	srcName string // for the result and --diff: the source path
}

func runCopy(ctx context.Context, h Host, c Call) (Result, error) {
	a := c.Args
	if boolArg(a, "remote_src", false) {
		return bad("remote_src is not supported by kpx's copy; use command: cp")
	}
	if _, ok := a["content"]; ok {
		job := contentJob(a["content"])
		return copyOne(ctx, h, c, job, str(a["dest"]), false)
	}
	src := str(a["src"])
	local, err := c.LocalPath("files", src)
	if err != nil {
		return bad("%v", err)
	}
	fi, err := os.Stat(local)
	if err != nil {
		return bad("could not find or access '%s' on the controller: %v", src, err)
	}
	if fi.IsDir() {
		return copyDir(ctx, h, c, local, strings.HasSuffix(src, "/"))
	}
	job, err := fileJob(c, local)
	if err != nil {
		return bad("%v", err)
	}
	return copyOne(ctx, h, c, job, str(a["dest"]), true)
}

// contentJob is copy's content argument: text as it is, other values as JSON (Ansible
// writes dicts and lists as JSON).
func contentJob(v any) copyJob {
	var data []byte
	switch v := v.(type) {
	case string:
		data = []byte(v)
	case nil:
		data = nil
	default:
		data, _ = json.Marshal(v)
	}
	return jobOf(payload{data: data}, data, "")
}

func jobOf(p payload, data []byte, name string) copyJob {
	s1, m5 := sha1.Sum(data), md5.Sum(data)
	return copyJob{content: p, sum: hex.EncodeToString(s1[:]), md5: hex.EncodeToString(m5[:]), size: int64(len(data)), srcName: name}
}

// fileJob is copy's job for a controller file, hashed once per run (c.Digests).
func fileJob(c Call, local string) (copyJob, error) {
	d, err := c.Digests.of(local)
	if err != nil {
		return copyJob{}, err
	}
	return copyJob{content: payload{local: local, sha256: d.sha256}, sum: d.sha1, md5: d.md5, size: d.size, srcMode: d.mode, srcName: local}, nil
}

// destState is what copy learns of the host in one round trip before changing anything.
type destState struct {
	dest, inDir  fileInfo
	parentExists bool // dest's directory exists
	euid         int
	umask        uint32
}

func probeDest(ctx context.Context, h Host, c Call, dest, base string) (destState, error) {
	parent := transport.Quote(path.Dir(strings.TrimSuffix(dest, "/")))
	script := probeCmd(dest, true, true) + "\n" + probeCmd(path.Join(dest, base), true, true) + "\n" +
		"if [ -e " + parent + " ]; then echo parent=1; fi\n" + idUmaskCmd + "\n"
	res, err := mustRun(ctx, h, c, "inspect "+dest, script)
	if err != nil {
		return destState{}, err
	}
	infos, err := parseProbes(string(res.Stdout))
	if err != nil || len(infos) < 2 {
		return destState{}, fmt.Errorf("inspect %s: unexpected output %q", dest, res.Stdout)
	}
	st := destState{dest: infos[0], inDir: infos[1]}
	st.parentExists = strings.Contains(string(res.Stdout), "\nparent=1\n")
	st.euid, st.umask = idAndUmask(string(res.Stdout))
	return st, nil
}

// copyOne copies one file's content to dest (or into dest, when dest is a directory and
// the content came from a file).
func copyOne(ctx context.Context, h Host, c Call, job copyJob, dest string, fromFile bool) (Result, error) {
	a := c.Args
	at, err := attrsOf(a)
	if err != nil {
		return bad("%v", err)
	}
	base := path.Base(job.srcName)
	st, err := probeDest(ctx, h, c, dest, base)
	if err != nil {
		return failure(nil, err)
	}
	final, cur := dest, st.dest
	switch {
	case st.dest.Type == "directory" && fromFile:
		final, cur = path.Join(dest, base), st.inDir
	case st.dest.Type == "directory":
		return bad("can not use content with a dir as dest")
	case strings.HasSuffix(dest, "/") && fromFile:
		final, cur = path.Join(dest, base), fileInfo{}
	case !st.parentExists:
		return bad("Destination directory %s does not exist", path.Dir(dest))
	}
	r := Result{"changed": false, "dest": final, "checksum": job.sum, "size": job.size}
	if cur.Exists && (cur.Checksum == job.sum || !boolArg(a, "force", true)) {
		// The content is there: only the attributes may need work.
		return settleAttrs(ctx, h, c, r, final, cur, at)
	}
	mode := cur.Mode
	if !cur.Exists {
		mode = 0o666 &^ st.umask
	}
	if at.mode.preserve {
		mode = job.srcMode
	} else if at.mode.set {
		if mode, err = at.mode.apply(mode, false); err != nil {
			return bad("%v", err)
		}
	}
	r["changed"], r["md5sum"] = true, job.md5
	if c.Diff {
		if err := contentDiff(ctx, h, c, r, final, cur, job); err != nil {
			return failure(r, err)
		}
	}
	owner, group := at.owner, at.group
	if cur.Exists && st.euid == 0 && owner == "" && group == "" {
		owner, group = strconv.Itoa(cur.UID), strconv.Itoa(cur.GID)
	}
	if c.Check {
		r["mode"] = octal(mode)
		return r, nil
	}
	if strings.HasSuffix(dest, "/") && !st.dest.Exists {
		if _, err := mustRun(ctx, h, c, "create "+dest, "mkdir -p -- "+transport.Quote(dest)); err != nil {
			return failure(r, err)
		}
	}
	pl := placement{dest: final, mode: mode, owner: owner, group: group, backup: cur.Exists && boolArg(a, "backup", false)}
	backup, placed, err := put(ctx, h, c, job.content, pl, st.euid)
	if err != nil {
		return failure(r, err)
	}
	if backup != "" {
		r["backup_file"] = backup
	}
	if job.srcName != "" {
		r["src"] = job.srcName
	}
	if placed != nil {
		fileResult(r, *placed)
		return r, nil
	}
	return finalState(ctx, h, c, r, final)
}

// settleAttrs applies mode/owner/group to a file whose content is already right.
func settleAttrs(ctx context.Context, h Host, c Call, r Result, p string, cur fileInfo, at attrs) (Result, error) {
	ch, err := at.plan(p, cur, true)
	if err != nil {
		return bad("%v", err)
	}
	r["path"] = p
	if !ch.changed() {
		fileResult(r, cur)
		return r, nil
	}
	r["changed"] = true
	if c.Diff {
		r["diff"] = map[string]any{"before": ch.before, "after": ch.after}
	}
	if c.Check {
		fileResult(r, cur)
		return r, nil
	}
	if _, err := mustRun(ctx, h, c, "set attributes of "+p, strings.Join(ch.cmds, " && ")); err != nil {
		return failure(r, err)
	}
	return finalState(ctx, h, c, r, p)
}

// finalState adds the file's attributes after the change to r.
func finalState(ctx context.Context, h Host, c Call, r Result, p string) (Result, error) {
	infos, err := probe(ctx, h, c, false, true, p)
	if err != nil {
		return failure(r, err)
	}
	fileResult(r, infos[0])
	return r, nil
}

// maxDiffSize is Ansible's default max_diff_size: larger files show no content diff.
const maxDiffSize = 104448

// contentDiff adds Ansible's before/after diff of a text file's content to r.
func contentDiff(ctx context.Context, h Host, c Call, r Result, dest string, cur fileInfo, job copyJob) error {
	after := job.content.data
	if job.content.local != "" {
		var err error
		if after, err = os.ReadFile(job.content.local); err != nil {
			return err
		}
	}
	d := map[string]any{"before_header": dest, "after_header": job.srcName, "before": "", "after": ""}
	if job.srcName == "" {
		d["after_header"] = "dynamically generated"
	}
	if len(after) > maxDiffSize || strings.ContainsRune(string(after), 0) {
		d["dst_larger"], d["after"] = maxDiffSize, ""
		r["diff"] = []any{d}
		return nil
	}
	d["after"] = string(after)
	if cur.Exists {
		before, ok, err := readAll(ctx, h, c, dest, maxDiffSize)
		if err != nil {
			return err
		}
		if ok && !strings.ContainsRune(before, 0) {
			d["before"] = before
		}
	}
	r["diff"] = []any{d}
	return nil
}
