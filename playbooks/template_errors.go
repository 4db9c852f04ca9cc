package playbooks

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Patterns of gonja's strict-undefined messages, innermost cause first.
var (
	undefinedName = regexp.MustCompile(`Unable to evaluate name "([^"]*)"`)
	undefinedAttr = regexp.MustCompile(`(?:attribute|item) '*([^' ]*)'* not found`)
	missingMethod = regexp.MustCompile(`unknown method '([^']*)'`)
)

// errUndefinedMarker tags errors kpx raises for undefined values itself.
const errUndefinedMarker = "is undefined"

// isUndefinedError reports whether err (a gonja error value) means "undefined": a missing
// variable, attribute or item, which `default`, `is defined` and friends absorb.
func isUndefinedError(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	return undefinedName.MatchString(msg) || undefinedAttr.MatchString(msg) ||
		strings.Contains(msg, errUndefinedMarker)
}

// cleanError rewrites a gonja error into Ansible's words where it can: "'foo' is
// undefined", "'dict object' has no attribute 'bar'"; otherwise it keeps gonja's message
// without the template source it repeats.
func cleanError(err error) error {
	msg := err.Error()
	if m := undefinedName.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("'%s' is undefined", m[1])
	}
	if m := undefinedAttr.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("object has no attribute '%s'", m[1])
	}
	if m := missingMethod.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("object has no attribute '%s'", m[1])
	}
	if i := strings.LastIndex(msg, reprNoise); i >= 0 {
		msg = msg[i+len(reprNoise):]
	}
	msg = filterNoise.ReplaceAllString(msg, "")
	msg = strings.TrimPrefix(msg, "unable to execute template: ")
	return errors.New(msg)
}

// Wrapping gonja adds around an error in an output expression.
const reprNoise = "invalid call to filter '" + reprFilter + "': "

var filterNoise = regexp.MustCompile(`unable to evaluate filter &\{[^}]*\}: `)

// gonjaSyntax matches gonja's parse errors: `msg (Line: 1 Col: 5, near "x")`.
var gonjaSyntax = regexp.MustCompile(`^(.*) \(Line: (\d+) Col: (\d+), near "(.*)"\)$`)

// syntaxError words a gonja parse error as "syntax error at line L, column C near 'x': msg".
func syntaxError(err error) error {
	m := gonjaSyntax.FindStringSubmatch(strings.TrimSpace(err.Error()))
	if m == nil {
		return fmt.Errorf("syntax error: %v", err)
	}
	msg := strings.TrimSpace(m[1])
	if msg == "" || isNumeric(msg) {
		msg = "unexpected end of template or token"
	}
	near := m[4]
	if near == "" {
		near = "end of template"
	}
	return fmt.Errorf("syntax error at line %s, column %s, near %q: %s", m[2], m[3], near, msg)
}

func isNumeric(s string) bool {
	return strings.Trim(s, "0123456789") == ""
}
