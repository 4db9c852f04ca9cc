package modules

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/kpxdev/kpx/internal/pyvalue"
	"github.com/kpxdev/kpx/transport"
)

// ansibleVersion is the Ansible version custom modules are told they run under
// (_ansible_version): kpx follows ansible-core 2.14.
const ansibleVersion = "2.14.18"

// Custom is a module found in a library directory, run with Ansible's module protocol
// for modules that are not Python "new-style" ones: binary modules and WANT_JSON modules
// get their arguments as a JSON file, old-style modules as a key=value file, and the
// module prints one JSON object.
type Custom struct {
	Name string // the task's name for it
	Path string // the module file on the controller
}

// moduleStyle is how a module takes its arguments, decided as Ansible decides it.
type moduleStyle int

const (
	styleOld      moduleStyle = iota // key=value args file
	styleWantJSON                    // WANT_JSON: JSON args file
	styleBinary                      // non-text bytes in the first KiB: JSON args file, run directly
	styleJSONArgs                    // <<INCLUDE_ANSIBLE_MODULE_JSON_ARGS>> replaced by the JSON args
)

var newStylePython = regexp.MustCompile(`(?:from +\.{2,} *module_utils.* +import |from +ansible_collections\.[^.]+\.[^.]+\.plugins\.module_utils.* +import |import +ansible_collections\.[^.]+\.[^.]+\.plugins\.module_utils.*|from +ansible\.module_utils.* +import |import +ansible\.module_utils\.)`)

// UnsupportedModuleError is a custom module kpx cannot run: a Python new-style module
// (it needs Ansible's module_utils, which kpx does not ship) or a PowerShell one.
type UnsupportedModuleError struct {
	Path, Kind string
}

func (e *UnsupportedModuleError) Error() string {
	return fmt.Sprintf("custom module %s is a %s module, which kpx does not run (kpx runs binary, WANT_JSON and old-style key=value modules)", e.Path, e.Kind)
}

// detectStyle classifies module source as Ansible's module_common does.
func detectStyle(path string, data []byte) (moduleStyle, error) {
	switch {
	case isBinary(data):
		return styleBinary, nil
	case bytes.Contains(data, []byte("#<<INCLUDE_ANSIBLE_MODULE_COMMON>>")), newStylePython.Match(data):
		return 0, &UnsupportedModuleError{Path: path, Kind: "Python new-style (AnsiballZ)"}
	case bytes.Contains(data, []byte("#<<INCLUDE_ANSIBLE_MODULE_WINDOWS_COMMON>>")),
		regexp.MustCompile(`(?i)#Requires -Module`).Match(data):
		return 0, &UnsupportedModuleError{Path: path, Kind: "PowerShell"}
	case bytes.Contains(data, []byte("<<INCLUDE_ANSIBLE_MODULE_JSON_ARGS>>")):
		return styleJSONArgs, nil
	case bytes.Contains(data, []byte("WANT_JSON")):
		return styleWantJSON, nil
	}
	return styleOld, nil
}

// isBinary is Ansible's _is_binary: bytes outside the text set in the first 1024.
func isBinary(data []byte) bool {
	if len(data) > 1024 {
		data = data[:1024]
	}
	for _, b := range data {
		text := b == 7 || b == 8 || b == 9 || b == 10 || b == 12 || b == 13 || b == 27 || (b >= 0x20 && b != 0x7f)
		if !text {
			return true
		}
	}
	return false
}

// Run uploads the module and its arguments to a private temporary directory on the host,
// runs it, removes the directory, and reads the module's JSON.
func (m Custom) Run(ctx context.Context, h Host, c Call) (Result, error) {
	data, err := os.ReadFile(m.Path)
	if err != nil {
		return bad("custom module %s: %v", m.Name, err)
	}
	style, err := detectStyle(m.Path, data)
	if err != nil {
		return bad("%v", err)
	}
	tmp, err := newRemoteTmp(ctx, h, c)
	if err != nil {
		return failure(nil, err)
	}
	defer tmp.remove()
	args := m.moduleArgs(c, tmp.dir)
	jsonArgs, err := json.Marshal(args)
	if err != nil {
		return bad("custom module %s: arguments: %v", m.Name, err)
	}
	argData := jsonArgs
	if style == styleOld {
		argData = []byte(oldStyleArgs(args))
	}
	if style == styleJSONArgs {
		data = bytes.ReplaceAll(data, []byte("<<INCLUDE_ANSIBLE_MODULE_JSON_ARGS>>"), jsonArgs)
	}
	remote, err := tmp.put(ctx, "AnsiballZ_"+filepath.Base(m.Path), payload{data: data}, 0o700)
	if err != nil {
		return failure(nil, err)
	}
	argv := []string{remote}
	if style != styleJSONArgs {
		argPath, err := tmp.put(ctx, "args", payload{data: argData}, 0o600)
		if err != nil {
			return failure(nil, err)
		}
		argv = append(argv, argPath)
	}
	if style != styleBinary {
		if interp := shebang(data); len(interp) > 0 {
			argv = append(interp, argv...)
		}
	}
	res, err := run(ctx, h, c, transport.Cmd{Argv: argv})
	if err != nil {
		return failure(nil, err)
	}
	return moduleResult(res), nil
}

// moduleArgs are the task's arguments plus the internal ones Ansible passes.
func (m Custom) moduleArgs(c Call, tmpdir string) map[string]any {
	args := make(map[string]any, len(c.Args)+16)
	for k, v := range c.Args {
		args[k] = v
	}
	internal := map[string]any{
		"_ansible_check_mode": c.Check, "_ansible_no_log": false, "_ansible_debug": false,
		"_ansible_diff": c.Diff, "_ansible_verbosity": 0, "_ansible_version": ansibleVersion,
		"_ansible_module_name": m.Name, "_ansible_syslog_facility": "LOG_USER",
		"_ansible_selinux_special_fs":       []any{"fuse", "nfs", "vboxsf", "ramfs", "9p", "vfat"},
		"_ansible_string_conversion_action": "warn", "_ansible_socket": nil,
		"_ansible_shell_executable": "/bin/sh", "_ansible_keep_remote_files": false,
		"_ansible_tmpdir": tmpdir + "/", "_ansible_remote_tmp": "~/.ansible/tmp",
	}
	for k, v := range internal {
		args[k] = v
	}
	return args
}

// oldStyleArgs writes arguments as Ansible does for old-style modules: key=value pairs,
// values in Python's str() quoted with shlex.quote, each followed by a space.
func oldStyleArgs(args map[string]any) string {
	keys := make([]string, 0, len(args))
	for k := range args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s ", k, shlexQuote(pyvalue.Str(args[k])))
	}
	return b.String()
}

var shlexUnsafe = regexp.MustCompile(`[^\w@%+=:,./-]`)

// shlexQuote is Python's shlex.quote.
func shlexQuote(s string) string {
	if s == "" {
		return "''"
	}
	if !shlexUnsafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}

// shebang returns the interpreter words of a script's #! line, or nil.
func shebang(data []byte) []string {
	if !bytes.HasPrefix(data, []byte("#!")) {
		return nil
	}
	line, _, _ := bytes.Cut(data[2:], []byte("\n"))
	return strings.Fields(strings.TrimSpace(string(line)))
}
