package transport

import (
	"fmt"
	"strings"
)

// UnreachableError reports a host that could not be connected to: dial, handshake, host key
// or authentication failures, and connect timeouts. Ansible calls such hosts UNREACHABLE.
type UnreachableError struct {
	Host   string // host as configured (Config.Name, else address)
	Reason string // short cause: "dial", "timeout", "host key", "auth", "handshake", "jump host"
	Err    error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("%s: unreachable (%s): %v", e.Host, e.Reason, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// ExitError reports a command that ran and exited with a nonzero status or was killed by a
// signal. The Result returned alongside holds its output.
type ExitError struct {
	Status int    // exit status; -1 when Signal is set
	Signal string // signal name without "SIG", when the command was killed
}

func (e *ExitError) Error() string {
	if e.Signal != "" {
		return "command killed by signal " + e.Signal
	}
	return fmt.Sprintf("command exited with status %d", e.Status)
}

// HostKeyError reports a host key that does not match known_hosts, in OpenSSH's terms.
type HostKeyError struct {
	Host        string // host name or address as dialed
	Port        int
	KeyType     string // e.g. "ssh-ed25519"
	Fingerprint string // SHA256:...
	Changed     bool   // true: a different key is recorded; false: no key is recorded
	Files       []string
	Offending   []string // file:line of the recorded keys, when Changed
}

func (e *HostKeyError) Error() string {
	if e.Changed {
		return fmt.Sprintf("REMOTE HOST IDENTIFICATION HAS CHANGED for %s port %d: the %s key it offers has fingerprint %s, which does not match the key recorded in %s; refusing to connect (possible man-in-the-middle attack; if the key was legitimately replaced, remove the old entry)",
			e.Host, e.Port, e.KeyType, e.Fingerprint, strings.Join(e.Offending, ", "))
	}
	files := "no known_hosts file"
	if len(e.Files) > 0 {
		files = strings.Join(e.Files, ", ")
	}
	return fmt.Sprintf("host key verification failed: no host key is known for %s port %d (%s key fingerprint is %s) in %s; StrictHostKeyChecking=yes refuses unknown hosts (use accept-new to record it)",
		e.Host, e.Port, e.KeyType, e.Fingerprint, files)
}

// BecomeError reports a failed privilege escalation (wrong or missing password, or the
// become method refused the user).
type BecomeError struct {
	Method string
	User   string
	Msg    string
}

func (e *BecomeError) Error() string {
	return fmt.Sprintf("become (%s to %s) failed: %s", e.Method, e.User, e.Msg)
}
