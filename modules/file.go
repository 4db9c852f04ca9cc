package modules

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/kpxdev/kpx/transport"
)

var fileStates = []string{"absent", "directory", "file", "hard", "link", "touch"}

func fileSpec() Spec {
	args := fileCommonArgs()
	for k, a := range map[string]Arg{
		"path":  {Type: Path, Required: true, Aliases: []string{"dest", "name"}},
		"state": {Type: Str, Choices: fileStates}, "src": {Type: Path},
		"recurse": {Type: Bool}, "force": {Type: Bool}, "follow": {Type: Bool},
		"modification_time": {Type: Str}, "modification_time_format": {Type: Str},
		"access_time": {Type: Str}, "access_time_format": {Type: Str},
		"_original_basename": {Type: Str}, "_diff_peek": {Type: Bool},
	} {
		args[k] = a
	}
	return Spec{Args: args, Validate: func(a map[string]any) error {
		if err := validateFileArgs(a); err != nil {
			return err
		}
		state := str(a["state"])
		if (state == "link" || state == "hard") && a["src"] == nil {
			return fmt.Errorf("src is required for creating a %s", state)
		}
		return nil
	}}
}

// fileTask is one run of the file module: its arguments and what the host holds.
type fileTask struct {
	path, state, src string
	at               attrs
	follow, force    bool
	cur              fileInfo
	srcInfo          fileInfo
	umask            uint32
}

func runFile(ctx context.Context, h Host, c Call) (Result, error) {
	a := c.Args
	at, err := attrsOf(a)
	if err != nil {
		return bad("%v", err)
	}
	ft := &fileTask{path: strings.TrimSuffix(str(a["path"]), "/"), state: str(a["state"]), src: str(a["src"]), at: at,
		follow: boolArg(a, "follow", true), force: boolArg(a, "force", false)}
	if ft.path == "" {
		ft.path = "/"
	}
	srcPath := ft.src
	if ft.state == "link" && !path.IsAbs(srcPath) {
		srcPath = path.Join(path.Dir(ft.path), srcPath)
	}
	script := probeCmd(ft.path, false, false) + "\n" + probeCmd(srcPath, false, true) + "\n" + "printf 'umask='; umask\n"
	res, err := mustRun(ctx, h, c, "inspect "+ft.path, script)
	if err != nil {
		return failure(nil, err)
	}
	infos, err := parseProbes(string(res.Stdout))
	if err != nil || len(infos) != 2 {
		return failure(nil, fmt.Errorf("inspect %s: unexpected output %q", ft.path, res.Stdout))
	}
	ft.cur, ft.srcInfo = infos[0], infos[1]
	_, ft.umask = idAndUmask(string(res.Stdout))
	if ft.state == "" {
		ft.state = "file"
		if ft.cur.Exists {
			ft.state = stateOf(ft.cur)
		}
	}
	cmds, r, err := ft.plan(a)
	if err != nil || r.Failed() {
		return r, err
	}
	if len(cmds) > 0 {
		r["changed"] = true
	}
	if ft.state == "directory" && ft.cur.Exists && boolArg(a, "recurse", false) && (ft.at.mode.set || ft.at.owner != "" || ft.at.group != "") {
		// What lies below: changed in place (or, in check mode, only looked at).
		out, err := mustRun(ctx, h, c, "recurse into "+ft.path, ft.at.recursePlan(ft.path, c.Check))
		if err != nil {
			return failure(r, err)
		}
		if strings.Contains(string(out.Stdout), "changed") {
			r["changed"] = true
		}
	}
	if c.Diff {
		r["diff"] = map[string]any{"before": map[string]any{"path": ft.path, "state": stateOf(ft.cur)},
			"after": map[string]any{"path": ft.path, "state": ft.state}}
	}
	if c.Check || len(cmds) == 0 {
		if ft.cur.Exists && ft.state != "absent" {
			fileResult(r, ft.cur)
			r["state"] = ft.state
		}
		return r, nil
	}
	if _, err := mustRun(ctx, h, c, ft.state+" "+ft.path, strings.Join(cmds, "\n")); err != nil {
		return failure(r, err)
	}
	if ft.state == "absent" {
		return r, nil
	}
	infos, err = probe(ctx, h, c, false, false, ft.path)
	if err != nil {
		return failure(r, err)
	}
	fileResult(r, infos[0])
	return r, nil
}

// stateOf names a path's state as the file module does.
func stateOf(fi fileInfo) string {
	switch {
	case !fi.Exists:
		return "absent"
	case fi.Type == "directory", fi.Type == "link":
		return fi.Type
	case fi.Nlink > 1:
		return "hard"
	}
	return "file"
}

