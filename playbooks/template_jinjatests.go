package playbooks

import (
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/nikolalohinski/gonja/v2/exec"

	"github.com/kpxdev/kpx/internal/pyvalue"
)

// testFunc is the shape of kpx's Jinja tests.
type testFunc = func(*exec.Evaluator, *exec.Value, *exec.VarArgs) (bool, error)

// ansibleTests are the tests kpx adds to, or changes in, Jinja's set.
func ansibleTests() map[string]exec.TestFunction {
	out := map[string]exec.TestFunction{
		"defined": testFunc(testDefined),
		"undefined": testFunc(func(e *exec.Evaluator, in *exec.Value, p *exec.VarArgs) (bool, error) {
			d, err := testDefined(e, in, p)
			return !d, err
		}),
	}
	for name, fn := range map[string]func(any, []any) (bool, error){
		"none": testNone, "string": testString, "number": testNumber, "mapping": testMapping,
		"iterable": testIterable, "sequence": testIterable, "in": testIn, "contains": testContains,
		"failed": resultTest("failed", false), "failure": resultTest("failed", false),
		"succeeded": resultTest("failed", true), "success": resultTest("failed", true),
		"successful": resultTest("failed", true), "skipped": resultTest("skipped", false),
		"skip": resultTest("skipped", false), "changed": testChanged, "change": testChanged,
		"match": regexTest(true), "search": regexTest(false), "regex": testRegex,
		"truthy": testTruthy, "falsy": testFalsy, "subset": testSubset, "superset": testSuperset,
		"all": testAll, "any": testAny, "version": testVersion, "version_compare": testVersion,
	} {
		out[name] = plainTest(fn)
	}
	return out
}

// plainTest adapts a test over kpx values; an undefined input is an error.
func plainTest(f func(any, []any) (bool, error)) testFunc {
	return func(_ *exec.Evaluator, in *exec.Value, p *exec.VarArgs) (bool, error) {
		if in.IsError() {
			return false, errors.New(in.Error())
		}
		args := make([]any, len(p.Args))
		for i, a := range p.Args {
			args[i] = plain(a)
		}
		for _, k := range []string{"ignorecase", "multiline", "strict", "version_type"} {
			if v, ok := p.KwArgs[k]; ok {
				args = append(args, kwArg{k, plain(v)})
			}
		}
		return f(plain(in), args)
	}
}

// kwArg carries a keyword argument to a plain test, after the positional ones.
type kwArg struct {
	name  string
	value any
}

// splitKw separates positional and keyword arguments of a plain test.
func splitKw(args []any) ([]any, map[string]any) {
	kw := map[string]any{}
	var pos []any
	for _, a := range args {
		if k, ok := a.(kwArg); ok {
			kw[k.name] = k.value
		} else {
			pos = append(pos, a)
		}
	}
	return pos, kw
}

func testDefined(_ *exec.Evaluator, in *exec.Value, _ *exec.VarArgs) (bool, error) {
	if in.IsError() {
		if isUndefinedError(in) {
			return false, nil
		}
		return false, errors.New(in.Error())
	}
	return true, nil
}

func testNone(in any, _ []any) (bool, error) { return in == nil, nil }

func testString(in any, _ []any) (bool, error) { _, ok := in.(string); return ok, nil }

func testNumber(in any, _ []any) (bool, error) {
	switch in.(type) {
	case bool, int, *big.Int, float64:
		return true, nil
	}
	return false, nil
}

func testMapping(in any, _ []any) (bool, error) {
	_, ok := in.(map[string]any)
	return ok, nil
}

func testIterable(in any, _ []any) (bool, error) {
	switch in.(type) {
	case string, []any, map[string]any:
		return true, nil
	}
	return false, nil
}

// testIn is Jinja's `in`: value in seq (substring for strings, key for dicts).
func testIn(in any, args []any) (bool, error) {
	if len(args) < 1 {
		return false, errors.New("in test expects a sequence")
	}
	return pyContains(args[0], in)
}

