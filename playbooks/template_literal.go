package playbooks

import (
	"errors"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kpxdev/kpx/internal/pyvalue"
)

// literalOrText is what Ansible does with a template's output text: when it starts with
// `{` or `[`, or is True or False, and reads as a Python literal (JSON's true, false and
// null accepted too), the literal's value; otherwise the text.
func literalOrText(out string) any {
	if !strings.HasPrefix(out, "{") && !strings.HasPrefix(out, "[") && out != "True" && out != "False" {
		return out
	}
	v, err := parsePyLiteral(out)
	if err != nil {
		return out
	}
	return v
}

var errNotLiteral = errors.New("not a Python literal")

// pyLiteralParser reads the subset of Python expressions ast.literal_eval accepts that
// matter for templates: strings, numbers, True/False/None, lists, tuples and dicts.
type pyLiteralParser struct {
	s   string
	pos int
}

func parsePyLiteral(s string) (any, error) {
	p := &pyLiteralParser{s: s}
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.pos != len(p.s) {
		return nil, errNotLiteral
	}
	return v, nil
}

func (p *pyLiteralParser) space() {
	for p.pos < len(p.s) {
		switch c := p.s[p.pos]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			p.pos++
		case c == '\\' && strings.HasPrefix(p.s[p.pos:], "\\\n"):
			p.pos += 2
		case c == '#':
			for p.pos < len(p.s) && p.s[p.pos] != '\n' {
				p.pos++
			}
		default:
			return
		}
	}
}

func (p *pyLiteralParser) peek() byte {
	p.space()
	if p.pos >= len(p.s) {
		return 0
	}
	return p.s[p.pos]
}

func (p *pyLiteralParser) value() (any, error) {
	switch c := p.peek(); {
	case c == '[':
		p.pos++
		return p.sequence(']')
	case c == '(':
		p.pos++
		return p.sequence(')')
	case c == '{':
		p.pos++
		return p.dict()
	case c == '\'' || c == '"':
		return p.strings()
	case c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9'):
		return p.number()
	case c == 'r' || c == 'R' || c == 'u' || c == 'U':
		if p.pos+1 < len(p.s) && (p.s[p.pos+1] == '\'' || p.s[p.pos+1] == '"') {
			return p.strings()
		}
	}
	return p.name()
}

func (p *pyLiteralParser) name() (any, error) {
	start := p.pos
	for p.pos < len(p.s) && (isIdentByte(p.s[p.pos])) {
		p.pos++
	}
	switch p.s[start:p.pos] {
	case "True", "true":
		return true, nil
	case "False", "false":
		return false, nil
	case "None", "null":
		return nil, nil
	}
	return nil, errNotLiteral
}

func isIdentByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// sequence reads list or tuple items up to end; a parenthesised single item without a
// comma is that item, as in Python.
func (p *pyLiteralParser) sequence(end byte) (any, error) {
	items := []any{}
	comma := false
	for {
		if p.peek() == end {
			p.pos++
			break
		}
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		items = append(items, v)
		switch p.peek() {
		case ',':
			p.pos++
			comma = true
		case end:
		default:
			return nil, errNotLiteral
		}
	}
	if end == ')' && len(items) == 1 && !comma {
		return items[0], nil
	}
	return items, nil
}

func (p *pyLiteralParser) dict() (any, error) {
	m := map[string]any{}
	for {
		if p.peek() == '}' {
			p.pos++
			return m, nil
		}
		k, err := p.value()
		if err != nil {
			return nil, err
		}
		if p.peek() != ':' {
			return nil, errNotLiteral // a set, or garbage
		}
		p.pos++
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		m[pyvalue.Str(k)] = v
		switch p.peek() {
		case ',':
			p.pos++
		case '}':
		default:
			return nil, errNotLiteral
		}
	}
}

