package modules

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// builtin is a module kpx carries out on hosts with shell: its argument spec and the
// function that runs it with canonical, checked arguments.
type builtin struct {
	name string
	spec Spec
	// noCheckMode: Ansible's module does not support check mode, so the task is skipped.
	noCheckMode bool
	run         func(ctx context.Context, h Host, c Call) (Result, error)
}

// hostModules are the file, service and network modules (copy, template, file, ...).
// Each lives in its own file; this table is the one place they are registered.
func hostModules() map[string]builtin {
	m := map[string]builtin{
		"copy":       {spec: copySpec(), run: runCopy},
		"template":   {spec: templateSpec(), run: runTemplate},
		"file":       {spec: fileSpec(), run: runFile},
		"stat":       {spec: statSpec(), run: runStat},
		"fetch":      {spec: fetchSpec(), run: runFetch},
		"lineinfile": {spec: lineinfileSpec(), run: runLineinfile},
		"script":     {spec: scriptSpec(), run: runScript},
		"wait_for":   {spec: waitForSpec(), run: runWaitFor, noCheckMode: true},
		"uri":        {spec: uriSpec(), run: runURI, noCheckMode: true},
		"systemd":    {spec: systemdSpec(), run: runSystemd},
		"service":    {spec: serviceSpec(), run: runService},
	}
	for name, b := range m {
		b.name = name
		m[name] = b
	}
	return m
}

// Run checks the rendered arguments (templates are resolved now), resolves aliases and
// runs the module. Bad arguments fail the task, as Ansible's argument spec does.
func (b builtin) Run(ctx context.Context, h Host, c Call) (Result, error) {
	if err := b.spec.Check(b.name, c.Args); err != nil {
		return Result{"failed": true, "changed": false, "msg": err.Error()}, nil
	}
	c.Args = b.spec.canonical(c.Args)
	if c.Check && b.noCheckMode {
		return noCheckMode(b.name), nil
	}
	return b.run(ctx, h, c)
}

// bad is a failed result for an argument problem found at run time.
func bad(format string, a ...any) (Result, error) {
	return Result{"failed": true, "changed": false, "msg": fmt.Sprintf(format, a...)}, nil
}

// boolArg reads an Ansible boolean argument, def when absent.
func boolArg(args map[string]any, key string, def bool) bool {
	if b, ok := AnsibleBool(args[key]); ok && args[key] != nil {
		return b
	}
	return def
}

// intArg reads an integer argument, def when absent or not a number.
func intArg(args map[string]any, key string, def int) int {
	switch v := args[key].(type) {
	case int:
		return v
	case float64:
		return int(v)
	case string:
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
			return n
		}
	}
	return def
}

// noCheckMode is Ansible's result for a module without check mode support under --check.
func noCheckMode(module string) Result {
	return Result{"changed": false, "skipped": true, "msg": "remote module (" + module + ") does not support check mode"}
}
