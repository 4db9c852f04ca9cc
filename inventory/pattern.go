package inventory

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/kpxdev/kpx/internal/fnmatch"
)

// PatternError is a host pattern Ansible would refuse (a bad regex, an out-of-range
// subscript, an unreadable @limit file).
type PatternError struct {
	Pattern string
	Msg     string
}

func (e *PatternError) Error() string { return fmt.Sprintf("host pattern %q: %s", e.Pattern, e.Msg) }

var (
	addressRE = regexp.MustCompile(`^(?:[a-zA-Z0-9_-]|\[[a-zA-Z0-9]*:[a-zA-Z0-9]+(?::[0-9]+)?\])(?:[a-zA-Z0-9_.-]|\[[a-zA-Z0-9]*:[a-zA-Z0-9]+(?::[0-9]+)?\])*(?::[0-9]+)?$`)
	splitRE   = regexp.MustCompile(`(?:[^\s:\[\]]|\[[^\]]*\])+`)
	subRE     = regexp.MustCompile(`^(.+)\[(?:(-?[0-9]+)|([0-9]+)([:-])([0-9]*))\]$`)
)

// SplitPattern splits a host pattern into its parts as Ansible's split_host_pattern does:
// on commas if there are any, else on colons outside brackets (a single address such as
// host:22 or web[01:10] stays whole).
func SplitPattern(pattern string) []string {
	var parts []string
	switch {
	case strings.Contains(pattern, ","):
		parts = strings.Split(pattern, ",")
	case addressRE.MatchString(pattern):
		parts = []string{pattern}
	default:
		parts = splitRE.FindAllString(pattern, -1)
	}
	out := parts[:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// orderPatterns puts plain patterns first, then intersections (&), then exclusions (!);
// with no plain pattern, "all" is assumed.
func orderPatterns(ps []string) []string {
	var regular, and, not []string
	for _, p := range ps {
		switch {
		case p == "":
		case p[0] == '!':
			not = append(not, p)
		case p[0] == '&':
			and = append(and, p)
		default:
			regular = append(regular, p)
		}
	}
	if len(regular) == 0 {
		regular = []string{"all"}
	}
	return append(append(regular, and...), not...)
}

// Match returns the hosts a pattern selects, in Ansible's order. Warnings for parts
// that match nothing are returned alongside.
func (inv *Inventory) Match(pattern string) ([]*Host, []string, error) {
	return inv.evaluate(SplitPattern(pattern))
}

// MatchLimit returns the hosts pattern selects, restricted by limit (same grammar, and
// @file names a file with one pattern per line), as `ansible PATTERN --limit LIMIT`.
func (inv *Inventory) MatchLimit(pattern, limit string) ([]*Host, []string, error) {
	hosts, warns, err := inv.Match(pattern)
	if err != nil || limit == "" {
		return hosts, warns, err
	}
	var subset []string
	for _, p := range SplitPattern(limit) {
		if p[0] != '@' {
			subset = append(subset, p)
			continue
		}
		data, err := os.ReadFile(p[1:])
		if err != nil {
			return nil, warns, &PatternError{Pattern: p, Msg: "unable to read limit file: " + err.Error()}
		}
		for _, l := range strings.Split(string(data), "\n") {
			subset = append(subset, strings.TrimSpace(l))
		}
	}
	allowed, w2, err := inv.evaluate(subset)
	warns = append(warns, w2...)
	if err != nil {
		return nil, warns, err
	}
	in := make(map[*Host]bool, len(allowed))
	for _, h := range allowed {
		in[h] = true
	}
	out := hosts[:0:0]
	for _, h := range hosts {
		if in[h] {
			out = append(out, h)
		}
	}
	return out, warns, nil
}

func (inv *Inventory) evaluate(parts []string) ([]*Host, []string, error) {
	var hosts []*Host
	var warns []string
	for _, p := range orderPatterns(parts) {
		if h := inv.hosts[p]; h != nil {
			hosts = append(hosts, h)
			continue
		}
		that, w, err := inv.matchOne(p)
		warns = append(warns, w...)
		if err != nil {
			return nil, warns, err
		}
		hosts = combine(hosts, that, p[0])
	}
	return dedupe(hosts), warns, nil
}

func combine(hosts, that []*Host, op byte) []*Host {
	set := make(map[*Host]bool, len(that))
	for _, h := range that {
		set[h] = true
	}
	switch op {
	case '!', '&':
		out := hosts[:0:0]
		for _, h := range hosts {
			if set[h] == (op == '&') {
				out = append(out, h)
			}
		}
		return out
	}
	have := make(map[*Host]bool, len(hosts))
	for _, h := range hosts {
		have[h] = true
	}
	for _, h := range that {
		if !have[h] {
			hosts = append(hosts, h)
		}
	}
	return hosts
}

func dedupe(hosts []*Host) []*Host {
	seen := make(map[*Host]bool, len(hosts))
	out := hosts[:0:0]
	for _, h := range hosts {
		if !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	return out
}

func (inv *Inventory) matchOne(p string) ([]*Host, []string, error) {
	if p[0] == '&' || p[0] == '!' {
		p = p[1:]
	}
	if p == "" {
		return nil, nil, nil
	}
	expr, sub := splitSubscript(p)
	hosts, warns, err := inv.enumerate(expr)
	if err != nil {
		return nil, warns, err
	}
	if sub == nil {
		return hosts, warns, nil
	}
	// Ansible 2.14 raises "No hosts matched the subscripted pattern" for an index out of
	// range, but the CLI swallows it: the pattern simply selects nothing.
	out, _ := sub.apply(hosts)
	return out, warns, nil
}

type subscript struct {
	start, end int
	isRange    bool
}

func splitSubscript(p string) (string, *subscript) {
	if p[0] == '~' {
		return p, nil
	}
	m := subRE.FindStringSubmatch(p)
	if m == nil {
		return p, nil
	}
	if m[2] != "" {
		n, err := strconv.Atoi(m[2])
		if err != nil {
			return p, nil
		}
		return m[1], &subscript{start: n}
	}
	start, err1 := strconv.Atoi(m[3])
	end := -1
	var err2 error
	if m[5] != "" {
		end, err2 = strconv.Atoi(m[5])
	}
	if err1 != nil || err2 != nil {
		return p, nil
	}
	return m[1], &subscript{start: start, end: end, isRange: true}
}

// apply slices hosts as Ansible's _apply_subscript: [n] one host (negative from the end,
// out of range an error); [a:b] inclusive; [a:] to the end; [a:0] is host a.
func (s *subscript) apply(hosts []*Host) ([]*Host, bool) {
	if s.isRange && s.end != 0 {
		end := s.end
		if end == -1 {
			end = len(hosts) - 1
		}
		lo, hi := clamp(s.start, len(hosts)), clamp(end+1, len(hosts))
		if lo >= hi {
			return nil, true
		}
		return hosts[lo:hi], true
	}
	i := s.start
	if i < 0 {
		i += len(hosts)
	}
	if i < 0 || i >= len(hosts) {
		return nil, false
	}
	return hosts[i : i+1], true
}

func clamp(i, n int) int {
	if i < 0 {
		i += n
		if i < 0 {
			return 0
		}
	}
	if i > n {
		return n
	}
	return i
}

// enumerate matches one pattern against group names first, then host names when no
// group matched or the pattern is a regex or glob, as Ansible's _enumerate_matches.
func (inv *Inventory) enumerate(p string) ([]*Host, []string, error) {
	re, err := compilePattern(p)
	if err != nil {
		return nil, nil, &PatternError{Pattern: p, Msg: "invalid host list pattern"}
	}
	var out []*Host
	matchedGroup := false
	for _, g := range inv.Groups {
		if re.MatchString(g.Name) {
			matchedGroup = true
			hosts := g.AllHosts()
			out = append(out, hosts...)
		}
	}
	if !matchedGroup || p[0] == '~' || strings.ContainsAny(p, ".?*[") {
		for _, h := range inv.Hosts {
			if re.MatchString(h.Name) {
				out = append(out, h)
			}
		}
	}
	var warns []string
	if len(out) == 0 && !matchedGroup && p != "all" {
		warns = append(warns, "Could not match supplied host pattern, ignoring: "+p)
	}
	return out, warns, nil
}

// compilePattern turns a pattern into a regexp anchored at the start: ~regex as written
// (Python's re.match), anything else as fnmatch.translate does.
func compilePattern(p string) (*regexp.Regexp, error) {
	if p[0] == '~' {
		return regexp.Compile(`^(?:` + p[1:] + `)`)
	}
	return regexp.Compile(`^(?s:` + fnmatch.Translate(p) + `)\z`)
}
