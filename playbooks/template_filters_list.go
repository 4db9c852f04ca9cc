package playbooks

import (
	"fmt"
	"math/big"

	"github.com/kpxdev/kpx/internal/pyvalue"
)

// iterate lists the items Python would iterate over: list items, dict keys, string
// characters.
func iterate(v any) ([]any, error) {
	switch x := v.(type) {
	case []any:
		return x, nil
	case map[string]any:
		keys := yamlSortedKeys(x)
		out := make([]any, len(keys))
		for i, k := range keys {
			out[i] = k
		}
		return out, nil
	case string:
		out := []any{}
		for _, r := range x {
			out = append(out, string(r))
		}
		return out, nil
	}
	return nil, fmt.Errorf("'%s' object is not iterable", pyvalue.TypeName(v))
}

// pyEqual is Python's ==: 1 == 1.0 == True.
func pyEqual(a, b any) bool {
	if fa, ok := pyNumber(a); ok {
		fb, ok := pyNumber(b)
		return ok && fa.Cmp(fb) == 0
	}
	switch x := a.(type) {
	case nil:
		return b == nil
	case string:
		y, ok := b.(string)
		return ok && x == y
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !pyEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, e := range x {
			f, ok := y[k]
			if !ok || !pyEqual(e, f) {
				return false
			}
		}
		return true
	}
	return false
}

// pyNumber returns a number (bools included) as a big.Float.
func pyNumber(v any) (*big.Float, bool) {
	switch x := v.(type) {
	case bool:
		if x {
			return big.NewFloat(1), true
		}
		return big.NewFloat(0), true
	case int:
		return new(big.Float).SetInt64(int64(x)), true
	case *big.Int:
		return new(big.Float).SetInt(x), true
	case float64:
		if x != x || x > 1e308 || x < -1e308 {
			return nil, false
		}
		return big.NewFloat(x), true
	}
	return nil, false
}

func containsPy(list []any, v any) bool {
	for _, e := range list {
		if pyEqual(e, v) {
			return true
		}
	}
	return false
}

func uniqueList(in []any) []any {
	out := []any{}
	for _, e := range in {
		if !containsPy(out, e) {
			out = append(out, e)
		}
	}
	return out
}

func filterUnique(in any, _ []any, _ map[string]any) (any, error) {
	items, err := iterate(in)
	if err != nil {
		return nil, err
	}
	return uniqueList(items), nil
}

// twoLists returns the input and first argument as lists.
func twoLists(in any, args []any) ([]any, []any, error) {
	if len(args) < 1 {
		return nil, nil, fmt.Errorf("expected a second list")
	}
	a, err := iterate(in)
	if err != nil {
		return nil, nil, err
	}
	b, err := iterate(args[0])
	return a, b, err
}

func filterUnion(in any, args []any, _ map[string]any) (any, error) {
	a, b, err := twoLists(in, args)
	if err != nil {
		return nil, err
	}
	return uniqueList(append(append([]any{}, a...), b...)), nil
}

func filterIntersect(in any, args []any, _ map[string]any) (any, error) {
	a, b, err := twoLists(in, args)
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, e := range a {
		if containsPy(b, e) {
			out = append(out, e)
		}
	}
	return uniqueList(out), nil
}

func filterDifference(in any, args []any, _ map[string]any) (any, error) {
	a, b, err := twoLists(in, args)
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, e := range a {
		if !containsPy(b, e) {
			out = append(out, e)
		}
	}
	return uniqueList(out), nil
}

func filterSymmetricDifference(in any, args []any, kw map[string]any) (any, error) {
	u, err := filterUnion(in, args, kw)
	if err != nil {
		return nil, err
	}
	i, _ := filterIntersect(in, args, kw)
	out := []any{}
	for _, e := range u.([]any) {
		if !containsPy(i.([]any), e) {
			out = append(out, e)
		}
	}
	return out, nil
}

// filterDict2Items is Ansible's dict2items(key_name='key', value_name='value').
func filterDict2Items(in any, args []any, kw map[string]any) (any, error) {
	m, ok := in.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("dict2items requires a dictionary, got %s instead.", pyvalue.TypeName(in))
	}
	kn, vn := pyvalue.Str(arg(args, kw, 0, "key_name", "key")), pyvalue.Str(arg(args, kw, 1, "value_name", "value"))
	out := []any{}
	for _, k := range yamlSortedKeys(m) {
		out = append(out, map[string]any{kn: k, vn: m[k]})
	}
	return out, nil
}

