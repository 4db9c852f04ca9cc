package modules

import "fmt"

// livepatchSpecs are the live-patch modules and the health checks that follow them.
func livepatchSpecs() map[string]Spec {
	return map[string]Spec{
		"livepatch": livepatchSpec(),
		"kpatch": {Args: map[string]Arg{
			"src": {Type: Path}, "name": {Type: Str},
			"state": {Type: Str, Choices: []string{"loaded", "unloaded", "installed", "uninstalled"}},
		}, RequiredOneOf: [][]string{{"src", "name"}}, Validate: needsFor("kpatch", "src", "loaded", "loaded", "installed")},
		"ksplice": {Args: map[string]Arg{
			"state": {Type: Str, Choices: []string{"latest", "present", "absent"}}, "id": {Type: Str},
		}, Validate: needsFor("ksplice", "id", "latest", "present", "absent")},
		"kcare": {Args: map[string]Arg{"state": {Type: Str, Choices: []string{"latest", "absent"}}}},
		"livepatch_status": {Args: map[string]Arg{
			"name": {Type: Str, Required: true}, "enabled": {Type: Bool}, "transition": {Type: Bool},
		}},
		"kernel_log":   {Args: map[string]Arg{"deny": {Type: List}, "since": {Type: Str}, "mark": {Type: Bool}}},
		"taint":        {Args: map[string]Arg{"allow": {Type: List}, "baseline": {Type: Int}}},
		"kernel_facts": {},
	}
}

// needsFor requires arg when state (default def) is one of states.
func needsFor(module, arg, def string, states ...string) func(map[string]any) error {
	return func(args map[string]any) error {
		state, ok := args["state"].(string)
		if !ok || state == "" {
			state = def
		}
		if isTemplate(state) || args[arg] != nil {
			return nil
		}
		for _, s := range states {
			if s == state {
				return fmt.Errorf("%s: state=%s needs %s", module, state, arg)
			}
		}
		return nil
	}
}

// livepatchModules are the implementations of livepatchSpecs.
func livepatchModules() map[string]Module {
	return map[string]Module{"livepatch": Livepatch, "kpatch": Kpatch, "ksplice": Ksplice, "kcare": Kcare,
		"livepatch_status": LivepatchStatus, "kernel_log": KernelLog, "taint": Taint, "kernel_facts": KernelFacts}
}
