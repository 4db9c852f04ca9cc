package testfleet

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// RequireTool returns the path of an external program the test needs, skipping the test
// when it is missing, or failing it under CI=true.
func RequireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		unavailable(t, err)
	}
	return p
}

// AnsibleEnv returns an environment for running Ansible's commands against a fleet: no
// user configuration, no colour, no lingering ControlPersist masters, and its temporary
// files under dir.
func AnsibleEnv(dir string) []string {
	env := append(os.Environ(),
		"ANSIBLE_CONFIG="+filepath.Join(dir, "no-ansible.cfg"),
		"ANSIBLE_LOCAL_TEMP="+filepath.Join(dir, "ansible-local"),
		"ANSIBLE_SSH_CONTROL_PATH_DIR="+filepath.Join(dir, "ansible-cp"),
		"ANSIBLE_SSH_ARGS=-o ControlMaster=no",
		"ANSIBLE_PYTHON_INTERPRETER=auto_silent",
		"ANSIBLE_NOCOLOR=1",
		"ANSIBLE_FORCE_COLOR=0",
		"ANSIBLE_RETRY_FILES_ENABLED=0",
		"LC_ALL=C.UTF-8",
	)
	return env
}

// RunAnsible runs one of Ansible's commands (tool is its path) in dir with AnsibleEnv and
// returns its standard output and exit status. A command that cannot be started fails the
// test; a nonzero exit status is returned, for the test to compare.
func RunAnsible(ctx context.Context, t testing.TB, dir, tool string, args ...string) ([]byte, int) {
	t.Helper()
	cmd := exec.CommandContext(ctx, tool, args...)
	cmd.Dir = dir
	cmd.Env = AnsibleEnv(t.TempDir())
	out, err := cmd.Output()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return out, ee.ExitCode()
	case err != nil:
		t.Fatalf("%s: %v", filepath.Base(tool), err)
	}
	return out, 0
}

// Diff describes where two texts first differ, line by line, with the expected text's
// neighbouring lines for context; "" when they are equal.
func Diff(got, want string) string {
	if got == want {
		return ""
	}
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < max(len(g), len(w)); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			from := max(0, i-3)
			return fmt.Sprintf("line %d\n  got:  %q\n  want: %q\ncontext (want):\n%s", i+1, gl, wl, strings.Join(w[from:min(len(w), i+3)], "\n"))
		}
	}
	return "(they differ only in line endings)"
}
