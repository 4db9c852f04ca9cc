package simkernel

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kpxdev/kpx/internal/testfleet"
)

// TestOverOpenSSH checks that an OpenSSH host's sessions see the simulated kernel: the
// environment reaches them through sshd's SetEnv, PATH included.
func TestOverOpenSSH(t *testing.T) {
	f := testfleet.Start(t, testfleet.Options{Hosts: 1, HostEnv: func(h *testfleet.Host) (map[string]string, error) {
		return Install(filepath.Join(h.StateDir, "kernel"), Options{Release: "5.14.0-362.el9.x86_64"})
	}})
	h := f.Hosts[0]
	args := append(f.SSHArgs(h), "uname -r; echo $KPX_SIMKERNEL")
	out, err := exec.Command("ssh", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ssh: %v\n%s", err, out)
	}
	want := "5.14.0-362.el9.x86_64\n" + filepath.Join(h.StateDir, "kernel") + "\n"
	if !strings.HasSuffix(string(out), want) {
		t.Fatalf("got %q, want %q", out, want)
	}
}
