package modules

import (
	"context"
	"fmt"
	"path"
	"strings"
)

// toolRun runs a command line and returns its combined output and exit status.
func toolRun(ctx context.Context, h Host, c Call, cmdline string) (string, int, error) {
	o, err := runKernel(ctx, h, c, nil, "out=$( "+cmdline+" 2>&1 ); rc=$?\nprintf '%s\\n' \"$out\" | sed 's/^/line=/'\np rc \"$rc\"\n")
	if err != nil {
		return "", 0, err
	}
	if o.refused() || o.raw.get("rc") == "" {
		return o.stderr, 97, nil
	}
	return strings.Join(o.raw["line"], "\n"), atoi(o.raw.get("rc")), nil
}

// kpatchList is `kpatch list` read: loaded modules with [enabled]/[disabled], installed
// modules with their kernel release.
type kpatchList struct {
	Loaded    map[string]bool   // name -> enabled
	Installed map[string]string // name -> kernel release
}

func parseKpatchList(out string) kpatchList {
	l := kpatchList{Loaded: map[string]bool{}, Installed: map[string]string{}}
	section := ""
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "Loaded patch modules"):
			section = "loaded"
		case strings.HasPrefix(line, "Installed patch modules"):
			section = "installed"
		case line == "":
		case section == "loaded":
			f := strings.Fields(line)
			l.Loaded[f[0]] = len(f) < 2 || f[1] != "[disabled]"
		case section == "installed":
			f := strings.Fields(line)
			rel := ""
			if len(f) > 1 {
				rel = strings.Trim(f[1], "()")
			}
			l.Installed[f[0]] = rel
		}
	}
	return l
}

func (l kpatchList) result() map[string]any {
	loaded := map[string]any{}
	for k, v := range l.Loaded {
		loaded[k] = v
	}
	installed := map[string]any{}
	for k, v := range l.Installed {
		installed[k] = v
	}
	return map[string]any{"loaded": loaded, "installed": installed}
}

