package playbooks

import (
	"fmt"
	"sort"
	"strings"

	"github.com/kpxdev/kpx/internal/pyvalue"
)

// filterJoin is Jinja's join(d=”, attribute=None).
func filterJoin(in any, args []any, kw map[string]any) (any, error) {
	items, err := iterate(in)
	if err != nil {
		return nil, err
	}
	attr, hasAttr := arg(args, kw, 1, "attribute", nil).(string)
	parts := make([]string, len(items))
	for i, e := range items {
		if hasAttr {
			e = getAttr(e, attr)
		}
		parts[i] = pyvalue.Str(e)
	}
	return strings.Join(parts, pyvalue.Str(arg(args, kw, 0, "d", ""))), nil
}

// getAttr is Jinja's environment.getitem for an attribute path "a.b" or index.
func getAttr(v any, path string) any {
	for _, part := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[part]
		case []any:
			i, ok := pyIntFromString(part, 10)
			n, isInt := i.(int)
			if !ok || !isInt || n < 0 || n >= len(x) {
				return nil
			}
			v = x[n]
		default:
			return nil
		}
	}
	return v
}

// pyLess orders two values as Python's < does (strings case-folded unless caseSensitive).
func pyLess(a, b any, caseSensitive bool) (bool, error) {
	if fa, ok := pyNumber(a); ok {
		if fb, ok := pyNumber(b); ok {
			return fa.Cmp(fb) < 0, nil
		}
	}
	sa, ok1 := a.(string)
	sb, ok2 := b.(string)
	if ok1 && ok2 {
		if !caseSensitive {
			sa, sb = strings.ToLower(sa), strings.ToLower(sb)
		}
		return sa < sb, nil
	}
	la, ok1 := a.([]any)
	lb, ok2 := b.([]any)
	if ok1 && ok2 {
		for i := 0; i < len(la) && i < len(lb); i++ {
			if pyEqual(la[i], lb[i]) {
				continue
			}
			return pyLess(la[i], lb[i], caseSensitive)
		}
		return len(la) < len(lb), nil
	}
	return false, fmt.Errorf("'<' not supported between instances of '%s' and '%s'", pyvalue.TypeName(a), pyvalue.TypeName(b))
}

// sortKey picks what a sort/min/max compares: an attribute of each item when asked.
func sortKey(v any, attr any) any {
	if s, ok := attr.(string); ok {
		return getAttr(v, s)
	}
	return v
}

// filterSort is Jinja's sort(reverse=False, case_sensitive=False, attribute=None).
func filterSort(in any, args []any, kw map[string]any) (any, error) {
	items, err := iterate(in)
	if err != nil {
		return nil, err
	}
	out := append([]any{}, items...)
	reverse := truthy(arg(args, kw, 0, "reverse", false))
	cs := truthy(arg(args, kw, 1, "case_sensitive", false))
	attr := arg(args, kw, 2, "attribute", nil)
	var sortErr error
	sort.SliceStable(out, func(i, j int) bool {
		a, b := sortKey(out[i], attr), sortKey(out[j], attr)
		if reverse {
			a, b = b, a
		}
		less, err := pyLess(a, b, cs)
		if err != nil && sortErr == nil {
			sortErr = err
		}
		return less
	})
	return out, sortErr
}

func extreme(in any, kw map[string]any, wantMax bool) (any, error) {
	items, err := iterate(in)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("No aggregated item, sequence was empty. %s", errUndefinedMarker)
	}
	cs := truthy(kw["case_sensitive"])
	best := items[0]
	for _, e := range items[1:] {
		a, b := sortKey(e, kw["attribute"]), sortKey(best, kw["attribute"])
		if wantMax {
			a, b = b, a
		}
		less, err := pyLess(a, b, cs)
		if err != nil {
			return nil, err
		}
		if less {
			best = e
		}
	}
	return best, nil
}

func filterMin(in any, _ []any, kw map[string]any) (any, error) { return extreme(in, kw, false) }
func filterMax(in any, _ []any, kw map[string]any) (any, error) { return extreme(in, kw, true) }