// filterItems2Dict is Ansible's items2dict(key_name='key', value_name='value').
func filterItems2Dict(in any, args []any, kw map[string]any) (any, error) {
	items, ok := in.([]any)
	if !ok {
		return nil, fmt.Errorf("items2dict requires a list, got %s instead.", pyvalue.TypeName(in))
	}
	kn, vn := pyvalue.Str(arg(args, kw, 0, "key_name", "key")), pyvalue.Str(arg(args, kw, 1, "value_name", "value"))
	out := map[string]any{}
	for _, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("items2dict requires a list of dictionaries")
		}
		k, ok1 := m[kn]
		v, ok2 := m[vn]
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("items2dict requires each dictionary to have keys '%s' and '%s'", kn, vn)
		}
		out[pyvalue.Str(k)] = v
	}
	return out, nil
}

// filterCombine is Ansible's combine(*dicts, recursive=False, list_merge='replace').
func filterCombine(in any, args []any, kw map[string]any) (any, error) {
	dicts := []any{in}
	for _, a := range args {
		if l, ok := a.([]any); ok {
			dicts = append(dicts, l...)
		} else {
			dicts = append(dicts, a)
		}
	}
	recursive := truthy(kw["recursive"])
	listMerge := "replace"
	if s, ok := kw["list_merge"].(string); ok {
		listMerge = s
	}
	out := map[string]any{}
	for _, d := range dicts {
		m, ok := d.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("failed to combine variables, expected dicts but got a '%s'", pyvalue.TypeName(d))
		}
		out = mergeDicts(out, m, recursive, listMerge)
	}
	return out, nil
}

func mergeDicts(a, b map[string]any, recursive bool, listMerge string) map[string]any {
	out := make(map[string]any, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		old, exists := out[k]
		om, ok1 := old.(map[string]any)
		nm, ok2 := v.(map[string]any)
		ol, ok3 := old.([]any)
		nl, ok4 := v.([]any)
		switch {
		case exists && recursive && ok1 && ok2:
			out[k] = mergeDicts(om, nm, recursive, listMerge)
		case exists && ok3 && ok4:
			out[k] = mergeLists(ol, nl, listMerge)
		default:
			out[k] = v
		}
	}
	return out
}

func mergeLists(a, b []any, mode string) []any {
	switch mode {
	case "keep":
		return a
	case "append":
		return append(append([]any{}, a...), b...)
	case "prepend":
		return append(append([]any{}, b...), a...)
	case "append_rp":
		out := []any{}
		for _, e := range a {
			if !containsPy(b, e) {
				out = append(out, e)
			}
		}
		return append(out, b...)
	case "prepend_rp":
		out := append([]any{}, b...)
		for _, e := range a {
			if !containsPy(b, e) {
				out = append(out, e)
			}
		}
		return out
	}
	return b
}

func filterList(in any, _ []any, _ map[string]any) (any, error) {
	items, err := iterate(in)
	if err != nil {
		return nil, err
	}
	return append([]any{}, items...), nil
}

// filterFlatten is Ansible's flatten(levels=None, skip_nulls=True).
func filterFlatten(in any, args []any, kw map[string]any) (any, error) {
	l, ok := in.([]any)
	if !ok {
		return nil, fmt.Errorf("flatten expects a list")
	}
	levels := -1
	if n, ok := arg(args, kw, 0, "levels", nil).(int); ok {
		levels = n
	}
	skipNulls := truthy(arg(args, kw, 1, "skip_nulls", true))
	return flattenList(l, levels, skipNulls), nil
}

func flattenList(l []any, levels int, skipNulls bool) []any {
	out := []any{}
	for _, e := range l {
		if skipNulls && (e == nil || e == "None") {
			continue
		}
		if sub, ok := e.([]any); ok && levels != 0 {
			out = append(out, flattenList(sub, levels-1, skipNulls)...)
			continue
		}
		out = append(out, e)
	}
	return out
}
