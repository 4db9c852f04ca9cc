// Package fnmatch is Python's fnmatch on POSIX, which Ansible uses for host patterns
// and --start-at-task: shell-style wildcards turned into regular expressions.
package fnmatch

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// Translate is Python's fnmatch.translate without its anchors: the regular expression
// (RE2 syntax) matching what pattern matches: * any run of characters, ? one character,
// [seq] one of seq, [!seq] one not in seq; everything else literally, case-sensitive as
// on POSIX. An unclosed [ is a literal [.
func Translate(p string) string {
	var b strings.Builder
	rs := []rune(p)
	for i := 0; i < len(rs); i++ {
		switch c := rs[i]; c {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		case '[':
			j := i + 1
			if j < len(rs) && rs[j] == '!' {
				j++
			}
			if j < len(rs) && rs[j] == ']' {
				j++
			}
			for j < len(rs) && rs[j] != ']' {
				j++
			}
			if j >= len(rs) {
				b.WriteString(`\[`)
				continue
			}
			set := string(rs[i+1 : j])
			i = j
			if strings.HasPrefix(set, "!") {
				set = "^" + set[1:]
			} else if strings.HasPrefix(set, "^") {
				set = `\` + set
			}
			set = strings.ReplaceAll(set, `\`, `\\`)
			if strings.HasPrefix(set, `\\^`) {
				set = `\^` + set[3:]
			}
			b.WriteString("[" + set + "]")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	return b.String()
}

// Matcher returns a function reporting whether a whole name matches pattern (as
// fnmatch.fnmatchcase), or equals it. A pattern that is not UTF-8 (Ansible's names are
// text) only equals.
func Matcher(pattern string) func(string) bool {
	if !utf8.ValidString(pattern) {
		return func(name string) bool { return name == pattern }
	}
	re, err := regexp.Compile(`(?s)\A(?:` + Translate(pattern) + `)\z`)
	return func(name string) bool {
		return name == pattern || (err == nil && re.MatchString(name))
	}
}