func testContains(in any, args []any) (bool, error) {
	if len(args) < 1 {
		return false, errors.New("contains test expects a value")
	}
	return pyContains(in, args[0])
}

// pyContains is Python's `v in seq`.
func pyContains(seq, v any) (bool, error) {
	switch s := seq.(type) {
	case string:
		sub, ok := v.(string)
		if !ok {
			return false, fmt.Errorf("'in <string>' requires string as left operand, not %s", pyvalue.TypeName(v))
		}
		return containsString(s, sub), nil
	case []any:
		return containsPy(s, v), nil
	case map[string]any:
		k, ok := v.(string)
		if !ok {
			return false, nil
		}
		_, has := s[k]
		return has, nil
	}
	return false, fmt.Errorf("argument of type '%s' is not iterable", pyvalue.TypeName(seq))
}

func containsString(s, sub string) bool {
	return strings.Contains(s, sub)
}

func resultMap(in any, name string) (map[string]any, error) {
	m, ok := in.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("The '%s' test expects a dictionary", name)
	}
	return m, nil
}

// resultTest is a task-result test on key (failed, skipped), negated for succeeded.
func resultTest(key string, negate bool) func(any, []any) (bool, error) {
	return func(in any, _ []any) (bool, error) {
		m, err := resultMap(in, key)
		if err != nil {
			return false, err
		}
		return truthy(m[key]) != negate, nil
	}
}

// testChanged is Ansible's `changed`: the result's changed flag, or any loop item's.
func testChanged(in any, _ []any) (bool, error) {
	m, err := resultMap(in, "changed")
	if err != nil {
		return false, err
	}
	if c, ok := m["changed"]; ok {
		return truthy(c), nil
	}
	results, _ := m["results"].([]any)
	if len(results) == 0 {
		return false, nil
	}
	if _, ok := results[0].(map[string]any); !ok {
		return false, nil
	}
	for _, r := range results {
		if rm, ok := r.(map[string]any); ok && truthy(rm["changed"]) {
			return true, nil
		}
	}
	return false, nil
}

// regexTest is Ansible's match (anchored at the start) and search.
func regexTest(anchored bool) func(any, []any) (bool, error) {
	return func(in any, args []any) (bool, error) {
		pos, kw := splitKw(args)
		if len(pos) < 1 {
			return false, errors.New("regex test expects a pattern")
		}
		pattern := pyvalue.Str(pos[0])
		if anchored {
			pattern = `\A(?:` + pattern + `)`
		}
		re, err := compilePyRegex(pattern, truthy(kw["ignorecase"]), truthy(kw["multiline"]))
		if err != nil {
			return false, err
		}
		return re.MatchString(pyvalue.Str(in)), nil
	}
}

// testRegex is Ansible's regex(pattern, ignorecase, multiline, match_type='search').
func testRegex(in any, args []any) (bool, error) {
	pos, _ := splitKw(args)
	if len(pos) > 3 && pyvalue.Str(pos[3]) == "match" {
		return regexTest(true)(in, args)
	}
	return regexTest(false)(in, args)
}

func testTruthy(in any, _ []any) (bool, error) { return truthy(in), nil }
func testFalsy(in any, _ []any) (bool, error)  { return !truthy(in), nil }

func testSubset(in any, args []any) (bool, error) {
	a, b, err := twoLists(in, args)
	if err != nil {
		return false, err
	}
	for _, e := range a {
		if !containsPy(b, e) {
			return false, nil
		}
	}
	return true, nil
}

func testSuperset(in any, args []any) (bool, error) {
	if len(args) < 1 {
		return false, errors.New("superset expects a list")
	}
	return testSubset(args[0], []any{in})
}

func testAll(in any, _ []any) (bool, error) {
	items, err := iterate(in)
	if err != nil {
		return false, err
	}
	for _, e := range items {
		if !truthy(e) {
			return false, nil
		}
	}
	return true, nil
}

func testAny(in any, _ []any) (bool, error) {
	items, err := iterate(in)
	if err != nil {
		return false, err
	}
	for _, e := range items {
		if truthy(e) {
			return true, nil
		}
	}
	return false, nil
}
