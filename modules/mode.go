package modules

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// fileMode is a mode argument as Ansible reads it: an integer is taken as it is (YAML's
// 0644 is already octal; a bare 644 is decimal, Ansible's well-known trap), a string of
// digits is octal, anything else is symbolic ("u=rw,g+r"), applied to the current mode.
type fileMode struct {
	set      bool
	bits     uint32
	symbolic string
	preserve bool // copy's mode=preserve: the source file's mode
}

var digitsRE = regexp.MustCompile(`^[0-9]+$`)

// parseMode reads a mode argument; nil or "" means not set.
func parseMode(v any) (fileMode, error) {
	switch v := v.(type) {
	case nil:
		return fileMode{}, nil
	case int:
		if v < 0 || v > 0o7777 {
			return fileMode{}, fmt.Errorf("mode %d is out of range", v)
		}
		return fileMode{set: true, bits: uint32(v)}, nil
	case float64:
		if v != float64(int(v)) {
			return fileMode{}, fmt.Errorf("mode must be an integer or a string, got %v", v)
		}
		return parseMode(int(v))
	case string:
		s := strings.TrimSpace(v)
		switch {
		case s == "":
			return fileMode{}, nil
		case s == "preserve":
			return fileMode{set: true, preserve: true}, nil
		case digitsRE.MatchString(s):
			n, err := strconv.ParseUint(s, 8, 32)
			if err != nil || n > 0o7777 {
				return fileMode{}, fmt.Errorf("mode must be in octal or symbolic form: %q", s)
			}
			return fileMode{set: true, bits: uint32(n)}, nil
		}
		if _, err := symbolicMode(s, 0, false); err != nil {
			return fileMode{}, err
		}
		return fileMode{set: true, symbolic: s}, nil
	}
	return fileMode{}, fmt.Errorf("mode must be an integer or a string, got %s", typeName(v))
}

// apply returns the mode a file of mode cur (a directory when dir) gets.
func (m fileMode) apply(cur uint32, dir bool) (uint32, error) {
	if m.symbolic != "" {
		return symbolicMode(m.symbolic, cur, dir)
	}
	return m.bits, nil
}

var symbolicRE = regexp.MustCompile(`^([ugoa]*)([-+=])([rwxXst]*|[ugo])$`)

// symbolicMode applies a chmod-style symbolic mode as Ansible's
// _symbolic_mode_to_octal does.
func symbolicMode(spec string, cur uint32, dir bool) (uint32, error) {
	mode := cur & 0o7777
	for _, clause := range strings.Split(spec, ",") {
		m := symbolicRE.FindStringSubmatch(clause)
		if m == nil {
			return 0, fmt.Errorf("bad symbolic permission for mode: %s", clause)
		}
		users, op, perms := m[1], m[2], m[3]
		umask := uint32(0)
		if users == "" {
			users, umask = "a", 0o022
		}
		if strings.Contains(users, "a") {
			users = "ugo"
		}
		for _, u := range users {
			bits := permBits(u, perms, mode, dir) &^ umask
			mode = applyOp(u, op, bits, mode)
		}
	}
	return mode, nil
}

func permBits(user rune, perms string, prev uint32, dir bool) uint32 {
	applyX := dir || prev&0o111 != 0
	shift := map[rune]uint{'u': 6, 'g': 3, 'o': 0}[user]
	var out uint32
	for _, p := range perms {
		switch p {
		case 'r':
			out |= 4 << shift
		case 'w':
			out |= 2 << shift
		case 'x':
			out |= 1 << shift
		case 'X':
			if applyX {
				out |= 1 << shift
			}
		case 's':
			out |= map[rune]uint32{'u': 0o4000, 'g': 0o2000}[user]
		case 't':
			if user == 'o' {
				out |= 0o1000
			}
		case 'u', 'g', 'o':
			from := map[rune]uint{'u': 6, 'g': 3, 'o': 0}[p]
			out |= ((prev >> from) & 7) << shift
		}
	}
	return out
}

func applyOp(user rune, op string, bits, cur uint32) uint32 {
	switch op {
	case "=":
		mask := map[rune]uint32{'u': 0o4700, 'g': 0o2070, 'o': 0o1007}[user]
		return cur&^mask | bits
	case "+":
		return cur | bits
	}
	return cur &^ bits
}