func (p *pyLiteralParser) number() (any, error) {
	start := p.pos
	neg := false
	for p.pos < len(p.s) && (p.s[p.pos] == '-' || p.s[p.pos] == '+') {
		if p.s[p.pos] == '-' {
			neg = !neg
		}
		p.pos++
		p.space()
	}
	numStart := p.pos
	for p.pos < len(p.s) && (isIdentByte(p.s[p.pos]) || p.s[p.pos] == '.' ||
		((p.s[p.pos] == '-' || p.s[p.pos] == '+') && (p.s[p.pos-1] == 'e' || p.s[p.pos-1] == 'E'))) {
		p.pos++
	}
	text := strings.ReplaceAll(p.s[numStart:p.pos], "_", "")
	if text == "" {
		p.pos = start
		return nil, errNotLiteral
	}
	if i, ok := parsePyInt(text); ok {
		if neg {
			i.Neg(i)
		}
		return normInt(i), nil
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || strings.ContainsAny(text, "xXoObB") {
		return nil, errNotLiteral
	}
	if neg {
		f = -f
	}
	return f, nil
}

// parsePyInt parses a Python integer literal (decimal without leading zeros, 0x, 0o, 0b).
func parsePyInt(text string) (*big.Int, bool) {
	base := 10
	digits := text
	if len(text) > 2 && text[0] == '0' {
		switch text[1] {
		case 'x', 'X':
			base, digits = 16, text[2:]
		case 'o', 'O':
			base, digits = 8, text[2:]
		case 'b', 'B':
			base, digits = 2, text[2:]
		}
	}
	if base == 10 && len(text) > 1 && text[0] == '0' && strings.Trim(text, "0") != "" {
		return nil, false
	}
	i, ok := new(big.Int).SetString(digits, base)
	return i, ok
}

// normInt returns i as an int when it fits, else the *big.Int.
func normInt(i *big.Int) any {
	if i.IsInt64() && int64(int(i.Int64())) == i.Int64() {
		return int(i.Int64())
	}
	return i
}

// strings reads one or more adjacent string literals, which Python concatenates.
func (p *pyLiteralParser) strings() (any, error) {
	var b strings.Builder
	for {
		c := p.peek()
		if c != '\'' && c != '"' && c != 'r' && c != 'R' && c != 'u' && c != 'U' {
			break
		}
		if c != '\'' && c != '"' && (p.pos+1 >= len(p.s) || (p.s[p.pos+1] != '\'' && p.s[p.pos+1] != '"')) {
			break
		}
		if err := p.oneString(&b); err != nil {
			return nil, err
		}
	}
	return b.String(), nil
}

func (p *pyLiteralParser) oneString(b *strings.Builder) error {
	raw := false
	switch p.s[p.pos] {
	case 'r', 'R':
		raw = true
		p.pos++
	case 'u', 'U':
		p.pos++
	}
	q := p.s[p.pos : p.pos+1]
	if strings.HasPrefix(p.s[p.pos:], q+q+q) {
		q = q + q + q
	}
	p.pos += len(q)
	for {
		if p.pos >= len(p.s) {
			return errNotLiteral
		}
		if strings.HasPrefix(p.s[p.pos:], q) {
			p.pos += len(q)
			return nil
		}
		c := p.s[p.pos]
		if c == '\n' && len(q) == 1 {
			return errNotLiteral
		}
		if c == '\\' && p.pos+1 < len(p.s) {
			if raw {
				b.WriteString(p.s[p.pos : p.pos+2])
				p.pos += 2
				continue
			}
			if err := p.escape(b); err != nil {
				return err
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(p.s[p.pos:])
		b.WriteRune(r)
		p.pos += size
	}
}

// escape reads one backslash escape of a (non-raw) Python string.
func (p *pyLiteralParser) escape(b *strings.Builder) error {
	c := p.s[p.pos+1]
	p.pos += 2
	simple := map[byte]string{'\\': "\\", '\'': "'", '"': "\"", 'n': "\n", 't': "\t", 'r': "\r",
		'a': "\a", 'b': "\b", 'f': "\f", 'v': "\v", '\n': ""}
	if s, ok := simple[c]; ok {
		b.WriteString(s)
		return nil
	}
	hexLen := map[byte]int{'x': 2, 'u': 4, 'U': 8}[c]
	if hexLen > 0 {
		if p.pos+hexLen > len(p.s) {
			return errNotLiteral
		}
		n, err := strconv.ParseUint(p.s[p.pos:p.pos+hexLen], 16, 32)
		if err != nil {
			return errNotLiteral
		}
		p.pos += hexLen
		b.WriteRune(rune(n))
		return nil
	}
	if c >= '0' && c <= '7' {
		end := p.pos - 1
		for end < len(p.s) && end < p.pos+2 && p.s[end] >= '0' && p.s[end] <= '7' {
			end++
		}
		n, _ := strconv.ParseUint(p.s[p.pos-1:end], 8, 32)
		p.pos = end
		b.WriteRune(rune(n))
		return nil
	}
	b.WriteByte('\\')
	b.WriteByte(c)
	return nil
}
