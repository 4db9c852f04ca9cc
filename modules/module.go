package modules

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kpxdev/kpx/transport"
)

// Host is what a module needs of its connection to a host; *transport.SSHConn and
// *transport.LocalConn provide it (see transport's connection contract).
type Host interface {
	Run(ctx context.Context, cmd transport.Cmd) (transport.Result, error)
	Upload(ctx context.Context, spec transport.UploadSpec) error
	Download(ctx context.Context, remote, local string) error
}

// Call is one invocation of a module on one host.
type Call struct {
	Args   map[string]any    // rendered arguments, validated against the module's Spec
	Check  bool              // check mode: report what would change, change nothing
	Env    map[string]string // the task's environment
	Become *transport.Become // nil: the connection's default
	// Find resolves a controller-side file named in the arguments (copy's src, a
	// template, a live-patch .ko) as Ansible does: kind is the subdirectory searched
	// first ("files", "templates"), then the playbook's own directory. Nil: paths are
	// taken as they are.
	Find func(kind, name string) (string, error)
	// Diff asks modules that can show one (copy, template, file, lineinfile) for
	// Ansible's before/after "diff" in their result (--diff).
	Diff bool
	// Render renders a controller-side Jinja2 template file (template's src, already
	// resolved to a path) with the task's variables. Nil: the template module fails.
	Render func(src string) (string, error)
	// Inventory is the inventory name of the host the task is for (fetch's dest layout).
	Inventory string
	// Digests hashes controller files once for the whole run (copy's sources); nil
	// hashes them for every call.
	Digests *Digests
}

// LocalPath resolves a controller-side file through c.Find, or returns name as it is.
func (c Call) LocalPath(kind, name string) (string, error) {
	if c.Find == nil {
		return name, nil
	}
	return c.Find(kind, name)
}

// baseDir is the playbook's directory, where relative controller paths (fetch's dest)
// start; "." when the call has no Find.
func (c Call) baseDir() string {
	if d, err := c.LocalPath("", "."); err == nil {
		return d
	}
	return "."
}

// Result is a module's result, in Ansible's shape: changed, failed, msg, rc, stdout, ...
type Result map[string]any

// Failed reports whether the result is a failure.
func (r Result) Failed() bool { b, _ := r["failed"].(bool); return b }

// Changed reports whether the module changed the host.
func (r Result) Changed() bool { b, _ := r["changed"].(bool); return b }

// Module is a built-in module that runs on a host. A module reports its own failures in
// the Result (failed: true); an error means the host could not be driven at all
// (unreachable, cancelled), and is returned as transport reported it.
type Module interface {
	Run(ctx context.Context, h Host, c Call) (Result, error)
}

// Func adapts a function to Module.
type Func func(ctx context.Context, h Host, c Call) (Result, error)

// Run calls f.
func (f Func) Run(ctx context.Context, h Host, c Call) (Result, error) { return f(ctx, h, c) }

// run runs cmd on h and returns its result even when it exited nonzero: for a module a
// failed command is an outcome, not an error.
func run(ctx context.Context, h Host, c Call, cmd transport.Cmd) (transport.Result, error) {
	cmd.Become = c.Become
	if len(c.Env) > 0 {
		env := make(map[string]string, len(c.Env)+len(cmd.Env))
		for k, v := range c.Env {
			env[k] = v
		}
		for k, v := range cmd.Env {
			env[k] = v
		}
		cmd.Env = env
	}
	res, err := h.Run(ctx, cmd)
	var ee *transport.ExitError
	if errors.As(err, &ee) {
		return res, nil
	}
	return res, err
}

// pyTime writes t as Python's str(datetime) does: "2026-11-23 02:31:12.123456".
func pyTime(t time.Time) string { return t.Format("2006-01-02 15:04:05.000000") }

// pyDelta writes d as Python's str(timedelta) does: "0:00:01.250000".
func pyDelta(d time.Duration) string {
	us := d.Microseconds()
	h := us / 3_600_000_000
	m := us / 60_000_000 % 60
	s := us / 1_000_000 % 60
	frac := us % 1_000_000
	return strings.TrimSuffix(fmt.Sprintf("%d:%02d:%02d.%06d", h, m, s, frac), ".000000")
}

// splitLines splits text into lines as Python's str.splitlines() does, which is how
// Ansible derives stdout_lines.
func splitLines(s string) []any {
	lines := []any{}
	start := 0
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		switch rs[i] {
		case '\n', '\v', '\f', 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029:
		case '\r':
			if i+1 < len(rs) && rs[i+1] == '\n' {
				lines = append(lines, string(rs[start:i]))
				i++
				start = i + 1
				continue
			}
		default:
			continue
		}
		lines = append(lines, string(rs[start:i]))
		start = i + 1
	}
	if start < len(rs) {
		lines = append(lines, string(rs[start:]))
	}
	return lines
}

func asErr[T error](err error, target *T) bool { return errors.As(err, target) }

func isCtxErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
