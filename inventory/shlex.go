package inventory

import (
	"errors"
	"strings"
)

// shlexSplit splits a line as Python's shlex.split(line, comments=True) does in POSIX mode:
// whitespace separates words, quotes group, backslash escapes, # starts a comment.
func shlexSplit(s string) ([]string, error) {
	var out []string
	var tok strings.Builder
	inTok := false
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			if inTok {
				out = append(out, tok.String())
				tok.Reset()
				inTok = false
			}
		case c == '#':
			if inTok {
				out = append(out, tok.String())
			}
			return out, nil
		case c == '\\':
			inTok = true
			if i+1 >= len(rs) {
				return nil, errors.New("no escaped character")
			}
			i++
			tok.WriteRune(rs[i])
		case c == '\'':
			inTok = true
			j := i + 1
			for j < len(rs) && rs[j] != '\'' {
				j++
			}
			if j >= len(rs) {
				return nil, errors.New("no closing quotation")
			}
			tok.WriteString(string(rs[i+1 : j]))
			i = j
		case c == '"':
			inTok = true
			j := i + 1
			for ; j < len(rs) && rs[j] != '"'; j++ {
				if rs[j] == '\\' && j+1 < len(rs) && (rs[j+1] == '"' || rs[j+1] == '\\') {
					j++
				}
				tok.WriteRune(rs[j])
			}
			if j >= len(rs) {
				return nil, errors.New("no closing quotation")
			}
			i = j
		default:
			inTok = true
			tok.WriteRune(c)
		}
	}
	if inTok {
		out = append(out, tok.String())
	}
	return out, nil
}
