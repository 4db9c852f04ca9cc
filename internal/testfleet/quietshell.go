package testfleet

import (
	"os"
	"os/exec"
	"path/filepath"
)

// quietShell returns a command prefix that runs a daemon in a private mount namespace in
// which the login user's ~/.bashrc is an empty file, or nil when that is not needed or
// not possible.
//
// sshd runs every remote command through the user's login shell, and Debian's bash reads
// ~/.bashrc for commands that come over SSH. The fleet's hosts stand for servers, not for
// the account running the tests: a developer's shell start-up (version managers and the
// like) can cost half a second of CPU per command, which turns a ten-host playbook into
// minutes for kpx and Ansible alike. The bind mount is seen only by the fleet's daemons
// and their sessions; the file itself is untouched.
func quietShell(dir, home string) []string {
	if os.Geteuid() != 0 || home == "" {
		return nil
	}
	rc := filepath.Join(home, ".bashrc")
	if fi, err := os.Stat(rc); err != nil || !fi.Mode().IsRegular() || fi.Size() == 0 {
		return nil
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		return nil
	}
	empty := filepath.Join(dir, "empty.bashrc")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		return nil
	}
	prefix := []string{unshare, "--mount", "--propagation", "private", "--",
		"/bin/sh", "-c", `mount --bind "$0" "$1" && shift && exec "$@"`, empty, rc}
	// A container may refuse mount namespaces: then sshd runs as is.
	probe := append(append([]string{}, prefix...), "true")
	if exec.Command(probe[0], probe[1:]...).Run() != nil {
		return nil
	}
	return prefix
}
