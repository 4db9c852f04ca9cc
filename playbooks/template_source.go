package playbooks

import "strings"

// escapeBackslashes prepares template source for gonja so string literals mean what they
// mean to Ansible. Ansible doubles every backslash inside string literals of `{{ }}`
// (so '\d' in a regex reaches the filter as \d); inside `{% %}` Python's escapes apply
// and unknown ones (\d) stay as they are. gonja reads string literals with Go's escapes
// and rejects unknown ones, so: in `{{ }}` every backslash is doubled, and in `{% %}`
// those not starting a known escape are. `{% raw %}` blocks and comments are left alone.
func escapeBackslashes(src string) string {
	if !strings.Contains(src, `\`) {
		return src
	}
	var b strings.Builder
	for i := 0; i < len(src); {
		switch {
		case strings.HasPrefix(src[i:], "{#"):
			end := strings.Index(src[i:], "#}")
			if end < 0 {
				b.WriteString(src[i:])
				return b.String()
			}
			b.WriteString(src[i : i+end+2])
			i += end + 2
		case isRawStart(src[i:]):
			end := rawEnd(src[i:])
			b.WriteString(src[i : i+end])
			i += end
		case strings.HasPrefix(src[i:], "{{"), strings.HasPrefix(src[i:], "{%"):
			closer := "}}"
			if src[i+1] == '%' {
				closer = "%}"
			}
			n := escapeTag(&b, src[i:], closer, closer == "}}")
			i += n
		default:
			b.WriteByte(src[i])
			i++
		}
	}
	return b.String()
}

// escapeTag copies one tag (from its opener to closer) with its string literals escaped,
// returning how much of src it consumed.
func escapeTag(b *strings.Builder, src, closer string, all bool) int {
	b.WriteString(src[:2])
	i := 2
	for i < len(src) {
		if strings.HasPrefix(src[i:], closer) {
			b.WriteString(closer)
			return i + 2
		}
		c := src[i]
		if c != '\'' && c != '"' {
			b.WriteByte(c)
			i++
			continue
		}
		b.WriteByte(c)
		i++
		for i < len(src) && src[i] != c {
			if src[i] == '\\' && i+1 < len(src) {
				if all || !knownEscape(src[i+1]) {
					b.WriteString(`\\`)
					i++
					continue
				}
				b.WriteString(src[i : i+2])
				i += 2
				continue
			}
			b.WriteByte(src[i])
			i++
		}
		if i < len(src) {
			b.WriteByte(c)
			i++
		}
	}
	return i
}

// knownEscape reports whether \c is an escape both Python and Go understand.
func knownEscape(c byte) bool {
	return strings.IndexByte(`\'"abfnrtvxuU01234567`, c) >= 0
}

func isRawStart(s string) bool {
	if !strings.HasPrefix(s, "{%") {
		return false
	}
	rest := strings.TrimLeft(s[2:], "-+ \t\n")
	return strings.HasPrefix(rest, "raw") && len(rest) > 3 && strings.IndexByte(" \t\n-%", rest[3]) >= 0
}

// rawEnd is the length of a raw block up to and including its endraw tag, or all of s.
func rawEnd(s string) int {
	i := strings.Index(s, "endraw")
	if i < 0 {
		return len(s)
	}
	j := strings.Index(s[i:], "%}")
	if j < 0 {
		return len(s)
	}
	return i + j + 2
}
