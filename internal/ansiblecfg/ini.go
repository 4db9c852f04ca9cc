package ansiblecfg

import (
	"fmt"
	"strings"
)

// ini is an ansible.cfg as Python's configparser reads it for Ansible: sections of
// `key = value` (or `key: value`) options, option names folded to lower case, full-line
// comments starting with # or ;, inline comments starting with ; after whitespace, values
// continued on more-indented lines, no interpolation (Ansible reads raw values).
type ini map[string]map[string]string

// ParseError is a malformed ansible.cfg, placed at its line.
type ParseError struct {
	File string
	Line int
	Msg  string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("error reading config file %s: line %d: %s", e.File, e.Line, e.Msg)
}

// parseINI reads data as configparser does with strict=True: a duplicate section or option
// is an error, as is an option before any section or a line that is neither.
func parseINI(file string, data []byte) (ini, error) {
	out := ini{}
	var section map[string]string
	var key string    // the option whose value may continue
	var keyIndent int // its indentation
	var cont []string // continuation lines of the value of key
	flush := func() {
		if key == "" {
			return
		}
		for len(cont) > 0 && cont[len(cont)-1] == "" {
			cont = cont[:len(cont)-1]
		}
		if len(cont) > 0 {
			section[key] = strings.Join(append([]string{section[key]}, cont...), "\n")
		}
		key, cont = "", nil
	}
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	for i, raw := range lines {
		n := i + 1
		line := stripInlineComment(raw)
		trimmed := strings.TrimSpace(line)
		if t := strings.TrimSpace(raw); strings.HasPrefix(t, "#") || strings.HasPrefix(t, ";") {
			continue
		}
		indent := len(line) - len(strings.TrimLeft(line, " \t"))
		if trimmed == "" {
			if key != "" {
				cont = append(cont, "")
			}
			continue
		}
		if key != "" && indent > keyIndent {
			cont = append(cont, trimmed)
			continue
		}
		flush()
		if strings.HasPrefix(trimmed, "[") && strings.Contains(trimmed, "]") {
			name := trimmed[1:strings.LastIndex(trimmed, "]")]
			if name == "" {
				return nil, &ParseError{file, n, "empty section name"}
			}
			if _, dup := out[name]; dup {
				return nil, &ParseError{file, n, fmt.Sprintf("section %q already exists", name)}
			}
			section = map[string]string{}
			out[name] = section
			continue
		}
		if section == nil {
			return nil, &ParseError{file, n, "file contains no section headers"}
		}
		i := strings.IndexAny(trimmed, "=:")
		if i <= 0 {
			return nil, &ParseError{file, n, fmt.Sprintf("not an option (key = value): %q", trimmed)}
		}
		k := strings.ToLower(strings.TrimSpace(trimmed[:i]))
		if _, dup := section[k]; dup {
			return nil, &ParseError{file, n, fmt.Sprintf("option %q already exists in this section", k)}
		}
		section[k] = strings.TrimSpace(trimmed[i+1:])
		key, keyIndent = k, indent
	}
	flush()
	return out, nil
}

// stripInlineComment removes a ; comment that follows whitespace.
func stripInlineComment(line string) string {
	for i := 1; i < len(line); i++ {
		if line[i] == ';' && (line[i-1] == ' ' || line[i-1] == '\t') {
			return line[:i]
		}
	}
	return line
}

// get returns section's option key and whether it is set (in the section or in
// [DEFAULT]).
func (f ini) get(section, key string) (string, bool) {
	if v, ok := f[section][key]; ok {
		return v, true
	}
	v, ok := f["DEFAULT"][key] // configparser's defaults for every section
	return v, ok
}

// unquote removes one pair of matching quotes around v, as Ansible does for ini values.
func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		return v[1 : len(v)-1]
	}
	return v
}
