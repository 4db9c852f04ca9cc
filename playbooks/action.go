package playbooks

import (
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/kpxdev/kpx/internal/pyvalue"
)

// ModuleChecker is what the loader needs to know about modules: whether a name is one, and
// whether arguments suit it. The modules room implements it; without one, any name is
// taken as a module and arguments are not checked.
type ModuleChecker interface {
	// Known reports whether name (as kpx names it, e.g. "command") is a module.
	Known(name string) bool
	// CheckArgs returns an error describing the first problem with args, or nil.
	CheckArgs(name string, args map[string]any) error
}

// action finds the task's module among its keys, as Ansible does: `action:` and
// `local_action:` name it explicitly, otherwise exactly one key that is not a task keyword
// must be a module.
func (l *loader) action(f *fields, t *Task, allowed map[string]bool) error {
	for _, k := range []string{"action", "local_action"} {
		if !f.has(k) {
			continue
		}
		if t.Action != "" {
			return l.errAt(f.key[k], "action and local_action are mutually exclusive")
		}
		if err := l.oldStyleAction(f, k, t); err != nil {
			return err
		}
		if k == "local_action" {
			t.DelegateTo = "localhost"
		}
	}
	var unknown []string
	for _, k := range f.keys {
		if allowed[k] || strings.HasPrefix(k, "with_") {
			continue
		}
		mod, ok := l.resolveModule(k)
		if !ok {
			unknown = append(unknown, k)
			continue
		}
		if t.Action != "" {
			return l.errAt(f.key[k], "conflicting action statements: %s, %s", t.Action, k)
		}
		args, err := l.moduleArgs(f.value[k], mod)
		if err != nil {
			return err
		}
		t.Action, t.Module, t.Args, t.ArgsPos = k, mod, args, f.pos(k)
	}
	for _, k := range unknown {
		if isCollectionName(k) {
			return l.errAt(f.key[k], "%s", l.collectionError(k))
		}
	}
	if t.Action == "" {
		if len(unknown) > 0 {
			return l.errAt(f.key[unknown[0]], "couldn't resolve module/action %q: no such module or task keyword", unknown[0])
		}
		return l.errAt(f.node, "no module/action detected in task")
	}
	if len(unknown) > 0 {
		return l.errAt(f.key[unknown[0]], "%q is not a valid attribute for a task (module %s)", unknown[0], t.Action)
	}
	if err := l.mergeArgsKeyword(f, t); err != nil {
		return err
	}
	return l.checkRawParams(f, t)
}

// oldStyleAction reads `action: copy src=a dest=b` or `action: {module: copy, src: a}`.
func (l *loader) oldStyleAction(f *fields, key string, t *Task) error {
	n := deref(f.value[key])
	switch n.Kind {
	case yaml.ScalarNode:
		name, rest, _ := strings.Cut(strings.TrimLeft(n.Value, " "), " ")
		if name == "" {
			return l.errAt(n, "%s: no module named", key)
		}
		mod, _ := l.resolveModule(name)
		args, err := parseKV(rest, freeFormModules[mod])
		if err != nil {
			return l.errAt(n, "%s: %v", key, err)
		}
		t.Action, t.Module, t.Args = name, mod, args
	case yaml.MappingNode:
		mf, err := l.mapping(n, key)
		if err != nil {
			return err
		}
		name, err := l.str(mf, "module")
		if err != nil || name == "" {
			return l.errAt(n, "%s: a mapping needs a module key", key)
		}
		name, rest, _ := strings.Cut(name, " ")
		mod, _ := l.resolveModule(name)
		args, err := parseKV(rest, freeFormModules[mod])
		if err != nil {
			return l.errAt(n, "%s: %v", key, err)
		}
		for _, k := range mf.keys {
			if k != "module" {
				if args[k], err = l.value(mf, k); err != nil {
					return err
				}
			}
		}
		t.Action, t.Module, t.Args = name, mod, args
	default:
		return l.errAt(n, "%s: expected a module name with arguments, got a %s", key, kindName(n))
	}
	if _, ok := l.resolveModule(t.Action); !ok {
		if isCollectionName(t.Action) {
			return l.errAt(n, "%s", l.collectionError(t.Action))
		}
		return l.errAt(n, "couldn't resolve module/action %q", t.Action)
	}
	t.ArgsPos = f.pos(key)
	return nil
}

// moduleArgs normalises a module's value: a mapping, an inline k=v string, or nothing.
func (l *loader) moduleArgs(n *yaml.Node, module string) (map[string]any, error) {
	n = deref(n)
	switch n.Kind {
	case yaml.MappingNode:
		f, err := l.mapping(n, module+" arguments")
		if err != nil {
			return nil, err
		}
		args := make(map[string]any, len(f.keys))
		for _, k := range f.keys {
			if args[k], err = l.value(f, k); err != nil {
				return nil, err
			}
		}
		return args, nil
	case yaml.ScalarNode:
		v, err := l.valueOf(n)
		if err != nil {
			return nil, err
		}
		switch v := v.(type) {
		case nil:
			return map[string]any{}, nil
		case string:
			args, err := parseKV(v, freeFormModules[module])
			if err != nil {
				return nil, l.errAt(n, "%s: %v; try quoting the whole line", module, err)
			}
			return args, nil
		}
		return nil, l.errAt(n, "%s: unexpected argument of type %s; give a mapping or key=value text", module, pyvalue.TypeName(v))
	default:
		return nil, l.errAt(n, "%s: arguments must be a mapping or key=value text, got a %s", module, kindName(n))
	}
}

// mergeArgsKeyword adds the task's `args:` keyword to the module's arguments; arguments
// written with the module win.
func (l *loader) mergeArgsKeyword(f *fields, t *Task) error {
	n, ok := f.value["args"]
	if !ok {
		return nil
	}
	extra, err := l.moduleArgs(n, t.Module)
	if err != nil {
		return err
	}
	for k, v := range extra {
		if _, set := t.Args[k]; !set {
			t.Args[k] = v
		}
	}
	return nil
}

// checkRawParams refuses free-form text for modules that take only key=value arguments.
func (l *loader) checkRawParams(f *fields, t *Task) error {
	raw, ok := t.Args[rawParamsKey].(string)
	if !ok || raw == "" || rawParamModules[t.Module] {
		return nil
	}
	if isTemplate(raw) {
		// Ansible's legacy form: the whole argument set comes from a variable.
		delete(t.Args, rawParamsKey)
		t.Args["_variable_params"] = raw
		return nil
	}
	mods := sortedKeys(rawParamModules)
	sort.Strings(mods)
	return l.errAt(f.value[t.Action], "task %q has extra params %q, which only these modules accept: %s",
		t.Module, raw, strings.Join(mods, ", "))
}

func (l *loader) valueOf(n *yaml.Node) (any, error) {
	f := &fields{file: l.file, node: n, value: map[string]*yaml.Node{"": n}}
	return l.value(f, "")
}
