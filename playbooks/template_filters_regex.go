package playbooks

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/kpxdev/kpx/internal/pyvalue"
)

// compilePyRegex compiles a Python regular expression with Go's engine (RE2: no
// backreferences or lookaround in patterns; those are reported as errors).
func compilePyRegex(pattern string, ignorecase, multiline bool) (*regexp.Regexp, error) {
	flags := ""
	if ignorecase {
		flags += "i"
	}
	if multiline {
		flags += "m"
	}
	if flags != "" {
		pattern = "(?" + flags + ")" + pattern
	}
	pattern = strings.ReplaceAll(pattern, `\Z`, `\z`)
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("invalid regular expression: %v", err)
	}
	return re, nil
}

// pyReplacement converts a Python re.sub replacement (\1, \g<1>, \g<name>, \n) into Go's
// Expand template.
func pyReplacement(repl string) string {
	var b strings.Builder
	for i := 0; i < len(repl); i++ {
		c := repl[i]
		switch {
		case c == '$':
			b.WriteString("$$")
		case c == '\\' && i+1 < len(repl):
			n := repl[i+1]
			switch {
			case n >= '0' && n <= '9':
				j := i + 1
				for j < len(repl) && j < i+3 && repl[j] >= '0' && repl[j] <= '9' {
					j++
				}
				b.WriteString("${" + repl[i+1:j] + "}")
				i = j - 1
			case n == 'g' && i+2 < len(repl) && repl[i+2] == '<':
				end := strings.IndexByte(repl[i:], '>')
				if end < 0 {
					b.WriteByte(c)
					continue
				}
				b.WriteString("${" + repl[i+3:i+end] + "}")
				i += end
			case n == 'n':
				b.WriteByte('\n')
				i++
			case n == 't':
				b.WriteByte('\t')
				i++
			case n == '\\':
				b.WriteByte('\\')
				i++
			default:
				b.WriteByte(c)
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// filterRegexReplace is Ansible's regex_replace(pattern, replacement=”, ignorecase,
// multiline).
func filterRegexReplace(in any, args []any, kw map[string]any) (any, error) {
	re, err := compilePyRegex(pyvalue.Str(arg(args, kw, 0, "pattern", "")),
		truthy(arg(args, kw, 2, "ignorecase", false)), truthy(arg(args, kw, 3, "multiline", false)))
	if err != nil {
		return nil, err
	}
	repl := pyReplacement(pyvalue.Str(arg(args, kw, 1, "replacement", "")))
	return re.ReplaceAllString(pyvalue.Str(in), repl), nil
}

// filterRegexSearch is Ansible's regex_search(regex, *groups, ignorecase, multiline): the
// match, or the listed groups of it, or None.
func filterRegexSearch(in any, args []any, kw map[string]any) (any, error) {
	if len(args) < 1 {
		return nil, fmt.Errorf("regex_search expects a regex")
	}
	re, err := compilePyRegex(pyvalue.Str(args[0]), truthy(kw["ignorecase"]), truthy(kw["multiline"]))
	if err != nil {
		return nil, err
	}
	s := pyvalue.Str(in)
	m := re.FindStringSubmatchIndex(s)
	if m == nil {
		return nil, nil
	}
	if len(args) == 1 {
		return s[m[0]:m[1]], nil
	}
	out := []any{}
	for _, a := range args[1:] {
		idx, err := groupIndex(re, pyvalue.Str(a))
		if err != nil {
			return nil, err
		}
		if m[2*idx] < 0 {
			out = append(out, nil)
		} else {
			out = append(out, s[m[2*idx]:m[2*idx+1]])
		}
	}
	return out, nil
}

// groupIndex resolves a `\N` or `\g<name>` group reference.
func groupIndex(re *regexp.Regexp, ref string) (int, error) {
	switch {
	case strings.HasPrefix(ref, `\g<`) && strings.HasSuffix(ref, ">"):
		name := ref[3 : len(ref)-1]
		if i := re.SubexpIndex(name); i >= 0 {
			return i, nil
		}
		if i, err := strconv.Atoi(name); err == nil && i <= re.NumSubexp() {
			return i, nil
		}
	case strings.HasPrefix(ref, `\`):
		if i, err := strconv.Atoi(ref[1:]); err == nil && i <= re.NumSubexp() {
			return i, nil
		}
	default:
		return 0, fmt.Errorf("Unknown argument")
	}
	return 0, fmt.Errorf("invalid group reference %s", ref)
}

// filterRegexFindall is Python's re.findall: the matches, or the only group of each, or a
// list of the groups of each.
func filterRegexFindall(in any, args []any, kw map[string]any) (any, error) {
	re, err := compilePyRegex(pyvalue.Str(arg(args, kw, 0, "regex", "")),
		truthy(arg(args, kw, 2, "ignorecase", false)), truthy(arg(args, kw, 1, "multiline", false)))
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, m := range re.FindAllStringSubmatch(pyvalue.Str(in), -1) {
		switch len(m) {
		case 1:
			out = append(out, m[0])
		case 2:
			out = append(out, m[1])
		default:
			groups := make([]any, len(m)-1)
			for i, g := range m[1:] {
				groups[i] = g
			}
			out = append(out, groups)
		}
	}
	return out, nil
}

// filterRegexEscape is Python's re.escape.
func filterRegexEscape(in any, _ []any, _ map[string]any) (any, error) {
	var b strings.Builder
	for _, r := range pyvalue.Str(in) {
		if strings.ContainsRune("()[]{}?*+-|^$\\.&~# \t\n\r\v\f", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String(), nil
}
