package playbooks

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"

	"github.com/kpxdev/kpx/internal/pyvalue"
)

var looseVersionPart = regexp.MustCompile(`\d+|[a-zA-Z]+|\.`)

// looseVersion splits a version as Python's LooseVersion does: runs of digits (numbers)
// and of letters, dots dropped.
func looseVersion(s string) []any {
	var out []any
	for _, p := range looseVersionPart.FindAllString(s, -1) {
		if p == "." {
			continue
		}
		if n, err := strconv.Atoi(p); err == nil {
			out = append(out, n)
		} else {
			out = append(out, p)
		}
	}
	return out
}

// compareLoose compares two loose versions: -1, 0 or 1.
func compareLoose(a, b []any) (int, error) {
	for i := 0; i < len(a) && i < len(b); i++ {
		if pyEqual(a[i], b[i]) {
			continue
		}
		less, err := pyLess(a[i], b[i], true)
		if err != nil {
			return 0, err
		}
		if less {
			return -1, nil
		}
		return 1, nil
	}
	switch {
	case len(a) < len(b):
		return -1, nil
	case len(a) > len(b):
		return 1, nil
	}
	return 0, nil
}

// testVersion is Ansible's version(value, operator='eq') with the default loose
// comparison.
func testVersion(in any, args []any) (bool, error) {
	pos, kw := splitKw(args)
	if len(pos) < 1 {
		return false, errors.New("version test expects a version to compare with")
	}
	if vt, ok := kw["version_type"]; ok && pyvalue.Str(vt) != "loose" {
		return false, fmt.Errorf("version_type %q is not supported by kpx", pyvalue.Str(vt))
	}
	op := "eq"
	if len(pos) > 1 {
		op = pyvalue.Str(pos[1])
	}
	c, err := compareLoose(looseVersion(pyvalue.Str(in)), looseVersion(pyvalue.Str(pos[0])))
	if err != nil {
		return false, err
	}
	switch op {
	case "==", "=", "eq":
		return c == 0, nil
	case "!=", "<>", "ne":
		return c != 0, nil
	case "<", "lt":
		return c < 0, nil
	case "<=", "le":
		return c <= 0, nil
	case ">", "gt":
		return c > 0, nil
	case ">=", "ge":
		return c >= 0, nil
	}
	return false, fmt.Errorf("Invalid operator type (%s)", op)
}
