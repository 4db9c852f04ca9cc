package testfleet

import (
	"context"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestAddUserLogsInAndIsRemoved(t *testing.T) {
	f := Start(t, Options{Hosts: 1})
	sshBin := RequireTool(t, "ssh")
	var name string
	t.Run("user", func(t *testing.T) {
		u := f.AddUser(t, UserOptions{Sudo: SudoNoPasswd})
		name = u.Name
		args := f.SSHArgs(f.Hosts[0])
		for i, a := range args {
			if a == f.User && i > 0 && args[i-1] == "-l" {
				args[i] = u.Name
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, sshBin, append(args, "id -un; sudo -n id -un")...).CombinedOutput()
		if err != nil {
			t.Fatalf("ssh as %s: %v\n%s", u.Name, err, out)
		}
		if want := u.Name + "\nroot\n"; string(out) != want {
			t.Fatalf("got %q, want %q", out, want)
		}
	})
	if _, err := exec.Command("id", name).CombinedOutput(); err == nil {
		t.Errorf("user %s still exists after its test", name)
	}
	if _, err := os.Stat(sudoersFile(name)); !os.IsNotExist(err) {
		t.Errorf("sudoers drop-in of %s still exists", name)
	}
}

func TestOverrideReplacesDefaults(t *testing.T) {
	f := Start(t, Options{Hosts: 1, Override: []string{"MaxSessions 3"}})
	b, err := os.ReadFile(f.Hosts[0].configPath())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "MaxSessions 3\n") {
		t.Fatalf("override not first:\n%s", b)
	}
}

func TestStartAgent(t *testing.T) {
	f := Start(t, Options{Hosts: 1})
	a := StartAgent(t)
	a.Add(t, f.ClientKey)
	cmd := exec.Command(RequireTool(t, "ssh-add"), "-l")
	cmd.Env = append(os.Environ(), "SSH_AUTH_SOCK="+a.Socket)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ED25519") {
		t.Fatalf("ssh-add -l: %v\n%s", err, out)
	}
}

func TestOwnsTCPPort(t *testing.T) {
	f := Start(t, Options{Hosts: 1})
	h := f.Hosts[0]
	if ok, err := h.OwnsTCPPort(h.Port); err != nil || !ok {
		t.Fatalf("sshd does not own its listening port %d: %v", h.Port, err)
	}
	c, err := net.Dial("tcp", h.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, p, _ := net.SplitHostPort(c.LocalAddr().String())
	port, _ := strconv.Atoi(p)
	if ok, _ := h.OwnsTCPPort(port); ok {
		t.Fatalf("sshd claims the test's own client port %d", port)
	}
}
