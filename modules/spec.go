// Package modules is kpx's module library: built-in modules written in Go that drive targets
// with plain POSIX shell, and the argument specifications that let a whole playbook be
// validated before any host is touched.
package modules

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/kpxdev/kpx/internal/pyvalue"
)

// Type is the kind of value an argument takes.
type Type int

const (
	Str   Type = iota // any scalar, read as a string
	Path              // a string naming a file
	Bool              // an Ansible boolean: yes/no, true/false, on/off, 1/0
	Int               // an integer, or a string holding one
	Float             // a number
	List              // a list, or a comma-separated string
	Dict              // a mapping
	Any               // anything
)

func (t Type) String() string {
	return [...]string{"str", "path", "bool", "int", "float", "list", "dict", "raw"}[t]
}

// Arg describes one argument of a module.
type Arg struct {
	Type     Type
	Required bool
	Choices  []string
	Aliases  []string
}

// Spec describes a module's arguments, as Ansible's argument_spec does.
type Spec struct {
	Args map[string]Arg
	// FreeForm modules take free-form text (_raw_params); FreeFormRequired means it, or one
	// of RequiredOneOf, must be there.
	FreeForm bool
	// AnyArgs accepts any argument name (set_fact's variables).
	AnyArgs bool
	// Each group: at least one of these must be given.
	RequiredOneOf [][]string
	// Each group: at most one of these may be given.
	MutuallyExclusive [][]string
	// Validate, when set, checks what the fields above cannot say (a value's range,
	// arguments that depend on each other, a mode's syntax, a regex). Template values are
	// not yet rendered when it runs at load time; it must let them pass.
	Validate func(args map[string]any) error
	// Library is the file of a custom module (found in a library/ directory); "" for
	// kpx's own modules.
	Library string
}

const rawParams = "_raw_params"

// Check validates args against the spec. Values that are templates are checked only for
// presence: their type is known once they are rendered on a host.
func (s Spec) Check(module string, args map[string]any) error {
	given := map[string]bool{}
	canonical := s.aliasMap()
	var unknown []string
	for k, v := range args {
		if k == rawParams {
			if !s.FreeForm {
				return fmt.Errorf("free-form text %q is not accepted; write key: value arguments", v)
			}
			given[rawParams] = true
			continue
		}
		if k == "_variable_params" {
			given[k] = true
			continue
		}
		name, ok := canonical[k]
		if !ok {
			if s.AnyArgs {
				continue
			}
			unknown = append(unknown, k)
			continue
		}
		if given[name] {
			return fmt.Errorf("argument %q is given twice (once through an alias)", name)
		}
		given[name] = true
		if err := s.Args[name].check(name, v); err != nil {
			return err
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("unsupported parameters for (%s) module: %s. Supported parameters include: %s",
			module, strings.Join(unknown, ", "), strings.Join(s.names(), ", "))
	}
	if given["_variable_params"] {
		return nil // arguments come from a variable: checked once rendered
	}
	if err := s.checkGroups(given); err != nil {
		return err
	}
	if s.Validate != nil {
		return s.Validate(args)
	}
	return nil
}

func (s Spec) checkGroups(given map[string]bool) error {
	var missing []string
	for _, name := range s.names() {
		if s.Args[name].Required && !given[name] {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing required arguments: %s", strings.Join(missing, ", "))
	}
	for _, group := range s.RequiredOneOf {
		if countGiven(group, given) == 0 {
			return fmt.Errorf("one of the following is required: %s", strings.Join(display(group), ", "))
		}
	}
	for _, group := range s.MutuallyExclusive {
		if countGiven(group, given) > 1 {
			return fmt.Errorf("parameters are mutually exclusive: %s", strings.Join(display(group), "|"))
		}
	}
	return nil
}

func countGiven(group []string, given map[string]bool) int {
	n := 0
	for _, g := range group {
		if given[g] {
			n++
		}
	}
	return n
}

// display names free-form text as Ansible's documentation does.
func display(group []string) []string {
	out := make([]string, len(group))
	for i, g := range group {
		if g == rawParams {
			g = "free_form"
		}
		out[i] = g
	}
	return out
}

func (s Spec) names() []string {
	out := make([]string, 0, len(s.Args))
	for k := range s.Args {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (s Spec) aliasMap() map[string]string {
	m := make(map[string]string, len(s.Args))
	for name, a := range s.Args {
		m[name] = name
		for _, al := range a.Aliases {
			m[al] = name
		}
	}
	return m
}

func (a Arg) check(name string, v any) error {
	if s, ok := v.(string); ok && isTemplate(s) {
		return nil
	}
	if !a.typeOK(v) {
		return fmt.Errorf("argument %q is of type %s and we were unable to convert it to %s", name, typeName(v), a.Type)
	}
	if len(a.Choices) > 0 {
		s := fmt.Sprint(v)
		for _, c := range a.Choices {
			if s == c {
				return nil
			}
		}
		return fmt.Errorf("value of %s must be one of: %s, got: %s", name, strings.Join(a.Choices, ", "), s)
	}
	return nil
}

func (a Arg) typeOK(v any) bool {
	switch a.Type {
	case Str, Path:
		switch v.(type) {
		case []any, map[string]any:
			return false
		}
		return true
	case Bool:
		_, ok := AnsibleBool(v)
		return ok
	case Int:
		switch v := v.(type) {
		case int:
			return true
		case float64:
			return v == float64(int(v))
		case string:
			_, err := strconv.Atoi(strings.TrimSpace(v))
			return err == nil
		}
		return false
	case Float:
		switch v := v.(type) {
		case int, float64:
			return true
		case string:
			_, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return err == nil
		}
		return false
	case List:
		switch v.(type) {
		case []any, string, int, float64:
			return true
		}
		return false
	case Dict:
		switch v.(type) {
		case map[string]any, string:
			return true
		}
		return false
	}
	return true
}

// AnsibleBool reads a boolean as Ansible's boolean() does.
func AnsibleBool(v any) (bool, bool) { return pyvalue.Bool(v) }

func typeName(v any) string { return pyvalue.TypeName(v) }

func isTemplate(s string) bool {
	return strings.Contains(s, "{{") || strings.Contains(s, "{%")
}

// canonical returns args keyed by canonical argument names (aliases resolved).
func (s Spec) canonical(args map[string]any) map[string]any {
	names := s.aliasMap()
	out := make(map[string]any, len(args))
	for k, v := range args {
		if n, ok := names[k]; ok {
			k = n
		}
		out[k] = v
	}
	return out
}
