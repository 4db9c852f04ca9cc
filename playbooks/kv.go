package playbooks

import (
	"errors"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// rawParamsKey holds the free-form part of a module's arguments ("echo hi" in
// `command: echo hi`), as in Ansible.
const rawParamsKey = "_raw_params"

// commandOptions are the options command-like modules accept inline in their free form
// (`command: chdir=/tmp make`); any other k=v there belongs to the command itself.
var commandOptions = map[string]bool{
	"creates": true, "removes": true, "chdir": true, "executable": true, "warn": true,
	"stdin": true, "stdin_add_newline": true, "strip_empty_ends": true,
}

var errUnbalanced = errors.New("failed at splitting arguments, either an unbalanced jinja2 block or quotes")

// parseKV turns a module's inline argument string ("path=/x state=touch") into arguments the
// way Ansible does: values may be quoted, Jinja2 expressions stay whole, and whatever is not
// key=value is joined into _raw_params. With freeForm (command-like modules) only the known
// command options are taken as key=value.
func parseKV(s string, freeForm bool) (map[string]any, error) {
	params, err := splitArgs(s)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	var raw []string
	for _, orig := range params {
		x, err := decodeEscapes(orig)
		if err != nil {
			return nil, err
		}
		eq := unescapedEquals(x)
		switch {
		case !strings.Contains(x, "="):
			raw = append(raw, orig)
		case eq < 0:
			raw = append(raw, strings.ReplaceAll(x, `\=`, "="))
		case freeForm && !commandOptions[x[:eq]]:
			raw = append(raw, orig)
		default:
			out[pyStrip(x[:eq])] = unquote(pyStrip(x[eq+1:]))
		}
	}
	if len(raw) > 0 {
		out[rawParamsKey] = joinArgs(raw)
	}
	return out, nil
}

// unescapedEquals is the index of the first '=' after the first byte that no backslash
// precedes, or -1.
func unescapedEquals(x string) int {
	for i := 1; i < len(x); i++ {
		if x[i] == '=' && x[i-1] != '\\' {
			return i
		}
	}
	return -1
}

// splitArgs splits an argument string on spaces, keeping quoted strings and Jinja2 blocks
// ({{ }}, {% %}, {# #}) whole, and newlines inside them. Runs of spaces are kept on the
// preceding word so that free-form commands survive a split and join unchanged.
func splitArgs(s string) ([]string, error) {
	var sp splitter
	lines := strings.Split(s, "\n")
	for i, line := range lines {
		continued, err := sp.line(line)
		if err != nil {
			return nil, err
		}
		if len(lines) > 1 && i != len(lines)-1 && !continued {
			if len(sp.params) == 0 {
				return nil, errors.New("unable to parse argument string")
			}
			sp.params[len(sp.params)-1] += "\n"
		}
	}
	if sp.quote != 0 || sp.inJinja() {
		return nil, errUnbalanced
	}
	return sp.params, nil
}

type splitter struct {
	params []string
	quote  rune   // the open quote character, or 0
	depth  [3]int // open {{, {% and {# blocks
}

var jinjaDelims = [3][2]string{{"{{", "}}"}, {"{%", "%}"}, {"{#", "#}"}}

func (sp *splitter) inJinja() bool { return sp.depth != [3]int{} }

// line consumes one line; it reports whether the line ended in a continuation backslash.
func (sp *splitter) line(line string) (continued bool, err error) {
	tokens := strings.Split(line, " ")
	for i, tok := range tokens {
		if tok == "" && i != 0 {
			if len(sp.params) == 0 {
				return false, errors.New("unable to parse argument string")
			}
			sp.params[len(sp.params)-1] += " "
			continue
		}
		if tok == `\` && sp.quote == 0 {
			continued = true
			continue
		}
		wasQuoted := sp.quote != 0
		sp.quote = quoteState(tok, sp.quote)
		appended := false
		switch {
		case sp.quote != 0 && !wasQuoted && !sp.inJinja():
			sp.params = append(sp.params, tok)
			appended = true
		case sp.inJinja() || sp.quote != 0 || wasQuoted:
			if len(sp.params) == 0 {
				return false, errUnbalanced
			}
			last := &sp.params[len(sp.params)-1]
			switch {
			case i == 0 && wasQuoted:
				*last += tok
			case len(tokens) > 1 && i > 0:
				*last += " " + tok
			case len(tokens) > 1:
				*last += tok
			default:
				*last += "\n" + tok
			}
			appended = true
		}
		for k, d := range jinjaDelims {
			before := sp.depth[k]
			sp.depth[k] = blockDepth(tok, before, d[0], d[1])
			if sp.depth[k] != before && !appended {
				sp.params = append(sp.params, tok)
				appended = true
			}
		}
		if !sp.inJinja() && sp.quote == 0 && !appended && tok != "" {
			sp.params = append(sp.params, tok)
		}
	}
	return continued, nil
}

// quoteState returns the quote still open after tok, given the one open before it.
func quoteState(tok string, open rune) rune {
	var prev rune
	for _, c := range tok {
		if (c == '"' || c == '\'') && prev != '\\' {
			switch {
			case open == 0:
				open = c
			case c == open:
				open = 0
			}
		}
		prev = c
	}
	return open
}

func blockDepth(tok string, depth int, open, close string) int {
	n := strings.Count(tok, open) - strings.Count(tok, close)
	if n == 0 {
		return depth
	}
	return max(depth+n, 0)
}

// joinArgs joins split words back with single spaces, keeping the newlines they carry.
func joinArgs(words []string) string {
	var b strings.Builder
	for _, w := range words {
		if b.Len() > 0 && !strings.HasSuffix(b.String(), "\n") {
			b.WriteByte(' ')
		}
		b.WriteString(w)
	}
	return b.String()
}

// unquote removes one pair of matching outer quotes.
func unquote(s string) string {
	if len(s) > 1 && s[0] == s[len(s)-1] && (s[0] == '"' || s[0] == '\'') && s[len(s)-2] != '\\' {
		return s[1 : len(s)-1]
	}
	return s
}

// pyStrip trims what Python's str.strip trims: Unicode white space plus the ASCII
// separators U+001C..U+001F.
func pyStrip(s string) string {
	return strings.TrimFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
	})
}

// decodeEscapes decodes backslash escapes (\n, \t, \\, \", \', \xHH, \uHHHH, \UHHHHHHHH,
// ...) the way Ansible does before splitting key=value pairs. Unknown escapes stay as
// written. \N{NAME} (Unicode names) is kept as written.
func decodeEscapes(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		c := s[i+1]
		if r, ok := simpleEscapes[c]; ok {
			b.WriteRune(r)
			i++
			continue
		}
		width := map[byte]int{'x': 2, 'u': 4, 'U': 8}[c]
		if width == 0 || i+2+width > len(s) || !isHex(s[i+2:i+2+width]) {
			b.WriteByte(s[i])
			continue
		}
		v, _ := strconv.ParseUint(s[i+2:i+2+width], 16, 32)
		if v > unicode.MaxRune {
			return "", errors.New("invalid escape sequence " + s[i:i+2+width])
		}
		if !utf8.ValidRune(rune(v)) {
			// A lone surrogate: Python keeps it; Go strings cannot hold it.
			v = utf8.RuneError
		}
		b.WriteRune(rune(v))
		i += 1 + width
	}
	return b.String(), nil
}

var simpleEscapes = map[byte]rune{
	'\\': '\\', '\'': '\'', '"': '"', 'a': '\a', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t', 'v': '\v',
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
