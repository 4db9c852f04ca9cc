package transport

import (
	"errors"
	"fmt"
	"strings"
)

// Option is one OpenSSH option, its Key spelled as in ssh_config (for example
// "ProxyJump"). The pseudo-key "ConfigFile" stands for -F.
type Option struct {
	Key   string
	Value string
}

// flagOptions maps ssh's flags that take an argument and that kpx honours to options.
var flagOptions = map[byte]string{
	'J': "ProxyJump",
	'i': "IdentityFile",
	'p': "Port",
	'l': "User",
	'F': "ConfigFile",
}

// ignoredArgFlags take an argument and are ignored with a warning.
const ignoredArgFlags = "BbcDEeILmOQRSWw"

// ignoredFlags take no argument and are ignored with a warning; quietFlags are ignored
// silently because they do not change what kpx does.
const (
	ignoredFlags = "46AaCfGgKkMstVvXxYy"
	quietFlags   = "qTnN"
)

// ParseSSHArgs parses ssh command-line arguments (already split into words, see
// SplitShellWords) into options in command-line order. Options kpx does not honour are
// returned as warnings naming them; malformed arguments are errors.
func ParseSSHArgs(args []string) (opts []Option, warnings []string, err error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if len(a) < 2 || a[0] != '-' || a == "--" {
			return opts, warnings, fmt.Errorf("ssh arguments: unexpected %q (only options are allowed here)", a)
		}
		for j := 1; j < len(a); j++ {
			f := a[j]
			if strings.IndexByte(quietFlags, f) >= 0 {
				continue
			}
			if strings.IndexByte(ignoredFlags, f) >= 0 {
				warnings = append(warnings, fmt.Sprintf("ssh option -%c is not supported by kpx and is ignored", f))
				continue
			}
			key, honoured := flagOptions[f]
			takesArg := honoured || f == 'o' || strings.IndexByte(ignoredArgFlags, f) >= 0
			if !takesArg {
				return opts, warnings, fmt.Errorf("ssh arguments: unknown option -%c", f)
			}
			val := a[j+1:]
			if val == "" {
				if i+1 >= len(args) {
					return opts, warnings, fmt.Errorf("ssh arguments: option -%c needs a value", f)
				}
				i++
				val = args[i]
			}
			switch {
			case f == 'o':
				o, w, err := parseDashO(val)
				if err != nil {
					return opts, warnings, err
				}
				if w != "" {
					warnings = append(warnings, w)
				} else if o.Key != "" {
					opts = append(opts, o)
				}
			case honoured:
				opts = append(opts, Option{Key: key, Value: val})
			default:
				warnings = append(warnings, fmt.Sprintf("ssh option -%c %s is not supported by kpx and is ignored", f, val))
			}
			break
		}
	}
	return opts, warnings, nil
}

// honouredKeys are the ssh_config keywords kpx applies, by lower-case name.
var honouredKeys = canonicalKeys(
	"HostName", "Port", "User", "IdentityFile", "IdentitiesOnly", "IdentityAgent", "ProxyJump",
	"UserKnownHostsFile", "GlobalKnownHostsFile", "StrictHostKeyChecking", "ConnectTimeout",
	"ServerAliveInterval",
)

// quietKeys are accepted and ignored without a warning: kpx multiplexes connections
// itself and never prompts, so these change nothing.
var quietKeys = canonicalKeys(
	"ControlMaster", "ControlPath", "ControlPersist", "BatchMode", "LogLevel",
	"ServerAliveCountMax", "KbdInteractiveAuthentication", "PreferredAuthentications",
	"ChallengeResponseAuthentication", "HashKnownHosts",
	"PasswordAuthentication", "PubkeyAuthentication",
)

func canonicalKeys(keys ...string) map[string]string {
	m := make(map[string]string, len(keys))
	for _, k := range keys {
		m[strings.ToLower(k)] = k
	}
	return m
}

// parseDashO parses the value of -o ("Key=Value", "Key Value" or "Key = Value"). An
// unsupported key gives a warning instead of an option.
func parseDashO(s string) (Option, string, error) {
	s = strings.TrimSpace(s)
	i := strings.IndexAny(s, "= \t")
	if i <= 0 {
		return Option{}, "", fmt.Errorf("ssh arguments: -o %q: want Key=Value", s)
	}
	key := s[:i]
	val := strings.TrimSpace(s[i:])
	val = strings.TrimSpace(strings.TrimPrefix(val, "="))
	val = strings.Trim(val, `"`)
	lower := strings.ToLower(key)
	if _, ok := quietKeys[lower]; ok {
		return Option{}, "", nil
	}
	canon, ok := honouredKeys[lower]
	if !ok {
		return Option{}, fmt.Sprintf("ssh option -o %s is not supported by kpx and is ignored", key), nil
	}
	if val == "" {
		return Option{}, "", fmt.Errorf("ssh arguments: -o %s has no value", key)
	}
	return Option{Key: canon, Value: val}, "", nil
}

// errUnterminated is returned by SplitShellWords for an unclosed quote or trailing backslash.
var errUnterminated = errors.New("unterminated quote or escape")

// SplitShellWords splits s into words the way a POSIX shell (and Python's shlex.split,
// which Ansible uses for ansible_ssh_common_args) does: whitespace separates words, single
// quotes are literal, double quotes allow \" \\ \$ \` escapes, a backslash outside quotes
// escapes the next character. Nothing is expanded.
func SplitShellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\\':
			if i+1 >= len(s) {
				return nil, fmt.Errorf("split %q: %w", s, errUnterminated)
			}
			i++
			if s[i] != '\n' {
				cur.WriteByte(s[i])
			}
			inWord = true
		case c == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("split %q: %w", s, errUnterminated)
			}
			cur.WriteString(s[i+1 : i+1+end])
			i += end + 1
			inWord = true
		case c == '"':
			j, err := readDoubleQuoted(s, i+1, &cur)
			if err != nil {
				return nil, fmt.Errorf("split %q: %w", s, err)
			}
			i = j
			inWord = true
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// readDoubleQuoted copies a double-quoted string starting at s[i] (after the opening
// quote) into b and returns the index of the closing quote.
func readDoubleQuoted(s string, i int, b *strings.Builder) (int, error) {
	for ; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			return i, nil
		case '\\':
			if i+1 < len(s) && strings.IndexByte("\\\"$`\n", s[i+1]) >= 0 {
				i++
				if s[i] != '\n' {
					b.WriteByte(s[i])
				}
				continue
			}
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return i, errUnterminated
}
