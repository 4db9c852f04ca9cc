package playbooks

import (
	"errors"
	"fmt"

	"github.com/nikolalohinski/gonja/v2/exec"

	"github.com/kpxdev/kpx/internal/pyvalue"
)

// seqFilters are Jinja's select, reject, selectattr, rejectattr and map, over kpx values
// and kpx's own tests and filters.
func seqFilters() map[string]exec.FilterFunction {
	return map[string]exec.FilterFunction{
		"select":     selectFilter(false, false),
		"reject":     selectFilter(true, false),
		"selectattr": selectFilter(false, true),
		"rejectattr": selectFilter(true, true),
		"map":        filterMap,
	}
}

// undefinedValue stands for a missing attribute, which tests such as `defined` see.
func undefinedValue(name string) *exec.Value {
	return exec.AsValue(fmt.Errorf("'%s' %s", name, errUndefinedMarker))
}

// attrValue is item's attribute (or nested a.b path) as a gonja value, undefined if missing.
func attrValue(item any, path string) *exec.Value {
	cur := item
	for _, part := range splitAttrPath(path) {
		m, ok := cur.(map[string]any)
		if !ok {
			return undefinedValue(part)
		}
		cur, ok = m[part]
		if !ok {
			return undefinedValue(part)
		}
	}
	return exec.AsValue(cur)
}

func splitAttrPath(path string) []string {
	var parts []string
	start := 0
	for i := 0; i <= len(path); i++ {
		if i == len(path) || path[i] == '.' {
			parts = append(parts, path[start:i])
			start = i + 1
		}
	}
	return parts
}

func selectFilter(reject, byAttr bool) exec.FilterFunction {
	return func(e *exec.Evaluator, in *exec.Value, p *exec.VarArgs) *exec.Value {
		if in.IsError() {
			return in
		}
		items, err := iterate(plain(in))
		if err != nil {
			return exec.AsValue(err)
		}
		args := p.Args
		var attr string
		if byAttr {
			if len(args) == 0 {
				return exec.AsValue(errors.New("selectattr/rejectattr need an attribute name"))
			}
			attr, args = plain(args[0]).(string), args[1:]
		}
		out := []any{}
		for _, item := range items {
			v := exec.AsValue(item)
			if byAttr {
				v = attrValue(item, attr)
			}
			ok, err := applyTest(e, v, args, p.KwArgs)
			if err != nil {
				return exec.AsValue(err)
			}
			if ok != reject {
				out = append(out, item)
			}
		}
		return exec.AsValue(out)
	}
}

// applyTest runs the test named by args[0] with the remaining args and kw, or truthiness.
func applyTest(e *exec.Evaluator, v *exec.Value, args []*exec.Value, kw map[string]*exec.Value) (bool, error) {
	if len(args) == 0 {
		if v.IsError() {
			return false, errors.New(v.Error())
		}
		return truthy(plain(v)), nil
	}
	name, _ := plain(args[0]).(string)
	r := e.ExecuteTestByName(name, v, &exec.VarArgs{Args: args[1:], KwArgs: kw})
	if r.IsError() {
		return false, errors.New(r.Error())
	}
	return truthy(plain(r)), nil
}

// filterMap is Jinja's map(filter, *args) and map(attribute=..., default=...).
func filterMap(e *exec.Evaluator, in *exec.Value, p *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	items, err := iterate(plain(in))
	if err != nil {
		return exec.AsValue(err)
	}
	out := make([]any, 0, len(items))
	if a, ok := p.KwArgs["attribute"]; ok {
		path := pyvalue.Str(plain(a))
		def, hasDef := p.KwArgs["default"]
		for _, item := range items {
			v := attrValue(item, path)
			if v.IsError() {
				if !hasDef {
					return v
				}
				v = def
			}
			out = append(out, plain(v))
		}
		return exec.AsValue(out)
	}
	if len(p.Args) == 0 {
		return exec.AsValue(errors.New("map requires a filter name or attribute"))
	}
	name := pyvalue.Str(plain(p.Args[0]))
	rest := &exec.VarArgs{Args: p.Args[1:], KwArgs: p.KwArgs}
	for _, item := range items {
		r := e.ExecuteFilterByName(name, exec.AsValue(item), rest)
		if r.IsError() {
			return r
		}
		out = append(out, plain(r))
	}
	return exec.AsValue(out)
}
