package playbooks

import (
	"regexp"
	"strings"
)

// kwMarker is the global function that carries a keyword argument of a test call, which
// gonja's parser does not accept: `x is match('a', ignorecase=True)` is read as
// `x is match('a', __kpx_kw('ignorecase', True))`.
const kwMarker = "__kpx_kw"

// globalKw builds the kwArg a rewritten test call passes.
func globalKw(name string, value any) kwArg { return kwArg{name: name, value: value} }

var (
	testCallStart = regexp.MustCompile(`\bis\s+(?:not\s+)?[A-Za-z_][\w.]*\s*\(`)
	kwArgument    = regexp.MustCompile(`^(\s*)([A-Za-z_]\w*)\s*=([^=].*)$`)
)

// rewriteTestKwargs rewrites the keyword arguments of test calls in the `{{ }}` and
// `{% %}` tags of src into kwMarker calls.
func rewriteTestKwargs(src string) string {
	if !strings.Contains(src, "=") || !strings.Contains(src, " is ") {
		return src
	}
	var b strings.Builder
	for len(src) > 0 {
		open := strings.Index(src, "{")
		if open < 0 || open+1 >= len(src) || (src[open+1] != '{' && src[open+1] != '%') {
			if open < 0 {
				b.WriteString(src)
				return b.String()
			}
			b.WriteString(src[:open+1])
			src = src[open+1:]
			continue
		}
		closer := "}}"
		if src[open+1] == '%' {
			closer = "%}"
		}
		end := tagEnd(src[open+2:], closer)
		if end < 0 {
			b.WriteString(src)
			return b.String()
		}
		b.WriteString(src[:open+2])
		b.WriteString(rewriteTagKwargs(src[open+2 : open+2+end]))
		src = src[open+2+end:]
	}
	return b.String()
}

// tagEnd is the index of closer in s outside string literals, or -1.
func tagEnd(s, closer string) int {
	var quote byte
	for i := 0; i < len(s); i++ {
		switch {
		case quote != 0:
			if s[i] == quote {
				quote = 0
			}
		case s[i] == '\'' || s[i] == '"':
			quote = s[i]
		case strings.HasPrefix(s[i:], closer):
			return i
		}
	}
	return -1
}

// rewriteTagKwargs rewrites the test calls in one tag's expression text.
func rewriteTagKwargs(expr string) string {
	var b strings.Builder
	for {
		loc := findOutsideStrings(expr, testCallStart)
		if loc == nil {
			b.WriteString(expr)
			return b.String()
		}
		b.WriteString(expr[:loc[1]])
		args, rest, ok := splitCallArgs(expr[loc[1]:])
		if !ok {
			b.WriteString(expr[loc[1]:])
			return b.String()
		}
		for i, a := range args {
			if m := kwArgument.FindStringSubmatch(a); m != nil {
				args[i] = m[1] + kwMarker + "('" + m[2] + "', " + m[3] + ")"
			}
		}
		b.WriteString(strings.Join(args, ",") + ")")
		expr = rest
	}
}

// findOutsideStrings finds re in s where the match does not start inside a string literal.
func findOutsideStrings(s string, re *regexp.Regexp) []int {
	offset := 0
	for {
		loc := re.FindStringIndex(s[offset:])
		if loc == nil {
			return nil
		}
		start := offset + loc[0]
		if !insideString(s, start) {
			return []int{start, offset + loc[1]}
		}
		offset = start + 1
	}
}

func insideString(s string, pos int) bool {
	var quote byte
	for i := 0; i < pos; i++ {
		switch {
		case quote != 0 && s[i] == quote:
			quote = 0
		case quote == 0 && (s[i] == '\'' || s[i] == '"'):
			quote = s[i]
		}
	}
	return quote != 0
}

// splitCallArgs splits s, the text after a call's "(", at its top-level commas up to the
// matching ")", returning the arguments and the text after the ")".
func splitCallArgs(s string) (args []string, rest string, ok bool) {
	depth, start := 0, 0
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '(' || c == '[' || c == '{':
			depth++
		case c == ')' && depth == 0:
			return append(args, s[start:i]), s[i+1:], true
		case c == ')' || c == ']' || c == '}':
			depth--
		case c == ',' && depth == 0:
			args = append(args, s[start:i])
			start = i + 1
		}
	}
	return nil, "", false
}
