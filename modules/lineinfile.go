package modules

import (
	"context"
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/kpxdev/kpx/transport"
)

func lineinfileSpec() Spec {
	args := fileCommonArgs()
	for k, a := range map[string]Arg{
		"path":   {Type: Path, Required: true, Aliases: []string{"dest", "destfile", "name"}},
		"regexp": {Type: Str, Aliases: []string{"regex"}}, "search_string": {Type: Str},
		"state": {Type: Str, Choices: []string{"absent", "present"}}, "line": {Type: Str, Aliases: []string{"value"}},
		"backrefs": {Type: Bool}, "insertafter": {Type: Str}, "insertbefore": {Type: Str},
		"create": {Type: Bool}, "backup": {Type: Bool}, "firstmatch": {Type: Bool}, "validate": {Type: Str},
		"others": {Type: Str},
	} {
		args[k] = a
	}
	return Spec{Args: args,
		MutuallyExclusive: [][]string{{"insertbefore", "insertafter"}, {"regexp", "search_string"}, {"backrefs", "search_string"}},
		Validate:          validateLineinfile}
}

func validateLineinfile(args map[string]any) error {
	if err := validateFileArgs(args); err != nil {
		return err
	}
	a := lineinfileSpec().canonical(args)
	for _, k := range []string{"regexp", "insertafter", "insertbefore"} {
		s, ok := a[k].(string)
		if !ok || isTemplate(s) || s == "EOF" || s == "BOF" {
			continue
		}
		if _, err := pyRegexp(s); err != nil {
			return fmt.Errorf("%s: %v", k, err)
		}
	}
	present := str(a["state"]) != "absent"
	if present && a["line"] == nil {
		return fmt.Errorf("state is present but all of the following are missing: line")
	}
	if !present && a["regexp"] == nil && a["search_string"] == nil && a["line"] == nil {
		return fmt.Errorf("one of line, search_string, or regexp is required with state=absent")
	}
	if b, _ := AnsibleBool(a["backrefs"]); b && a["regexp"] == nil {
		return fmt.Errorf("regexp is required with backrefs=true")
	}
	return nil
}

// pyRegexp compiles a Python regular expression with Go's engine, which has no
// look-around or backreferences: those are reported rather than misread.
func pyRegexp(s string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(s)
	if err != nil {
		return nil, fmt.Errorf("kpx cannot use this regular expression (Go's RE2 syntax has no look-around or backreferences): %v", err)
	}
	return re, nil
}

func runLineinfile(ctx context.Context, h Host, c Call) (Result, error) {
	a := c.Args
	p := str(a["path"])
	at, err := attrsOf(a)
	if err != nil {
		return bad("%v", err)
	}
	script := probeCmd(p, false, true) + "\n" + idUmaskCmd + "\n" +
		"if [ -f " + transport.Quote(p) + " ]; then cat -- " + transport.Quote(p) + "; fi\n"
	res, err := mustRun(ctx, h, c, "read "+p, script)
	if err != nil {
		return failure(nil, err)
	}
	head, content, _ := strings.Cut(string(res.Stdout), "umask=")
	infos, err := parseProbes(head)
	if err != nil || len(infos) != 1 {
		return failure(nil, fmt.Errorf("read %s: unexpected output", p))
	}
	umaskLine, content, _ := strings.Cut(content, "\n")
	euid, umask := idAndUmask(head + "umask=" + umaskLine)
	cur := infos[0]
	r := Result{"changed": false, "msg": "", "backup": ""}
	present := str(a["state"]) != "absent"
	if cur.Exists && cur.Type == "directory" {
		r["failed"], r["rc"], r["msg"] = true, 256, fmt.Sprintf("Path %s is a directory !", p)
		return r, nil
	}
	if !cur.Exists {
		if !present {
			r["found"], r["msg"] = 0, "file not present"
			return r, nil
		}
		if !boolArg(a, "create", false) {
			r["failed"], r["rc"], r["msg"] = true, 257, fmt.Sprintf("Destination %s does not exist !", p)
			return r, nil
		}
		content = ""
	}
	lines := splitKeepEnds(content)
	var out []string
	if present {
		out, r["msg"], err = lineinfilePresent(lines, a)
	} else {
		var found int
		out, found, err = lineinfileAbsent(lines, a)
		r["found"] = found
		if found > 0 {
			r["msg"] = fmt.Sprintf("%d line(s) removed", found)
		}
	}
	if err != nil {
		return bad("%v", err)
	}
	after := strings.Join(out, "")
	diffs := []any{}
	if after != content || !cur.Exists {
		r["changed"] = true
		if c.Diff {
			diffs = append(diffs, map[string]any{"before": content, "after": after,
				"before_header": p + " (content)", "after_header": p + " (content)"})
		}
		if !c.Check {
			if !cur.Exists {
				if _, err := mustRun(ctx, h, c, "create "+path.Dir(p), "mkdir -p -- "+transport.Quote(path.Dir(p))); err != nil {
					return failure(r, err)
				}
			}
			mode := cur.Mode
			if !cur.Exists {
				mode = 0o666 &^ umask
			}
			if at.mode.set {
				mode, _ = at.mode.apply(mode, false)
			}
			pl := placement{dest: p, mode: mode, owner: at.owner, group: at.group, backup: cur.Exists && boolArg(a, "backup", false)}
			backup, _, err := put(ctx, h, c, payload{data: []byte(after)}, pl, euid)
			if err != nil {
				return failure(r, err)
			}
			r["backup"] = backup
		}
	} else {
		ch, err := at.plan(p, cur, true)
		if err != nil {
			return bad("%v", err)
		}
		if ch.changed() {
			r["changed"] = true
			msg := str(r["msg"])
			if msg != "" {
				msg += " and "
			}
			r["msg"] = msg + "ownership, perms or SE linux context changed"
			if c.Diff {
				diffs = append(diffs, map[string]any{"before": ch.before, "after": ch.after})
			}
			if !c.Check {
				if _, err := mustRun(ctx, h, c, "set attributes of "+p, strings.Join(ch.cmds, " && ")); err != nil {
					return failure(r, err)
				}
			}
		}
	}
	if c.Diff {
		r["diff"] = diffs
	}
	return r, nil
}

// splitKeepEnds splits text into lines keeping their line endings, as Python's
// readlines() does.
func splitKeepEnds(s string) []string {
	var out []string
	for s != "" {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			out = append(out, s)
			break
		}
		out = append(out, s[:i+1])
		s = s[i+1:]
	}
	return out
}

func trimEOL(s string) string { return strings.TrimRight(s, "\r\n") }

// lineinfileAbsent removes the lines matching regexp, search_string or line.
func lineinfileAbsent(lines []string, a map[string]any) ([]string, int, error) {
	var re *regexp.Regexp
	if s, ok := a["regexp"]; ok && s != nil {
		var err error
		if re, err = pyRegexp(str(s)); err != nil {
			return nil, 0, err
		}
	}
	search, hasSearch := a["search_string"]
	line := str(a["line"])
	var out []string
	found := 0
	for _, l := range lines {
		var hit bool
		switch {
		case re != nil:
			hit = re.MatchString(pyLine(l))
		case hasSearch && search != nil:
			hit = strings.Contains(l, str(search))
		default:
			hit = trimEOL(l) == line
		}
		if hit {
			found++
			continue
		}
		out = append(out, l)
	}
	return out, found, nil
}
