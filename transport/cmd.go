package transport

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// Cmd is one command to run on a host. Exactly one of Argv and Shell is set.
type Cmd struct {
	Argv  []string          // program and arguments, run without shell interpretation
	Shell string            // POSIX shell script, run with /bin/sh -c
	Env   map[string]string // exported to the command
	Stdin io.Reader         // standard input; nil means empty
	// Become runs the command as another user. Nil uses the connection's default
	// (Config.Become); a non-nil value with an empty Method runs as the login user.
	Become *Become
}

// Result is what a finished command produced.
type Result struct {
	Stdout     []byte
	Stderr     []byte
	ExitStatus int    // -1 when the command was ended by a signal
	Signal     string // e.g. "KILL", when the command was ended by a signal
}

// UploadSpec describes one file upload.
type UploadSpec struct {
	Local  string      // local file to send (or Reader, when set)
	Reader io.Reader   // content to send instead of Local; Size is then required
	Size   int64       // size of Reader's content
	Remote string      // absolute final path on the host
	Mode   os.FileMode // permission bits of the final file; 0 means 0644
	UID    *int        // owner to set, nil leaves the default
	GID    *int        // group to set, nil leaves the default
	// SHA256, when set, is the content's sha256 (hex) as the caller knows it already
	// (one file hashed once for many hosts); the upload is verified against it instead
	// of hashing the source again.
	SHA256 string
	// Inspect, when set, is a POSIX shell script the host runs as the login user once the
	// file is written, verified and has its mode and owner, in the session that verified
	// it; "$1" names the file (its temporary name, where the connection renames it into
	// place afterwards). When the script exits 0, its standard output is written to
	// InspectOutput after the upload succeeded. Callers use it to learn the new file's
	// attributes without a round trip of their own.
	Inspect       string
	InspectOutput io.Writer
}

func (c Cmd) validate() error {
	switch {
	case len(c.Argv) == 0 && c.Shell == "":
		return errors.New("transport: command has neither Argv nor Shell")
	case len(c.Argv) > 0 && c.Shell != "":
		return errors.New("transport: command has both Argv and Shell")
	}
	for k := range c.Env {
		if !validEnvName(k) {
			return fmt.Errorf("transport: invalid environment variable name %q", k)
		}
	}
	return nil
}

// script renders the command (without become) as a POSIX shell script.
func (c Cmd) script() string {
	body := c.Shell
	if len(c.Argv) > 0 {
		body = "exec " + QuoteArgv(c.Argv)
	}
	if len(c.Env) == 0 {
		return body
	}
	keys := make([]string, 0, len(c.Env))
	for k := range c.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("export")
	for _, k := range keys {
		b.WriteString(" " + k + "=" + Quote(c.Env[k]))
	}
	b.WriteString("\n")
	b.WriteString(body)
	return b.String()
}

func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		ok := r == '_' || (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z') || (i > 0 && r >= '0' && r <= '9')
		if !ok {
			return false
		}
	}
	return true
}

// Quote quotes s for a POSIX shell: the result is one word whose value is s.
func Quote(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	for _, r := range s {
		if !(r == '_' || r == '-' || r == '.' || r == '/' || r == ',' || r == ':' || r == '=' || r == '@' || r == '+' || r == '%' ||
			(r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// QuoteArgv quotes every argument with Quote and joins them with spaces.
func QuoteArgv(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = Quote(a)
	}
	return strings.Join(q, " ")
}