// plan returns the shell commands bringing the path to the wanted state, and the result
// so far (a failed one when the state cannot be reached).
func (ft *fileTask) plan(a map[string]any) ([]string, Result, error) {
	r := Result{"changed": false, "path": ft.path}
	q := transport.Quote(ft.path)
	fail := func(format string, args ...any) ([]string, Result, error) {
		r["failed"], r["msg"] = true, fmt.Sprintf(format, args...)
		return nil, r, nil
	}
	var cmds []string
	target := ft.cur
	switch ft.state {
	case "absent":
		r["state"] = "absent"
		if ft.cur.Exists {
			return []string{"rm -rf -- " + q}, r, nil
		}
		return nil, r, nil
	case "file":
		if !ft.cur.Exists {
			return fail("file (%s) is absent, cannot continue", ft.path)
		}
		if t := stateOf(ft.cur); t != "file" && t != "hard" && !(t == "link" && ft.follow) {
			return fail("file (%s) is %s, cannot continue", ft.path, t)
		}
	case "directory":
		switch {
		case !ft.cur.Exists:
			return ft.mkdirs(), r, nil
		case ft.cur.Type != "directory" && !(ft.cur.Type == "link" && ft.follow):
			return fail("%s already exists as a %s", ft.path, stateOf(ft.cur))
		}
	case "touch":
		if !ft.cur.Exists {
			mode := uint32(0o666) &^ ft.umask
			return append([]string{"touch -- " + q}, ft.attrCmds(fileInfo{Exists: true, Type: "file", Mode: mode})...), r, nil
		}
		cmds = append(cmds, "touch -- "+q)
	case "link", "hard":
		return ft.link(r, fail)
	}
	return append(cmds, ft.attrCmds(target)...), r, nil
}

// attrCmds are the chmod/chown commands for the path in state fi.
func (ft *fileTask) attrCmds(fi fileInfo) []string {
	ch, err := ft.at.plan(ft.path, fi, ft.follow || fi.Type != "link")
	if err != nil {
		return []string{"echo " + transport.Quote(err.Error()) + " >&2; exit 1"}
	}
	return ch.cmds
}

// mkdirs creates the directory and its missing parents, giving each created one the
// mode, owner and group, as Ansible does.
func (ft *fileTask) mkdirs() []string {
	mode := uint32(0o777) &^ ft.umask
	m, err := ft.at.mode.apply(mode, true)
	if err != nil || !ft.at.mode.set {
		m = mode
	}
	var b strings.Builder
	fmt.Fprintf(&b, "p=%s; new=''; d=\"$p\"\nwhile [ ! -e \"$d\" ] && [ ! -L \"$d\" ]; do new=\"$d\n$new\"; d=$(dirname -- \"$d\"); done\n", transport.Quote(ft.path))
	b.WriteString("mkdir -p -- \"$p\" || exit 1\nprintf '%s' \"$new\" | while IFS= read -r d; do [ -n \"$d\" ] || continue\n")
	if ft.at.mode.set {
		fmt.Fprintf(&b, "chmod %04o \"$d\" || exit 1\n", m)
	}
	if ft.at.owner != "" {
		b.WriteString("chown " + transport.Quote(ft.at.owner) + " \"$d\" || exit 1\n")
	}
	if ft.at.group != "" {
		b.WriteString("chgrp " + transport.Quote(ft.at.group) + " \"$d\" || exit 1\n")
	}
	b.WriteString("done")
	return []string{b.String()}
}

// link plans state=link and state=hard.
func (ft *fileTask) link(r Result, fail func(string, ...any) ([]string, Result, error)) ([]string, Result, error) {
	q, qs := transport.Quote(ft.path), transport.Quote(ft.src)
	r["src"] = ft.src
	if !ft.srcInfo.Exists && !ft.force {
		if ft.state == "hard" {
			return fail("src does not exist")
		}
		return fail("src file does not exist, use \"force=yes\" if you really want to create the link: %s", ft.src)
	}
	switch {
	case ft.state == "link" && ft.cur.Type == "link" && ft.cur.LinkTarget == ft.src:
		return ft.attrCmds(ft.cur), r, nil
	case ft.state == "hard" && ft.cur.Exists && ft.cur.Inode == ft.srcInfo.Inode && ft.cur.Dev == ft.srcInfo.Dev:
		return ft.attrCmds(ft.cur), r, nil
	case ft.cur.Type == "directory":
		return fail("the directory %s is not empty, refusing to convert it", ft.path)
	case ft.cur.Exists && ft.cur.Type != "link" && !ft.force && ft.state == "link":
		return fail("refusing to convert from %s to symlink for %s", stateOf(ft.cur), ft.path)
	}
	cmd := "ln -sf -- " + qs + " " + q
	if ft.state == "hard" {
		cmd = "ln -f -- " + qs + " " + q
	}
	if ft.cur.Type == "link" {
		cmd = "rm -f -- " + q + " && " + cmd
	}
	after := fileInfo{Exists: true, Type: "link"}
	if ft.state == "hard" {
		after = ft.srcInfo
	}
	return append([]string{cmd}, ft.attrCmds(after)...), r, nil
}
