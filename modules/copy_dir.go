package modules

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/kpxdev/kpx/transport"
)

// copyDir copies a controller directory: its contents into dest when the source was
// written with a trailing slash, else the directory itself into dest, as Ansible does.
// Files whose checksum already matches are not sent.
func copyDir(ctx context.Context, h Host, c Call, local string, contents bool) (Result, error) {
	dest := str(c.Args["dest"])
	root := dest
	if !contents {
		root = path.Join(dest, filepath.Base(local))
	}
	at, err := attrsOf(c.Args)
	if err != nil {
		return bad("%v", err)
	}
	dirMode, err := parseMode(c.Args["directory_mode"])
	if err != nil {
		return bad("directory_mode: %v", err)
	}
	var dirs []string
	var files []string
	err = filepath.WalkDir(local, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(local, p)
		rel = filepath.ToSlash(rel)
		switch {
		case d.IsDir():
			dirs = append(dirs, rel)
		case d.Type().IsRegular() || d.Type()&fs.ModeSymlink != 0:
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		return bad("%v", err)
	}
	r := Result{"changed": false, "dest": dest + map[bool]string{true: "", false: "/"}[strings.HasSuffix(dest, "/")], "src": local}
	var script strings.Builder
	for _, d := range dirs {
		script.WriteString(probeCmd(path.Join(root, d), false, true) + "\n")
	}
	for _, f := range files {
		script.WriteString(probeCmd(path.Join(root, f), true, true) + "\n")
	}
	script.WriteString(idUmaskCmd + "\n")
	res, err := mustRun(ctx, h, c, "inspect "+root, script.String())
	if err != nil {
		return failure(r, err)
	}
	infos, err := parseProbes(string(res.Stdout))
	if err != nil || len(infos) != len(dirs)+len(files) {
		return failure(r, fmt.Errorf("inspect %s: unexpected output", root))
	}
	euid, umask := idAndUmask(string(res.Stdout))
	var mkdirs []string
	for i, d := range dirs {
		if !infos[i].Exists {
			mkdirs = append(mkdirs, path.Join(root, d))
		}
	}
	type todo struct {
		job  copyJob
		dest string
		cur  fileInfo
	}
	var sends []todo
	var settle []todo
	for i, f := range files {
		job, err := fileJob(c, filepath.Join(local, filepath.FromSlash(f)))
		if err != nil {
			return bad("%v", err)
		}
		t := todo{job, path.Join(root, f), infos[len(dirs)+i]}
		if t.cur.Exists && (t.cur.Checksum == job.sum || !boolArg(c.Args, "force", true)) {
			settle = append(settle, t)
		} else {
			sends = append(sends, t)
		}
	}
	if len(mkdirs) > 0 || len(sends) > 0 {
		r["changed"] = true
	}
	if c.Check && r.Changed() {
		return r, nil
	}
	if len(mkdirs) > 0 {
		cmd := "mkdir -p -- " + transport.QuoteArgv(mkdirs)
		if dirMode.set && dirMode.symbolic == "" {
			cmd += fmt.Sprintf(" && chmod %04o -- %s", dirMode.bits, transport.QuoteArgv(mkdirs))
		}
		if _, err := mustRun(ctx, h, c, "create directories under "+root, cmd); err != nil {
			return failure(r, err)
		}
	}
	for _, t := range sends {
		mode := 0o666 &^ umask
		if t.cur.Exists {
			mode = t.cur.Mode
		}
		if at.mode.preserve {
			mode = t.job.srcMode
		} else if at.mode.set {
			mode, _ = at.mode.apply(mode, false)
		}
		pl := placement{dest: t.dest, mode: mode, owner: at.owner, group: at.group}
		if pl.owner == "" && pl.group == "" && t.cur.Exists && euid == 0 {
			pl.owner, pl.group = strconv.Itoa(t.cur.UID), strconv.Itoa(t.cur.GID)
		}
		if _, _, err := put(ctx, h, c, t.job.content, pl, euid); err != nil {
			return failure(r, err)
		}
	}
	for _, t := range settle {
		sub, err := settleAttrs(ctx, h, c, Result{}, t.dest, t.cur, at)
		if err != nil {
			return nil, err
		}
		if sub.Failed() {
			return sub, nil
		}
		if sub.Changed() {
			r["changed"] = true
		}
	}
	return r, nil
}

// idAndUmask reads the euid= and umask= lines a probe script printed.
func idAndUmask(out string) (int, uint32) {
	euid, umask := -1, uint32(0o022)
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, "euid="); ok {
			euid, _ = strconv.Atoi(v)
		}
		if v, ok := strings.CutPrefix(line, "umask="); ok {
			if n, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32); err == nil {
				umask = uint32(n)
			}
		}
	}
	return euid, umask
}
