package transport

import (
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kpxdev/kpx/internal/testfleet"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// encryptedCopy writes the fleet's client key protected by a passphrase, with its .pub.
func encryptedCopy(t *testing.T, f *testfleet.Fleet, passphrase string) (string, any) {
	t.Helper()
	b, err := os.ReadFile(f.ClientKey)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := ssh.ParseRawPrivateKey(b)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKeyWithPassphrase(raw, "", []byte(passphrase))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "id_encrypted")
	writeFile(t, file, string(pem.EncodeToMemory(block)), 0o600)
	return file, raw
}

func TestAuthKeyFile(t *testing.T) {
	f := testfleet.Start(t, testfleet.Options{Hosts: 1})
	cfg := fleetConfig(f, f.Hosts[0])
	cfg.AgentSocket = ""
	if out := mustRun(t, dialFleet(t, cfg), "id -un"); strings.TrimSpace(out) != f.User {
		t.Fatalf("logged in as %q, want %q", out, f.User)
	}
	// A key the host does not accept is an auth failure.
	_, _, other := ed25519Key(t)
	bad := filepath.Join(t.TempDir(), "id_other")
	writeFile(t, bad, string(other), 0o600)
	cfg.IdentityFiles = []string{bad}
	_, err := Dial(testCtx(t), cfg, PoolOptions{})
	wantUnreachable(t, err, "auth")
}

func TestAuthAgent(t *testing.T) {
	f := testfleet.Start(t, testfleet.Options{Hosts: 1})
	ag := testfleet.StartAgent(t)
	cfg := fleetConfig(f, f.Hosts[0])
	cfg.IdentityFiles = nil
	cfg.AgentSocket = ag.Socket
	// The agent is empty: nothing to authenticate with.
	_, err := Dial(testCtx(t), cfg, PoolOptions{})
	wantUnreachable(t, err, "auth")

	ag.Add(t, f.ClientKey)
	mustRun(t, dialFleet(t, cfg), "true")
}

func TestAuthPassphraseKey(t *testing.T) {
	f := testfleet.Start(t, testfleet.Options{Hosts: 1})
	const passphrase = "kpx-secret-passphrase"
	file, raw := encryptedCopy(t, f, passphrase)
	cfg := fleetConfig(f, f.Hosts[0])
	cfg.IdentityFiles = []string{file}
	_, err := Dial(testCtx(t), cfg, PoolOptions{})
	ue := wantUnreachable(t, err, "auth")
	if msg := ue.Error(); !strings.Contains(msg, file) || !strings.Contains(msg, "passphrase") || !strings.Contains(msg, "ssh-agent") {
		t.Fatalf("error does not explain the passphrase-protected key: %s", msg)
	}

	// Once the agent holds the key, the same configuration works (IdentitiesOnly keeps
	// to the agent key matching the file).
	ag := testfleet.StartAgent(t)
	conn, err := net.Dial("unix", ag.Socket)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := agent.NewClient(conn).Add(agent.AddedKey{PrivateKey: raw}); err != nil {
		t.Fatal(err)
	}
	cfg.AgentSocket = ag.Socket
	cfg.IdentitiesOnly = true
	mustRun(t, dialFleet(t, cfg), "true")
}

func TestAuthPassword(t *testing.T) {
	f := testfleet.Start(t, testfleet.Options{Hosts: 1, Override: []string{"PasswordAuthentication yes"}})
	const password = "kpx-Login-Pw-8513"
	u := f.AddUser(t, testfleet.UserOptions{Password: password})
	cfg := fleetConfig(f, f.Hosts[0])
	cfg.User = u.Name
	cfg.IdentityFiles = nil
	cfg.Password = password
	if out := mustRun(t, dialFleet(t, cfg), "id -un"); strings.TrimSpace(out) != u.Name {
		t.Fatalf("logged in as %q, want %q", out, u.Name)
	}
	cfg.Password = "wrong"
	_, err := Dial(testCtx(t), cfg, PoolOptions{})
	ue := wantUnreachable(t, err, "auth")
	if strings.Contains(ue.Error(), "wrong") || strings.Contains(ue.Error(), password) {
		t.Fatalf("error reveals a password: %s", ue.Error())
	}
}
