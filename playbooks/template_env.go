package playbooks

import (
	"github.com/nikolalohinski/gonja/v2/builtins"
	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/parser"
)

// jinjaFilters are the builtin Jinja filters gonja provides that kpx keeps; each is
// wrapped so an undefined input is an error rather than silently empty.
var jinjaFilters = []string{
	"abs", "attr", "batch", "capitalize", "center", "dictsort", "e", "escape", "filesizeformat",
	"float", "forceescape", "groupby", "indent", "items", "join", "list", "lower",
	"pprint", "random", "safe", "slice", "striptags", "sum", "title", "tojson",
	"truncate", "upper", "urlencode", "urlize", "wordcount", "wordwrap", "xmlattr",
}

// jinjaTests are the builtin Jinja tests gonja provides that kpx keeps as they are.
var jinjaTests = []string{
	"boolean", "callable", "divisibleby", "eq", "equalto", "escaped", "even", "false", "filter",
	"float", "ge", "gt", "greaterthan", "integer", "le", "lower", "lt", "lessthan", "ne",
	"odd", "sameas", "test", "true", "upper",
}

// newEnvironment builds the Jinja environment of t: its own filter and test sets (gonja's
// builtins copied, Ansible's added) and its own globals.
func (t *Templar) newEnvironment() *exec.Environment {
	filters := exec.NewFilterSet(map[string]exec.FilterFunction{})
	for _, name := range jinjaFilters {
		if f, ok := builtins.Filters.Get(name); ok {
			setFilter(filters, name, strictFilter(f))
		}
	}
	for name, f := range t.ansibleFilters() {
		setFilter(filters, name, f)
	}
	tests := exec.NewTestSet(map[string]exec.TestFunction{})
	for _, name := range jinjaTests {
		if f, ok := builtins.Tests.Get(name); ok {
			setTest(tests, name, f)
		}
	}
	for name, f := range ansibleTests() {
		setTest(tests, name, f)
	}
	ctx := exec.EmptyContext().Update(builtins.GlobalFunctions).Update(builtins.GlobalVariables)
	for name, v := range t.globals() {
		ctx.Set(name, v)
	}
	return &exec.Environment{
		Context:           ctx,
		Filters:           filters,
		Tests:             tests,
		ControlStructures: exec.NewControlStructureSet(map[string]parser.ControlStructureParser{}).Update(builtins.ControlStructures),
		Methods:           templateMethods(),
	}
}

func setFilter(s *exec.FilterSet, name string, f exec.FilterFunction) {
	if s.Exists(name) {
		_ = s.Replace(name, f)
		return
	}
	_ = s.Register(name, f)
}

func setTest(s *exec.TestSet, name string, f exec.TestFunction) {
	if s.Exists(name) {
		_ = s.Replace(name, f)
		return
	}
	_ = s.Register(name, f)
}

// strictFilter makes f pass an error input (such as an undefined variable) through.
func strictFilter(f exec.FilterFunction) exec.FilterFunction {
	return func(e *exec.Evaluator, in *exec.Value, p *exec.VarArgs) *exec.Value {
		if in.IsError() {
			return in
		}
		return f(e, in, p)
	}
}

// plainFilter adapts a filter over kpx values: the input and arguments are converted, and
// an undefined input is an error.
func plainFilter(f func(in any, args []any, kw map[string]any) (any, error)) exec.FilterFunction {
	return func(_ *exec.Evaluator, in *exec.Value, p *exec.VarArgs) *exec.Value {
		if in.IsError() {
			return in
		}
		args := make([]any, len(p.Args))
		for i, a := range p.Args {
			args[i] = plain(a)
		}
		kw := make(map[string]any, len(p.KwArgs))
		for k, a := range p.KwArgs {
			kw[k] = plain(a)
		}
		out, err := f(plain(in), args, kw)
		if err != nil {
			return exec.AsValue(err)
		}
		return exec.AsValue(out)
	}
}
