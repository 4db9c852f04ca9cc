package testfleet

import (
	"os"
	"os/exec"
	"path/filepath"
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
