package testfleet

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestFleetIsRealOpenSSH(t *testing.T) {
	f := Start(t, Options{Hosts: 5})
	sshBin := RequireTool(t, "ssh")

	if len(f.Hosts) != 5 {
		t.Fatalf("got %d hosts, want 5", len(f.Hosts))
	}
	ports := map[int]bool{}
	for _, h := range f.Hosts {
		if ports[h.Port] {
			t.Fatalf("port %d used twice", h.Port)
		}
		ports[h.Port] = true

		// OpenSSH's own client, strict host key checking, the fleet's key: the host must
		// answer from its own state directory.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		args := append(f.SSHArgs(h), `printf '%s %s' "$KPX_HOST_NAME" "$KPX_HOST_DIR"`)
		out, err := exec.CommandContext(ctx, sshBin, args...).CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("ssh %s: %v\n%s", h.Name, err, out)
		}
		if want := h.Name + " " + h.StateDir; string(out) != want {
			t.Errorf("ssh %s printed %q, want %q", h.Name, out, want)
		}
	}
}

func TestFleetHostKeyCheckingIsOn(t *testing.T) {
	f := Start(t, Options{Hosts: 1})
	sshBin := RequireTool(t, "ssh")
	h := f.Hosts[0]

	// The same command against a known_hosts that does not hold the key must be refused:
	// proof that the fleet's ssh arguments really check host keys.
	empty := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	args := f.SSHArgs(h)
	for i, a := range args {
		if a == "UserKnownHostsFile="+f.KnownHosts {
			args[i] = "UserKnownHostsFile=" + empty
		}
	}
	out, err := exec.Command(sshBin, append(args, "true")...).CombinedOutput()
	if err == nil {
		t.Fatalf("ssh with an empty known_hosts succeeded; host key checking is off\n%s", out)
	}
	if !strings.Contains(string(out), "Host key verification failed") {
		t.Errorf("unexpected refusal: %s", out)
	}
}

func TestFleetAnsiblePing(t *testing.T) {
	f := Start(t, Options{Hosts: 5})
	ansible := RequireTool(t, "ansible")

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, ansible, "-i", f.Inventory, "all", "-m", "ping", "-f", "5")
	cmd.Dir = f.Dir
	cmd.Env = AnsibleEnv(f.Dir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("ansible ping: %v\n%s", err, out.String())
	}
	for _, h := range f.Hosts {
		if !strings.Contains(out.String(), h.Name+" | SUCCESS") {
			t.Errorf("ansible did not reach %s:\n%s", h.Name, out.String())
		}
	}
	if n := strings.Count(out.String(), `"ping": "pong"`); n != len(f.Hosts) {
		t.Errorf("%d pongs, want %d:\n%s", n, len(f.Hosts), out.String())
	}
}

func TestFleetStopLeavesNothing(t *testing.T) {
	f := Start(t, Options{Hosts: 2})
	var pids []int
	for _, h := range f.Hosts {
		pids = append(pids, h.proc.cmd.Process.Pid)
	}
	f.Stop()
	f.Stop() // idempotent
	for _, h := range f.Hosts {
		if c, err := net.DialTimeout("tcp", h.Endpoint(), time.Second); err == nil {
			c.Close()
			t.Errorf("%s still accepts connections after Stop", h.Name)
		}
	}
	for _, pid := range pids {
		if _, err := os.Stat(filepath.Join("/proc", itoa(pid))); err == nil {
			t.Errorf("sshd pid %d still exists after Stop", pid)
		}
	}
}

func TestInventoryDescribesFleet(t *testing.T) {
	f := Start(t, Options{Hosts: 3, Group: "db", NamePrefix: "pg"})
	b, err := os.ReadFile(f.Inventory)
	if err != nil {
		t.Fatal(err)
	}
	inv := string(b)
	for _, h := range f.Hosts {
		want := h.Name + " ansible_host=127.0.0.1 ansible_port=" + itoa(h.Port)
		if !strings.Contains(inv, want) {
			t.Errorf("inventory lacks %q:\n%s", want, inv)
		}
	}
	for _, want := range []string{"[db]", "[db:vars]", "ansible_ssh_private_key_file=" + f.ClientKey, "StrictHostKeyChecking=yes", "UserKnownHostsFile=" + f.KnownHosts} {
		if !strings.Contains(inv, want) {
			t.Errorf("inventory lacks %q:\n%s", want, inv)
		}
	}
	if f.Hosts[0].Name != "pg01" {
		t.Errorf("first host %q, want pg01", f.Hosts[0].Name)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestFleetSessionsSkipLoginUsersBashrc checks that the fleet's sessions see an empty
// ~/.bashrc when the login user has one (quietShell), while the file itself is untouched.
func TestFleetSessionsSkipLoginUsersBashrc(t *testing.T) {
	home, _ := os.UserHomeDir()
	rc := filepath.Join(home, ".bashrc")
	before, err := os.ReadFile(rc)
	if os.Geteuid() != 0 || err != nil || len(before) == 0 {
		t.Skip("needs root with a non-empty ~/.bashrc")
	}
	f := Start(t, Options{Hosts: 1})
	if f.wrap == nil {
		t.Skip("mount namespaces are not available here")
	}
	sshBin := RequireTool(t, "ssh")
	out, err := exec.Command(sshBin, append(f.SSHArgs(f.Hosts[0]), `wc -c < "$HOME/.bashrc"`)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ssh: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "0" {
		t.Errorf("the session's ~/.bashrc has %s bytes, want 0", got)
	}
	after, _ := os.ReadFile(rc)
	if !bytes.Equal(before, after) {
		t.Error("~/.bashrc changed on the controller")
	}
}
