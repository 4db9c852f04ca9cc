package playbooks

import (
	"encoding/base64"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kpxdev/kpx/internal/pyvalue"
)

// arg returns args[i], or kw[name], or def.
func arg(args []any, kw map[string]any, i int, name string, def any) any {
	if i < len(args) {
		return args[i]
	}
	if v, ok := kw[name]; ok {
		return v
	}
	return def
}

func filterBool(in any, _ []any, _ map[string]any) (any, error) {
	switch x := in.(type) {
	case nil, bool:
		return x, nil
	case string:
		s := strings.ToLower(x)
		return s == "yes" || s == "on" || s == "1" || s == "true", nil
	case int:
		return x == 1, nil
	case float64:
		return x == 1, nil
	}
	return false, nil
}

// filterInt is Jinja's int(default=0, base=10).
func filterInt(in any, args []any, kw map[string]any) (any, error) {
	def := arg(args, kw, 0, "default", 0)
	base := 10
	if b, ok := arg(args, kw, 1, "base", 10).(int); ok {
		base = b
	}
	switch x := in.(type) {
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	case int, *big.Int:
		return x, nil
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return def, nil
		}
		bf, _ := new(big.Float).SetFloat64(math.Trunc(x)).Int(nil)
		return normInt(bf), nil
	case string:
		if i, ok := pyIntFromString(x, base); ok {
			return i, nil
		}
		if base == 10 {
			if f, ok := pyFloatFromString(x); ok && !math.IsInf(f, 0) && !math.IsNaN(f) {
				return filterInt(f, nil, nil)
			}
		}
	}
	return def, nil
}

// pyIntFromString is Python's int(s, base): surrounding whitespace, a sign, underscores
// between digits, and a 0x/0o/0b prefix matching base (or any with base 0).
func pyIntFromString(s string, base int) (any, bool) {
	s = strings.TrimSpace(s)
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if len(s) > 2 && s[0] == '0' {
		prefixes := map[byte]int{'x': 16, 'X': 16, 'o': 8, 'O': 8, 'b': 2, 'B': 2}
		if b, ok := prefixes[s[1]]; ok && (base == b || base == 0) {
			s, base = s[2:], b
		}
	}
	if base == 0 {
		base = 10
	}
	if s == "" || strings.HasPrefix(s, "_") || strings.HasSuffix(s, "_") || strings.Contains(s, "__") {
		return nil, false
	}
	i, ok := new(big.Int).SetString(strings.ReplaceAll(s, "_", ""), base)
	if !ok {
		return nil, false
	}
	if neg {
		i.Neg(i)
	}
	return normInt(i), true
}

// pyFloatFromString is Python's float(s).
func pyFloatFromString(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	switch strings.ToLower(strings.TrimLeft(s, "+-")) {
	case "inf", "infinity", "nan":
	default:
		if strings.ContainsAny(s, "xXpP") || s == "" {
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
	if err != nil {
		return 0, false
	}
	return f, true
}

// filterFloat is Jinja's float(default=0.0).
func filterFloat(in any, args []any, kw map[string]any) (any, error) {
	def := arg(args, kw, 0, "default", 0.0)
	switch x := in.(type) {
	case bool:
		if x {
			return 1.0, nil
		}
		return 0.0, nil
	case int:
		return float64(x), nil
	case *big.Int:
		f, _ := new(big.Float).SetInt(x).Float64()
		return f, nil
	case float64:
		return x, nil
	case string:
		if f, ok := pyFloatFromString(x); ok {
			return f, nil
		}
	}
	return def, nil
}

func filterString(in any, _ []any, _ map[string]any) (any, error) { return pyvalue.Str(in), nil }

func filterLower(in any, _ []any, _ map[string]any) (any, error) {
	return strings.ToLower(pyvalue.Str(in)), nil
}

func filterUpper(in any, _ []any, _ map[string]any) (any, error) {
	return strings.ToUpper(pyvalue.Str(in)), nil
}

// filterTrim is Jinja's trim(chars=None).
func filterTrim(in any, args []any, kw map[string]any) (any, error) {
	if chars, ok := arg(args, kw, 0, "chars", nil).(string); ok {
		return strings.Trim(pyvalue.Str(in), chars), nil
	}
	return strings.TrimSpace(pyvalue.Str(in)), nil
}

// filterReplace is Jinja's replace(old, new, count=None).
func filterReplace(in any, args []any, kw map[string]any) (any, error) {
	if len(args) < 2 {
		return nil, fmt.Errorf("replace expects at least 2 arguments")
	}
	n := -1
	if c, ok := arg(args, kw, 2, "count", nil).(int); ok {
		n = c
	}
	return strings.Replace(pyvalue.Str(in), pyvalue.Str(args[0]), pyvalue.Str(args[1]), n), nil
}

func filterLength(in any, _ []any, _ map[string]any) (any, error) {
	switch x := in.(type) {
	case string:
		return utf8.RuneCountInString(x), nil
	case []any:
		return len(x), nil
	case map[string]any:
		return len(x), nil
	}
	return nil, fmt.Errorf("object of type '%s' has no len()", pyvalue.TypeName(in))
}

func filterFirst(in any, _ []any, _ map[string]any) (any, error) {
	items, err := iterate(in)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("No first item, sequence was empty. %s", errUndefinedMarker)
	}
	return items[0], nil
}

func filterLast(in any, _ []any, _ map[string]any) (any, error) {
	items, err := iterate(in)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("No last item, sequence was empty. %s", errUndefinedMarker)
	}
	return items[len(items)-1], nil
}

// filterBasename is Python's os.path.basename.
func filterBasename(in any, _ []any, _ map[string]any) (any, error) {
	s := pyvalue.Str(in)
	return s[strings.LastIndex(s, "/")+1:], nil
}

// filterDirname is Python's os.path.dirname.
func filterDirname(in any, _ []any, _ map[string]any) (any, error) {
	s := pyvalue.Str(in)
	head := s[:strings.LastIndex(s, "/")+1]
	if trimmed := strings.TrimRight(head, "/"); trimmed != "" {
		return trimmed, nil
	}
	return head, nil
}

var shellSafe = regexp.MustCompile(`^[\w@%+=:,./-]+$`)

// filterQuote is Python's shlex.quote.
func filterQuote(in any, _ []any, _ map[string]any) (any, error) {
	if in == nil {
		in = ""
	}
	s := pyvalue.Str(in)
	if s == "" {
		return "''", nil
	}
	if shellSafe.MatchString(s) && isASCII(s) {
		return s, nil
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'", nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func filterB64encode(in any, _ []any, _ map[string]any) (any, error) {
	return base64.StdEncoding.EncodeToString([]byte(pyvalue.Str(in))), nil
}

func filterB64decode(in any, _ []any, _ map[string]any) (any, error) {
	b, err := base64.StdEncoding.DecodeString(pyvalue.Str(in))
	if err != nil {
		return nil, fmt.Errorf("b64decode: %v", err)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD"), nil
}

// filterTernary is Ansible's ternary(true_val, false_val, none_val=None).
func filterTernary(in any, args []any, kw map[string]any) (any, error) {
	if len(args) < 2 {
		return nil, fmt.Errorf("ternary expects at least 2 arguments")
	}
	if none := arg(args, kw, 2, "none_val", nil); in == nil && none != nil {
		return none, nil
	}
	if truthy(in) {
		return args[0], nil
	}
	return args[1], nil
}
