package modules

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/kpxdev/kpx/transport"
)

// attrs are the ownership and permission arguments the file modules share (Ansible's
// add_file_common_args).
type attrs struct {
	mode         fileMode
	owner, group string
}

func attrsOf(args map[string]any) (attrs, error) {
	m, err := parseMode(args["mode"])
	if err != nil {
		return attrs{}, err
	}
	return attrs{mode: m, owner: str(args["owner"]), group: str(args["group"])}, nil
}

// fileCommonArgs are the arguments of Ansible's add_file_common_args that kpx honours.
func fileCommonArgs() map[string]Arg {
	return map[string]Arg{
		"mode": {Type: Any}, "owner": {Type: Str}, "group": {Type: Str},
		"seuser": {Type: Str}, "serole": {Type: Str}, "setype": {Type: Str}, "selevel": {Type: Str},
		"unsafe_writes": {Type: Bool}, "attributes": {Type: Str, Aliases: []string{"attr"}},
	}
}

// change is what attrs would change on one path: the shell commands and Ansible's
// before/after diff entries.
type change struct {
	cmds          []string
	before, after map[string]any
}

func (c change) changed() bool { return len(c.cmds) > 0 }

// plan works out the chmod/chown that bring fi (at path) to a. follow=false changes a
// symbolic link itself (chown -h); its mode cannot change.
func (a attrs) plan(path string, fi fileInfo, follow bool) (change, error) {
	ch := change{before: map[string]any{"path": path}, after: map[string]any{"path": path}}
	q := transport.Quote(path)
	if a.owner != "" && !sameID(a.owner, fi.Owner, fi.UID) {
		ch.cmds = append(ch.cmds, chownCmd(follow, fi)+" "+transport.Quote(a.owner)+" "+q)
		ch.before["owner"], ch.after["owner"] = fi.UID, a.owner
	}
	if a.group != "" && !sameID(a.group, fi.Group, fi.GID) {
		ch.cmds = append(ch.cmds, chownCmd(follow, fi)+" "+transport.Quote(":"+a.group)+" "+q)
		ch.before["group"], ch.after["group"] = fi.GID, a.group
	}
	if a.mode.set && !a.mode.preserve && !(fi.Type == "link" && !follow) {
		want, err := a.mode.apply(fi.Mode, fi.Type == "directory")
		if err != nil {
			return ch, err
		}
		if want != fi.Mode {
			ch.cmds = append(ch.cmds, fmt.Sprintf("chmod %04o %s", want, q))
			ch.before["mode"], ch.after["mode"] = octal(fi.Mode), octal(want)
		}
	}
	return ch, nil
}

func chownCmd(follow bool, fi fileInfo) string {
	if fi.Type == "link" && !follow {
		return "chown -h"
	}
	return "chown"
}

// sameID compares an owner or group argument (a name or a number) with a file's.
func sameID(want, name string, id int) bool {
	if n, err := strconv.Atoi(want); err == nil {
		return n == id
	}
	return want == name
}

// recursePlan is a script applying a to everything below dir, printing "changed" when it
// changed something; it compares a listing of modes and owners before and after.
func (a attrs) recursePlan(dir string, check bool) string {
	q := transport.Quote(dir)
	list := "find " + q + " -mindepth 1 -exec stat -c '%n %a %u %g' {} + 2>/dev/null"
	var b strings.Builder
	b.WriteString("before=$(" + list + ")\n")
	if check {
		// Nothing may change: simulate on the listing alone (owners and octal modes).
		var tests []string
		if a.owner != "" {
			tests = append(tests, "! -user "+transport.Quote(a.owner))
		}
		if a.group != "" {
			tests = append(tests, "! -group "+transport.Quote(a.group))
		}
		if a.mode.set && a.mode.symbolic == "" {
			tests = append(tests, fmt.Sprintf("! -perm %04o", a.mode.bits))
		}
		for _, t := range tests {
			b.WriteString("[ -n \"$(find " + q + " -mindepth 1 " + t + " 2>/dev/null | head -n 1)\" ] && echo changed\n")
		}
		return b.String()
	}
	if a.owner != "" || a.group != "" {
		spec := a.owner
		if a.group != "" {
			spec += ":" + a.group
		}
		b.WriteString("chown -R " + transport.Quote(spec) + " " + q + " || exit 1\n")
	}
	if a.mode.set {
		m := a.mode.symbolic
		if m == "" {
			m = fmt.Sprintf("%04o", a.mode.bits)
		}
		b.WriteString("find " + q + " -mindepth 1 ! -type l -exec chmod " + transport.Quote(m) + " {} + || exit 1\n")
	}
	b.WriteString("[ \"$before\" != \"$(" + list + ")\" ] && echo changed\nexit 0\n")
	return b.String()
}

// fileResult fills Ansible's file attributes of a path into r: path or dest, state,
// mode, owner, group, uid, gid, size.
func fileResult(r Result, fi fileInfo) {
	if !fi.Exists {
		r["state"] = "absent"
		return
	}
	state := fi.Type
	if state == "link" {
		r["src"] = fi.LinkTarget
	}
	if state == "fifo" || state == "socket" || state == "char" || state == "block" {
		state = "file"
	}
	r["state"] = state
	r["mode"] = octal(fi.Mode)
	r["owner"], r["group"] = fi.Owner, fi.Group
	r["uid"], r["gid"] = fi.UID, fi.GID
	r["size"] = fi.Size
}
