package testfleet

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Agent is a real OpenSSH ssh-agent started for one test.
type Agent struct {
	Socket string // SSH_AUTH_SOCK value
}

// StartAgent starts `ssh-agent -D -a SOCKET`, waits until it answers and stops it in
// t.Cleanup. It skips the test when ssh-agent is missing (fails under CI=true).
func StartAgent(t testing.TB) *Agent {
	t.Helper()
	bin := RequireTool(t, "ssh-agent")
	// Unix socket paths are limited to 108 bytes: keep it short, under /tmp.
	dir, err := os.MkdirTemp("", "kpx-agent-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "agent.sock")
	d, err := startDaemon(bin, "-D", "-a", sock)
	if err != nil {
		t.Fatalf("testfleet: ssh-agent: %v", err)
	}
	t.Cleanup(d.kill)
	deadline := time.Now().Add(readyTimeout)
	for {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			return &Agent{Socket: sock}
		}
		if d.exited() || time.Now().After(deadline) {
			t.Fatalf("testfleet: ssh-agent did not start on %s", sock)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Add loads a private key file into the agent with OpenSSH's ssh-add.
func (a *Agent) Add(t testing.TB, keyFile string) {
	t.Helper()
	bin := RequireTool(t, "ssh-add")
	cmd := exec.Command(bin, keyFile)
	cmd.Env = append(os.Environ(), "SSH_AUTH_SOCK="+a.Socket)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("testfleet: ssh-add %s: %v\n%s", keyFile, err, out)
	}
}

// String returns the socket path.
func (a *Agent) String() string { return fmt.Sprintf("ssh-agent at %s", a.Socket) }
