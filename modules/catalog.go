package modules

import "fmt"

// Catalog maps module names (kpx's short names, such as "command") to their argument specs.
// It is what the playbook loader consults to validate a playbook before any host is
// touched.
type Catalog map[string]Spec

// Known reports whether name is a module of the catalog.
func (c Catalog) Known(name string) bool {
	_, ok := c[name]
	return ok
}

// CheckArgs validates args for the named module.
func (c Catalog) CheckArgs(name string, args map[string]any) error {
	s, ok := c[name]
	if !ok {
		return fmt.Errorf("no module named %q", name)
	}
	return s.Check(name, args)
}

// Builtin returns the catalog of kpx's built-in modules. Each call returns a fresh map, so
// callers may add their own (custom modules found in library/) without affecting others.
func Builtin() Catalog {
	c := Catalog{}
	for name, s := range coreSpecs() {
		c[name] = s
	}
	for name, m := range hostModules() {
		c[name] = m.spec
	}
	for name, s := range livepatchSpecs() {
		c[name] = s
	}
	return c
}

// coreSpecs are the modules every playbook leans on: commands, messages, facts, control.
// Argument names, types and aliases follow Ansible's modules of the same names.
func coreSpecs() map[string]Spec {
	commandArgs := map[string]Arg{
		"cmd": {Type: Str}, "argv": {Type: List}, "creates": {Type: Path}, "removes": {Type: Path},
		"chdir": {Type: Path}, "stdin": {Type: Str}, "stdin_add_newline": {Type: Bool}, "strip_empty_ends": {Type: Bool},
	}
	shellArgs := map[string]Arg{
		"cmd": {Type: Str}, "creates": {Type: Path}, "removes": {Type: Path}, "chdir": {Type: Path},
		"executable": {Type: Path}, "stdin": {Type: Str}, "stdin_add_newline": {Type: Bool},
		// Not in the shell docs, but the shell module is the command module underneath and
		// accepts it.
		"strip_empty_ends": {Type: Bool},
	}
	return map[string]Spec{
		"command": {Args: commandArgs, FreeForm: true,
			RequiredOneOf:     [][]string{{rawParams, "cmd", "argv"}},
			MutuallyExclusive: [][]string{{rawParams, "cmd", "argv"}}},
		"shell": {Args: shellArgs, FreeForm: true,
			RequiredOneOf:     [][]string{{rawParams, "cmd"}},
			MutuallyExclusive: [][]string{{rawParams, "cmd"}}},
		"raw": {Args: map[string]Arg{"executable": {Type: Str}}, FreeForm: true,
			RequiredOneOf: [][]string{{rawParams}}},
		"debug": {Args: map[string]Arg{"msg": {Type: Any}, "var": {Type: Str}, "verbosity": {Type: Int}},
			MutuallyExclusive: [][]string{{"msg", "var"}}},
		"fail": {Args: map[string]Arg{"msg": {Type: Any}}},
		"assert": {Args: map[string]Arg{"that": {Type: List, Required: true}, "fail_msg": {Type: Any, Aliases: []string{"msg"}},
			"success_msg": {Type: Any}, "quiet": {Type: Bool}}},
		"set_fact": {Args: map[string]Arg{"cacheable": {Type: Bool}}, AnyArgs: true, FreeForm: true},
		"setup": {Args: map[string]Arg{"gather_subset": {Type: List}, "gather_timeout": {Type: Int},
			"filter": {Type: List}, "fact_path": {Type: Path}}},
		"meta": {FreeForm: true, RequiredOneOf: [][]string{{rawParams}}},
		"pause": {Args: map[string]Arg{"minutes": {Type: Str}, "seconds": {Type: Str}, "prompt": {Type: Str}, "echo": {Type: Bool}},
			MutuallyExclusive: [][]string{{"minutes", "seconds"}}},
		"include_tasks": {Args: map[string]Arg{"file": {Type: Str}, "apply": {Type: Dict}}, FreeForm: true,
			RequiredOneOf: [][]string{{rawParams, "file"}}},
		"import_tasks": {Args: map[string]Arg{"file": {Type: Str}}, FreeForm: true,
			RequiredOneOf: [][]string{{rawParams, "file"}}},
	}
}

// Remote returns the implementation of a built-in module that runs on hosts. The other
// actions of the catalog (debug, fail, assert, set_fact, meta, pause, include_tasks) are
// carried out by the engine on the controller.
func Remote(name string) (Module, bool) {
	if m, ok := livepatchModules()[name]; ok {
		return m, true
	}
	m, ok := map[string]Module{"command": Command, "shell": Shell, "raw": Raw, "setup": Setup}[name]
	if !ok {
		if b, found := hostModules()[name]; found {
			return b, true
		}
	}
	return m, ok
}