// kpatchMessage explains a failed kpatch command from its output.
func kpatchMessage(out string) string {
	switch {
	case strings.Contains(out, "transition stalled") || strings.Contains(out, "did not complete its transition"):
		return "kpatch: the patch transition stalled; kpatch reversed it and unloaded the module"
	case strings.Contains(out, "invalid module version") || strings.Contains(out, "Invalid module format"):
		return "kpatch: the module does not match the running kernel (invalid module version)"
	case strings.Contains(out, "resource busy"):
		return "kpatch: another live patch is in transition"
	}
	return "kpatch failed: " + lastLine(out)
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// Kpatch is the kpatch module: the kpatch CLI loads, unloads, installs and uninstalls
// patch modules; `kpatch list` decides what is to be done.
var Kpatch Module = Func(func(ctx context.Context, h Host, c Call) (Result, error) {
	state := str(c.Args["state"])
	if state == "" {
		state = "loaded"
	}
	name := strings.ReplaceAll(str(c.Args["name"]), "-", "_")
	var ko *KernelModule
	if src := str(c.Args["src"]); src != "" {
		p, err := c.LocalPath("files", src)
		if err == nil {
			ko, err = ReadKernelModule(p)
		}
		if err != nil {
			return errorf("%v", err), nil
		}
		if name == "" {
			name = ko.Name
		}
	}
	if name == "" {
		return errorf("kpatch: name or src is required"), nil
	}
	listOut, rc, err := toolRun(ctx, h, c, "kpatch list")
	if err != nil {
		return nil, err
	}
	if rc != 0 {
		return errorf("kpatch list failed (rc %d): %s", rc, lastLine(listOut)), nil
	}
	before := parseKpatchList(listOut)
	r := Result{"changed": false, "name": name, "state": state}
	var cmdline string
	switch state {
	case "loaded", "installed":
		if ko == nil {
			return errorf("kpatch: state=%s needs src", state), nil
		}
		if state == "loaded" && before.Loaded[name] || state == "installed" && before.Installed[installedName(before, name)] != "" {
			r["msg"] = name + " is already " + state
			return withKpatch(r, before), nil
		}
		rel, _, err := toolRun(ctx, h, c, "uname -r")
		if err != nil {
			return nil, err
		}
		if rel = strings.TrimSpace(rel); rel != ko.Release {
			r["failed"], r["preflight"] = true, true
			r["msg"] = fmt.Sprintf("preflight: %s was built for kernel %s, but the host runs %s; nothing was uploaded", path.Base(ko.Path), ko.Release, rel)
			return r, nil
		}
		verb := "load"
		if state == "installed" {
			verb = "install"
		}
		cmdline = "kpatch " + verb + " \"$upload\""
	case "unloaded":
		if _, ok := before.Loaded[name]; !ok {
			r["msg"] = name + " is not loaded"
			return withKpatch(r, before), nil
		}
		cmdline = "kpatch unload " + shQuoteArg(name)
	case "uninstalled":
		n := installedName(before, name)
		if n == "" {
			r["msg"] = name + " is not installed"
			return withKpatch(r, before), nil
		}
		cmdline = "kpatch uninstall " + shQuoteArg(n)
	default:
		return errorf("kpatch: unknown state %q", state), nil
	}
	r["changed"] = true
	if c.Check {
		r["msg"] = "would run: " + strings.ReplaceAll(cmdline, "\"$upload\"", path.Base(str(c.Args["src"])))
		return withKpatch(r, before), nil
	}
	return runKpatchChange(ctx, h, c, r, ko, name, cmdline)
})

func runKpatchChange(ctx context.Context, h Host, c Call, r Result, ko *KernelModule, name, cmdline string) (Result, error) {
	prefix := "kpx_baseline\n"
	if ko != nil {
		sum, err := fileSHA256(ko.Path)
		if err != nil {
			return errorf("%v", err), nil
		}
		updir, remote, bad, err := uploadPrivately(ctx, h, c, ko.Path, strings.TrimSuffix(path.Base(ko.Path), ".ko"))
		if err != nil || bad != nil {
			return mergeFailure(r, bad), err
		}
		// Copied out of the login user's upload directory into one only this user can
		// write, and verified there, right before kpatch reads it.
		prefix += "umask 077; st=$(mktemp -d) || exit 1; cp " + shQuoteArg(remote) + " \"$st/\" || exit 1; rm -rf " + shQuoteArg(updir) + "\n" +
			"upload=\"$st/\"" + shQuoteArg(path.Base(remote)) + "\n" +
			"[ \"$(sha256sum \"$upload\" | cut -d' ' -f1)\" = " + sum + " ] || { echo 'checksum of the uploaded module changed: not loading it'; rm -rf \"$st\"; exit 1; }\n"
		cmdline += "; rc=$?; rm -rf \"$st\"; exit $rc"
		defer func() { _, _, _ = toolRun(ctx, h, c, "rm -rf "+shQuoteArg(updir)) }()
	}
	out, rc, err := toolRun(ctx, h, c, "{ "+prefix+cmdline+"; }")
	if err != nil {
		return nil, err
	}
	r["stdout"], r["rc"] = out, rc
	after, _, err := toolRun(ctx, h, c, "kpatch list")
	if err != nil {
		return nil, err
	}
	withKpatch(r, parseKpatchList(after))
	if rc != 0 {
		r["failed"], r["msg"] = true, kpatchMessage(out)
		if strings.Contains(out, "checksum") {
			r["msg"] = lastLine(out)
		}
		return r, nil
	}
	r["msg"] = lastLine(out)
	return r, nil
}

// installedName finds name among installed modules, which kpatch lists by file name.
func installedName(l kpatchList, name string) string {
	for n := range l.Installed {
		if strings.ReplaceAll(n, "-", "_") == name {
			return n
		}
	}
	return ""
}

func withKpatch(r Result, l kpatchList) Result {
	r["kpatch"] = l.result()
	return r
}

func shQuoteArg(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
