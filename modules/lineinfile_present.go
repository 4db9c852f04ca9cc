package modules

import (
	"regexp"
	"strings"
)

// lineinfilePresent is Ansible's lineinfile present(), step for step: replace the last
// (or first, with firstmatch) line matching regexp or search_string; else, unless the
// line is already there, insert it after/before the insertafter/insertbefore match, or at
// the end. It returns the new lines and Ansible's message.
func lineinfilePresent(lines []string, a map[string]any) ([]string, string, error) {
	line := str(a["line"])
	firstmatch := boolArg(a, "firstmatch", false)
	backrefs := boolArg(a, "backrefs", false)
	insertafter, hasAfter := a["insertafter"].(string)
	insertbefore, hasBefore := a["insertbefore"].(string)
	var reIns, reM *regexp.Regexp
	var err error
	if hasAfter && insertafter != "EOF" && insertafter != "BOF" {
		if reIns, err = pyRegexp(insertafter); err != nil {
			return nil, "", err
		}
	} else if hasBefore && insertbefore != "BOF" {
		if reIns, err = pyRegexp(insertbefore); err != nil {
			return nil, "", err
		}
	}
	regexpGiven := a["regexp"] != nil
	if regexpGiven {
		if reM, err = pyRegexp(str(a["regexp"])); err != nil {
			return nil, "", err
		}
	}
	search, searchGiven := a["search_string"].(string)
	index := [2]int{-1, -1}
	var match []int
	matched := false
	if regexpGiven || searchGiven {
		for i, l := range lines {
			var m []int
			if reM != nil {
				m = reM.FindStringSubmatchIndex(l)
			} else if strings.Contains(l, search) {
				m = []int{0, 0}
			}
			if m != nil {
				index[0], match, matched = i, m, true
				if firstmatch {
					break
				}
			}
		}
	}
	exact := false
	if !matched {
		for i, l := range lines {
			if trimEOL(l) == line {
				index[0], exact = i, true
			} else if reIns != nil && reIns.MatchString(l) {
				if hasAfter {
					index[1] = i + 1
				} else {
					index[1] = i
				}
				if firstmatch {
					break
				}
			}
		}
	}
	const nl = "\n"
	added := "line added"
	insert := func(at int) []string {
		out := append([]string{}, lines[:at]...)
		out = append(out, line+nl)
		return append(out, lines[at:]...)
	}
	endsWithNL := func() bool {
		last := lines[len(lines)-1]
		return strings.HasSuffix(last, "\n") || strings.HasSuffix(last, "\r")
	}
	switch {
	case index[0] != -1:
		newLine := line
		if backrefs && reM != nil && match != nil {
			newLine = string(reM.ExpandString(nil, pyTemplate(line), lines[index[0]], match))
		}
		if !strings.HasSuffix(newLine, nl) {
			newLine += nl
		}
		if !regexpGiven && !searchGiven && !matched && !exact {
			return lines, "", nil // cannot happen: index[0] is set only by a match
		}
		if lines[index[0]] != newLine {
			out := append([]string{}, lines...)
			out[index[0]] = newLine
			return out, "line replaced", nil
		}
		return lines, "", nil
	case backrefs:
		return lines, "", nil
	case insertbefore == "BOF" || insertafter == "BOF":
		return insert(0), added, nil
	case insertafter == "EOF" || index[1] == -1:
		out := append([]string{}, lines...)
		if len(lines) > 0 && !endsWithNL() {
			out = append(out, nl)
		}
		return append(out, line+nl), added, nil
	case hasAfter && index[1] != -1:
		if len(lines) == index[1] {
			if trimEOL(lines[index[1]-1]) != line {
				out := append([]string{}, lines...)
				if !endsWithNL() {
					out[len(out)-1] += nl
				}
				return append(out, line+nl), added, nil
			}
			return lines, "", nil
		}
		if trimEOL(lines[index[1]]) != line {
			return insert(index[1]), added, nil
		}
		return lines, "", nil
	}
	return insert(index[1]), added, nil
}

var pyGroupRef = regexp.MustCompile(`\\(\d+)|\\g<(\w+)>`)

// pyTemplate turns a Python replacement template (\1, \g<name>) into Go's (${1}).
func pyTemplate(s string) string {
	s = strings.ReplaceAll(s, "$", "$$")
	return pyGroupRef.ReplaceAllStringFunc(s, func(m string) string {
		sub := pyGroupRef.FindStringSubmatch(m)
		name := sub[1]
		if name == "" {
			name = sub[2]
		}
		return "${" + name + "}"
	})
}
