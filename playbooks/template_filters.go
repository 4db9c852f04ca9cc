package playbooks

import (
	"fmt"
	"math"
	"strconv"
	"sync"

	"github.com/nikolalohinski/gonja/v2/exec"

	"github.com/kpxdev/kpx/internal/pyvalue"
)

// ansibleFilters are the filters kpx adds to, or changes in, Jinja's set.
func (t *Templar) ansibleFilters() map[string]exec.FilterFunction {
	f := map[string]exec.FilterFunction{
		reprFilter:  filterRepr,
		arithFilter: filterArith,
		"default":   filterDefault,
		"d":         filterDefault,
		"mandatory": filterMandatory,
	}
	for name, fn := range map[string]func(any, []any, map[string]any) (any, error){
		"bool": filterBool, "int": filterInt, "float": filterFloat, "string": filterString,
		"lower": filterLower, "upper": filterUpper, "trim": filterTrim, "replace": filterReplace,
		"length": filterLength, "count": filterLength, "first": filterFirst, "last": filterLast,
		"basename": filterBasename, "dirname": filterDirname, "quote": filterQuote,
		"b64encode": filterB64encode, "b64decode": filterB64decode, "ternary": filterTernary,
		"regex_replace": filterRegexReplace, "regex_search": filterRegexSearch,
		"regex_findall": filterRegexFindall, "regex_escape": filterRegexEscape,
		"to_json": filterToJSON, "to_nice_json": filterToNiceJSON, "from_json": filterFromJSON,
		"to_yaml": filterToYAML, "to_nice_yaml": filterToNiceYAML, "from_yaml": filterFromYAML,
		"unique": filterUnique, "union": filterUnion, "intersect": filterIntersect,
		"difference": filterDifference, "symmetric_difference": filterSymmetricDifference,
		"dict2items": filterDict2Items, "items2dict": filterItems2Dict, "combine": filterCombine,
		"list": filterList, "sort": filterSort, "min": filterMin, "max": filterMax,
		"flatten": filterFlatten, "join": filterJoin, "type_debug": filterTypeDebug,
		"reverse": filterReverse, "round": filterRound, "format": filterFormat,
	} {
		f[name] = plainFilter(fn)
	}
	for _, name := range []string{"length", "count", "lower", "upper", "basename", "dirname",
		"quote", "b64encode", "unique", "list", "first", "last", "type_debug", "string",
		"from_json", "from_yaml", "regex_escape", "bool"} {
		f[name] = noArgs(name, f[name])
	}
	for name, fn := range seqFilters() {
		f[name] = fn
	}
	for _, name := range []string{"string", "to_json", "to_nice_json", "to_yaml", "to_nice_yaml"} {
		f[name] = textFilter(f[name])
	}
	return f
}

// nativeText is the string result of a filter Ansible marks as text (string, to_json,
// to_yaml...): a template that is only such a filter's output stays a string even when
// it reads as a list or dict.
type nativeText string

// renderState is what one rendering records for Render's benefit.
type renderState struct {
	mu         sync.Mutex
	nativeText bool // the last output was a nativeText
}

// stateVar is the context variable holding the *renderState.
const stateVar = "__kpx_render_state"

// filterRepr prints a value as Ansible prints template output: None as nothing, other
// values as Python's str() does; every `{{ }}` output goes through it.
func filterRepr(e *exec.Evaluator, in *exec.Value, _ *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	_, native := in.Interface().(nativeText)
	if v, ok := e.Environment.Context.Get(stateVar); ok {
		if st, ok := v.(*renderState); ok {
			st.mu.Lock()
			st.nativeText = native
			st.mu.Unlock()
		}
	}
	v := plain(in)
	if v == nil {
		return exec.AsValue("")
	}
	return exec.AsValue(pyvalue.Str(v))
}

// filterDefault is Jinja's default(value=”, boolean=false): the value when the input is
// undefined (or, with boolean, falsy).
func filterDefault(_ *exec.Evaluator, in *exec.Value, p *exec.VarArgs) *exec.Value {
	def := exec.AsValue("")
	if len(p.Args) > 0 {
		def = p.Args[0]
	} else if v, ok := p.KwArgs["default_value"]; ok {
		def = v
	}
	boolean := false
	if len(p.Args) > 1 {
		boolean = truthy(plain(p.Args[1]))
	} else if v, ok := p.KwArgs["boolean"]; ok {
		boolean = truthy(plain(v))
	}
	if in.IsError() {
		if isUndefinedError(in) {
			return def
		}
		return in
	}
	if boolean && !truthy(plain(in)) {
		return def
	}
	return in
}

// filterMandatory fails on an undefined input.
func filterMandatory(_ *exec.Evaluator, in *exec.Value, p *exec.VarArgs) *exec.Value {
	if in.IsError() && isUndefinedError(in) {
		if len(p.Args) > 0 {
			return exec.AsValue(fmt.Errorf("%s", pyvalue.Str(plain(p.Args[0]))))
		}
		return exec.AsValue(fmt.Errorf("mandatory variable not defined (%v)", cleanError(in)))
	}
	return in
}

// filterReverse is Jinja's reverse: a string backwards, or the items in reverse order.
func filterReverse(in any, _ []any, _ map[string]any) (any, error) {
	if s, ok := in.(string); ok {
		r := []rune(s)
		for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
			r[i], r[j] = r[j], r[i]
		}
		return string(r), nil
	}
	items, err := iterate(in)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(items))
	for i, e := range items {
		out[len(items)-1-i] = e
	}
	return out, nil
}

// filterRound is Jinja's round(precision=0, method='common'); common is Python's round,
// half to even.
func filterRound(in any, args []any, kw map[string]any) (any, error) {
	prec, _ := arg(args, kw, 0, "precision", 0).(int)
	method := pyvalue.Str(arg(args, kw, 1, "method", "common"))
	if i, ok := in.(int); ok && method == "common" {
		return i, nil
	}
	f, ok := pyFloatValue(in)
	if !ok {
		return nil, fmt.Errorf("type %s doesn't define __round__ method", pyvalue.TypeName(in))
	}
	scale := math.Pow(10, float64(prec))
	switch method {
	case "common":
		r, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'f', prec, 64), 64)
		return r, nil
	case "ceil":
		return math.Ceil(f*scale) / scale, nil
	case "floor":
		return math.Floor(f*scale) / scale, nil
	}
	return nil, fmt.Errorf("method must be common, ceil or floor")
}

// filterFormat is Jinja's format: Python's `value % args`.
func filterFormat(in any, args []any, _ map[string]any) (any, error) {
	return pyPercentFormat(pyvalue.Str(in), args)
}

func filterTypeDebug(in any, _ []any, _ map[string]any) (any, error) {
	return pyvalue.TypeName(in), nil
}

// textFilter marks the string result of f as nativeText.
func textFilter(f exec.FilterFunction) exec.FilterFunction {
	return func(e *exec.Evaluator, in *exec.Value, p *exec.VarArgs) *exec.Value {
		out := f(e, in, p)
		if s, ok := out.Interface().(string); ok {
			return exec.AsValue(nativeText(s))
		}
		return out
	}
}

// noArgs makes f, a filter that takes no arguments, refuse them as Python would.
func noArgs(name string, f exec.FilterFunction) exec.FilterFunction {
	return func(e *exec.Evaluator, in *exec.Value, p *exec.VarArgs) *exec.Value {
		if len(p.Args) > 0 || len(p.KwArgs) > 0 {
			return exec.AsValue(fmt.Errorf("%s() takes no arguments (%d given)", name, len(p.Args)+len(p.KwArgs)))
		}
		return f(e, in, p)
	}
}
