package inventory

import (
	"errors"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
)

var errNotLiteral = errors.New("not a Python literal")

// parseLiteral types an INI value as Ansible does with ast.literal_eval: ints, floats,
// True/False/None, quoted strings, lists, tuples, dicts; anything else stays the string.
func parseLiteral(s string) any {
	p := &litParser{s: strings.TrimLeft(s, " \t")}
	v, err := p.value(0)
	if err != nil {
		return s
	}
	p.space()
	if p.i != len(p.s) {
		return s
	}
	return v
}

type litParser struct {
	s string
	i int
}

func (p *litParser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *litParser) value(depth int) (any, error) {
	if depth > 100 {
		return nil, errNotLiteral
	}
	p.space()
	if p.i >= len(p.s) {
		return nil, errNotLiteral
	}
	switch c := p.s[p.i]; {
	case c == '[':
		return p.seq(']', depth)
	case c == '(':
		return p.seq(')', depth)
	case c == '{':
		return p.dict(depth)
	case c == '"' || c == '\'':
		return p.str()
	case c == '-' || c == '+':
		p.i++
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		return negate(v, c == '-')
	case c >= '0' && c <= '9' || c == '.':
		return p.number()
	default:
		j := p.i
		for j < len(p.s) && (isIdent(p.s[j])) {
			j++
		}
		word := p.s[p.i:j]
		p.i = j
		switch word {
		case "True":
			return true, nil
		case "False":
			return false, nil
		case "None":
			return nil, nil
		}
		return nil, errNotLiteral
	}
}

func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func negate(v any, neg bool) (any, error) {
	switch n := v.(type) {
	case int:
		if neg {
			return -n, nil
		}
		return n, nil
	case *big.Int:
		if neg {
			return new(big.Int).Neg(n), nil
		}
		return n, nil
	case float64:
		if neg {
			return -n, nil
		}
		return n, nil
	case bool: // -True is -1 in Python
		i := 0
		if n {
			i = 1
		}
		if neg {
			i = -i
		}
		return i, nil
	}
	return nil, errNotLiteral
}

func (p *litParser) seq(closer byte, depth int) (any, error) {
	p.i++
	out := []any{}
	for {
		p.space()
		if p.i < len(p.s) && p.s[p.i] == closer {
			p.i++
			return out, nil
		}
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		p.space()
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
			continue
		}
		if p.i < len(p.s) && p.s[p.i] == closer {
			if closer == ')' && len(out) == 1 { // (x) is x, not a tuple
				p.i++
				return out[0], nil
			}
			continue
		}
		return nil, errNotLiteral
	}
}

func (p *litParser) dict(depth int) (any, error) {
	p.i++
	out := map[string]any{}
	for {
		p.space()
		if p.i < len(p.s) && p.s[p.i] == '}' {
			p.i++
			return out, nil
		}
		k, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return nil, errNotLiteral // also sets, which JSON cannot hold
		}
		p.i++
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		ks, ok := k.(string)
		if !ok {
			return nil, errNotLiteral
		}
		out[ks] = v
		p.space()
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
		} else if p.i >= len(p.s) || p.s[p.i] != '}' {
			return nil, errNotLiteral
		}
	}
}

func (p *litParser) number() (any, error) {
	j := p.i
	for j < len(p.s) && (isIdent(p.s[j]) || p.s[j] == '.' ||
		(p.s[j] == '+' || p.s[j] == '-') && j > p.i && (p.s[j-1] == 'e' || p.s[j-1] == 'E')) {
		j++
	}
	tok := p.s[p.i:j]
	p.i = j
	if strings.HasSuffix(tok, "_") || strings.Contains(tok, "__") {
		return nil, errNotLiteral
	}
	clean := strings.ReplaceAll(tok, "_", "")
	lower := strings.ToLower(clean)
	base := 10
	digits := clean
	switch {
	case strings.HasPrefix(lower, "0x"):
		base, digits = 16, clean[2:]
	case strings.HasPrefix(lower, "0o"):
		base, digits = 8, clean[2:]
	case strings.HasPrefix(lower, "0b"):
		base, digits = 2, clean[2:]
	}
	if base == 10 && strings.ContainsAny(lower, ".e") {
		if strings.ContainsAny(lower, "xjn") || lower == "." {
			return nil, errNotLiteral
		}
		f, err := strconv.ParseFloat(clean, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return nil, errNotLiteral
		}
		return f, nil
	}
	if digits == "" || base == 10 && len(digits) > 1 && digits[0] == '0' && strings.Trim(digits, "0") != "" {
		return nil, errNotLiteral // 0755 is a syntax error in Python 3
	}
	n, ok := new(big.Int).SetString(digits, base)
	if !ok {
		return nil, errNotLiteral
	}
	if n.IsInt64() {
		return int(n.Int64()), nil
	}
	return n, nil
}

func (p *litParser) str() (any, error) {
	q := p.s[p.i]
	var b strings.Builder
	for {
		// adjacent string literals concatenate
		p.i++
		for {
			if p.i >= len(p.s) {
				return nil, errNotLiteral
			}
			c := p.s[p.i]
			if c == q {
				p.i++
				break
			}
			if c == '\\' && p.i+1 < len(p.s) {
				p.i++
				p.escape(&b)
				continue
			}
			r, n := utf8.DecodeRuneInString(p.s[p.i:])
			b.WriteRune(r)
			p.i += n
		}
		save := p.i
		p.space()
		if p.i < len(p.s) && (p.s[p.i] == '"' || p.s[p.i] == '\'') {
			q = p.s[p.i]
			continue
		}
		p.i = save
		return b.String(), nil
	}
}

func (p *litParser) escape(b *strings.Builder) {
	c := p.s[p.i]
	p.i++
	simple := map[byte]string{'n': "\n", 't': "\t", 'r': "\r", '\\': "\\", '\'': "'", '"': "\"", 'a': "\a", 'b': "\b", 'f': "\f", 'v': "\v", '0': "\x00", '\n': ""}
	if s, ok := simple[c]; ok {
		b.WriteString(s)
		return
	}
	width := map[byte]int{'x': 2, 'u': 4, 'U': 8}[c]
	if width > 0 && p.i+width <= len(p.s) {
		if n, err := strconv.ParseUint(p.s[p.i:p.i+width], 16, 32); err == nil && utf8.ValidRune(rune(n)) {
			b.WriteRune(rune(n))
			p.i += width
			return
		}
	}
	b.WriteByte('\\')
	b.WriteByte(c)
}

func toInt(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case string:
		i, err := strconv.Atoi(strings.TrimSpace(n))
		return i, err == nil
	case float64:
		return int(n), true
	case bool:
		if n {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}
