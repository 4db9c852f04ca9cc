package inventory

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

var portRE = regexp.MustCompile(`^(.*[^:]):([0-9]+)$`)

// expandHostPattern splits an INI or YAML host key into host names (ranges expanded) and
// an optional port, as Ansible's _expand_hostpattern does.
func expandHostPattern(pat string) ([]string, *int, error) {
	var port *int
	name := pat
	if m := portRE.FindStringSubmatch(pat); m != nil && !strings.Contains(outsideBrackets(m[1]), ":") {
		if n, err := strconv.Atoi(m[2]); err == nil {
			name, port = m[1], &n
		}
	}
	if strings.HasSuffix(strings.TrimSpace(pat), ":") && port == nil {
		return nil, nil, fmt.Errorf("invalid host pattern %q: ending in ':' is not allowed, this character is reserved to provide a port", pat)
	}
	names, err := expandRange(name, 0)
	if err != nil {
		return nil, nil, err
	}
	for _, n := range names {
		if strings.TrimSpace(n) == "---" {
			return nil, nil, errors.New("invalid host pattern '---': this is normally a sign this is a YAML file")
		}
	}
	return names, port, nil
}

func outsideBrackets(s string) string {
	var b strings.Builder
	depth := 0
	for _, c := range s {
		switch {
		case c == '[':
			depth++
		case c == ']' && depth > 0:
			depth--
		case depth == 0:
			b.WriteRune(c)
		}
	}
	return b.String()
}

const maxRangeHosts = 1 << 20

// expandRange expands the first [beg:end(:step)] of s, recursively.
func expandRange(s string, depth int) ([]string, error) {
	open := strings.IndexByte(s, '[')
	cl := strings.IndexByte(s, ']')
	if open < 0 || cl < open || !strings.Contains(s[open:cl], ":") {
		return []string{s}, nil
	}
	head, nrange, tail := s[:open], s[open+1:cl], s[cl+1:]
	parts := strings.Split(nrange, ":")
	if len(parts) != 2 && len(parts) != 3 {
		return nil, fmt.Errorf("host range %q must be [beg:end] or [beg:end:step]", nrange)
	}
	beg, end, step := parts[0], parts[1], 1
	if len(parts) == 3 {
		n, err := strconv.Atoi(parts[2])
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("invalid host range step %q", parts[2])
		}
		step = n
	}
	if beg == "" {
		beg = "0"
	}
	if end == "" {
		return nil, fmt.Errorf("host range %q must specify end value", nrange)
	}
	seq, err := rangeValues(beg, end, step)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, v := range seq {
		rest, err := expandRange(tail, depth+1)
		if err != nil {
			return nil, err
		}
		for _, r := range rest {
			out = append(out, head+v+r)
			if len(out) > maxRangeHosts {
				return nil, fmt.Errorf("host range %q expands to too many hosts", s)
			}
		}
	}
	return out, nil
}

func rangeValues(beg, end string, step int) ([]string, error) {
	if isLowerLetter(beg) && isLowerLetter(end) || isUpperLetter(beg) && isUpperLetter(end) {
		var out []string
		for c := beg[0]; c <= end[0]; c += byte(step) {
			out = append(out, string(c))
			if int(c)+step > 255 {
				break
			}
		}
		return out, nil
	}
	b, err1 := strconv.Atoi(beg)
	e, err2 := strconv.Atoi(end)
	if err1 != nil || err2 != nil || b < 0 {
		return nil, fmt.Errorf("invalid host range [%s:%s]", beg, end)
	}
	width := 0
	if beg[0] == '0' && len(beg) > 1 {
		if len(beg) != len(end) {
			return nil, errors.New("host range must specify equal-length begin and end formats")
		}
		width = len(beg)
	}
	if e-b > maxRangeHosts*step {
		return nil, fmt.Errorf("host range [%s:%s] is too large", beg, end)
	}
	var out []string
	for i := b; i <= e; i += step {
		out = append(out, fmt.Sprintf("%0*d", width, i))
	}
	return out, nil
}

func isLowerLetter(s string) bool { return len(s) == 1 && s[0] >= 'a' && s[0] <= 'z' }
func isUpperLetter(s string) bool { return len(s) == 1 && s[0] >= 'A' && s[0] <= 'Z' }
