package playbooks

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/nikolalohinski/gonja/v2/builtins"
	"github.com/nikolalohinski/gonja/v2/exec"
)

// gonjaStrMethods are gonja's str methods kpx keeps as they are.
var gonjaStrMethods = []string{
	"capitalize", "casefold", "center", "count", "encode", "expandtabs", "find", "format",
	"isalnum", "isalpha", "isascii", "isdecimal", "isdigit", "islower", "isnumeric",
	"isprintable", "isspace", "istitle", "isupper", "join", "ljust", "lower", "partition",
	"removeprefix", "removesuffix", "rfind", "rjust", "rpartition", "swapcase", "title",
	"upper", "zfill", "splitlines",
}

// templateMethods are the methods templates may call on values: gonja's, with the str
// methods whose optional arguments gonja gets wrong replaced.
func templateMethods() exec.Methods {
	str := map[string]exec.Method[string]{}
	for _, name := range gonjaStrMethods {
		if m, ok := builtins.Methods.Str.Get(name); ok {
			str[name] = m
		}
	}
	for name, m := range map[string]func(string, []any) (any, error){
		"split": strSplit, "rsplit": strRSplit, "replace": strReplace, "strip": strStrip,
		"lstrip": strLStrip, "rstrip": strRStrip, "startswith": strStartsWith,
		"endswith": strEndsWith,
	} {
		str[name] = plainMethod(m)
	}
	m := builtins.Methods
	m.Str = exec.NewMethodSet(str)
	return m
}

func plainMethod(f func(string, []any) (any, error)) exec.Method[string] {
	return func(self string, _ *exec.Value, p *exec.VarArgs) (any, error) {
		args := make([]any, len(p.Args))
		for i, a := range p.Args {
			args[i] = plain(a)
		}
		for _, k := range []string{"sep", "maxsplit", "count"} {
			if v, ok := p.KwArgs[k]; ok {
				for len(args) < map[string]int{"sep": 0, "maxsplit": 1, "count": 2}[k] {
					args = append(args, nil)
				}
				args = append(args, plain(v))
			}
		}
		return f(self, args)
	}
}

func optString(args []any, i int) (string, bool) {
	if i < len(args) && args[i] != nil {
		s, ok := args[i].(string)
		return s, ok
	}
	return "", false
}

func optInt(args []any, i, def int) int {
	if i < len(args) {
		if n, ok := args[i].(int); ok {
			return n
		}
	}
	return def
}

func stringList(parts []string) []any {
	out := make([]any, len(parts))
	for i, p := range parts {
		out[i] = p
	}
	return out
}

// strSplit is Python's str.split(sep=None, maxsplit=-1).
func strSplit(s string, args []any) (any, error) {
	max := optInt(args, 1, -1)
	if sep, ok := optString(args, 0); ok {
		if sep == "" {
			return nil, fmt.Errorf("empty separator")
		}
		n := -1
		if max >= 0 {
			n = max + 1
		}
		return stringList(strings.SplitN(s, sep, n)), nil
	}
	return stringList(splitWhitespace(s, max)), nil
}

// splitWhitespace splits on runs of whitespace, at most max times (-1: no limit).
func splitWhitespace(s string, max int) []string {
	var out []string
	s = strings.TrimLeftFunc(s, unicode.IsSpace)
	for s != "" {
		if max >= 0 && len(out) == max {
			out = append(out, s)
			break
		}
		i := strings.IndexFunc(s, unicode.IsSpace)
		if i < 0 {
			out = append(out, s)
			break
		}
		out = append(out, s[:i])
		s = strings.TrimLeftFunc(s[i:], unicode.IsSpace)
	}
	if out == nil {
		out = []string{}
	}
	return out
}

// strRSplit is Python's str.rsplit(sep=None, maxsplit=-1).
func strRSplit(s string, args []any) (any, error) {
	max := optInt(args, 1, -1)
	if max < 0 {
		return strSplit(s, args)
	}
	sep, hasSep := optString(args, 0)
	var out []string
	for len(out) < max {
		if hasSep {
			i := strings.LastIndex(s, sep)
			if i < 0 {
				break
			}
			out = append([]string{s[i+len(sep):]}, out...)
			s = s[:i]
			continue
		}
		s = strings.TrimRightFunc(s, unicode.IsSpace)
		i := strings.LastIndexFunc(s, unicode.IsSpace)
		if i < 0 {
			break
		}
		out = append([]string{s[i+1:]}, out...)
		s = s[:i]
	}
	if !hasSep {
		s = strings.TrimRightFunc(s, unicode.IsSpace)
		if s == "" {
			return stringList(out), nil
		}
	}
	return stringList(append([]string{s}, out...)), nil
}

// strReplace is Python's str.replace(old, new, count=-1).
func strReplace(s string, args []any) (any, error) {
	old, ok1 := optString(args, 0)
	repl, ok2 := optString(args, 1)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("replace() expects two strings")
	}
	return strings.Replace(s, old, repl, optInt(args, 2, -1)), nil
}

func strStrip(s string, args []any) (any, error) {
	if chars, ok := optString(args, 0); ok {
		return strings.Trim(s, chars), nil
	}
	return strings.TrimSpace(s), nil
}

func strLStrip(s string, args []any) (any, error) {
	if chars, ok := optString(args, 0); ok {
		return strings.TrimLeft(s, chars), nil
	}
	return strings.TrimLeftFunc(s, unicode.IsSpace), nil
}

func strRStrip(s string, args []any) (any, error) {
	if chars, ok := optString(args, 0); ok {
		return strings.TrimRight(s, chars), nil
	}
	return strings.TrimRightFunc(s, unicode.IsSpace), nil
}

// affixes is a str or a tuple of them, as startswith/endswith take.
func affixes(args []any) ([]string, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("expected a prefix or suffix")
	}
	switch x := args[0].(type) {
	case string:
		return []string{x}, nil
	case []any:
		out := []string{}
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("tuple for startswith/endswith must only contain str")
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("startswith/endswith first arg must be str or a tuple of str")
}

func strStartsWith(s string, args []any) (any, error) {
	list, err := affixes(args)
	if err != nil {
		return nil, err
	}
	for _, a := range list {
		if strings.HasPrefix(s, a) {
			return true, nil
		}
	}
	return false, nil
}

func strEndsWith(s string, args []any) (any, error) {
	list, err := affixes(args)
	if err != nil {
		return nil, err
	}
	for _, a := range list {
		if strings.HasSuffix(s, a) {
			return true, nil
		}
	}
	return false, nil
}
