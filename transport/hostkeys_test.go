package transport

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/kpxdev/kpx/internal/testfleet"
	"golang.org/x/crypto/ssh"
)

func TestHostKeyRefused(t *testing.T) {
	f := testfleet.Start(t, testfleet.Options{Hosts: 1})
	h := f.Hosts[0]
	_, otherKey, _ := ed25519Key(t)
	fp := ssh.FingerprintSHA256(h.HostKey)
	tests := []struct {
		name        string
		knownHosts  string
		strict      string
		wantChanged bool
	}{
		{name: "unknown, strict", knownHosts: "", strict: StrictYes},
		{name: "unknown, default mode", knownHosts: "", strict: ""},
		{name: "changed, strict", knownHosts: h.KnownHostsName() + " " + string(ssh.MarshalAuthorizedKey(otherKey)), strict: StrictYes, wantChanged: true},
		{name: "changed, accept-new", knownHosts: h.KnownHostsName() + " " + string(ssh.MarshalAuthorizedKey(otherKey)), strict: StrictAcceptNew, wantChanged: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kh := filepath.Join(t.TempDir(), "known_hosts")
			writeFile(t, kh, tt.knownHosts, 0o600)
			cfg := fleetConfig(f, h)
			cfg.KnownHostsFiles = []string{kh}
			cfg.StrictHostKeyChecking = tt.strict
			_, err := Dial(testCtx(t), cfg, PoolOptions{Logger: testLogger(t)})
			wantUnreachable(t, err, "host key")
			var hk *HostKeyError
			if !errors.As(err, &hk) || hk.Changed != tt.wantChanged {
				t.Fatalf("error %v, want *HostKeyError with Changed=%v", err, tt.wantChanged)
			}
			msg := err.Error()
			for _, want := range []string{fp, fmt.Sprintf("127.0.0.1 port %d", h.Port), "ssh-ed25519"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error does not name %q: %s", want, msg)
				}
			}
			if tt.wantChanged && !strings.Contains(msg, kh+":1") {
				t.Errorf("changed-key error does not name the offending line %s:1: %s", kh, msg)
			}
			if b, _ := os.ReadFile(kh); string(b) != tt.knownHosts {
				t.Errorf("known_hosts modified on refusal: %q", b)
			}
		})
	}
}

func TestHostKeyAcceptNewRecords(t *testing.T) {
	f := testfleet.Start(t, testfleet.Options{Hosts: 1})
	h := f.Hosts[0]
	kh := filepath.Join(t.TempDir(), "ssh", "known_hosts") // neither dir nor file exist yet
	cfg := fleetConfig(f, h)
	cfg.KnownHostsFiles = []string{kh}
	cfg.StrictHostKeyChecking = StrictAcceptNew
	mustRun(t, dialFleet(t, cfg), "true")

	b, err := os.ReadFile(kh)
	if err != nil {
		t.Fatal(err)
	}
	want := h.KnownHostsName() + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(h.HostKey)))
	if strings.TrimSpace(string(b)) != want {
		t.Fatalf("known_hosts holds %q, want %q", b, want)
	}
	// OpenSSH's own client accepts the recorded line under strict checking.
	sshBin := testfleet.RequireTool(t, "ssh")
	args := f.SSHArgs(h)
	for i, a := range args {
		if a == "UserKnownHostsFile="+f.KnownHosts {
			args[i] = "UserKnownHostsFile=" + kh
		}
	}
	if out, err := exec.Command(sshBin, append(args, "true")...).CombinedOutput(); err != nil {
		t.Fatalf("OpenSSH rejects the recorded key: %v\n%s", err, out)
	}
	// A second kpx connection in strict mode succeeds with the recorded key.
	cfg2 := fleetConfig(f, h)
	cfg2.KnownHostsFiles = []string{kh}
	mustRun(t, dialFleet(t, cfg2), "true")
}

func TestHostKeyCheckingOffWarns(t *testing.T) {
	f := testfleet.Start(t, testfleet.Options{Hosts: 1})
	cfg := fleetConfig(f, f.Hosts[0])
	cfg.KnownHostsFiles = []string{filepath.Join(t.TempDir(), "absent")}
	cfg.StrictHostKeyChecking = StrictNo
	var log syncBuffer
	c, err := Dial(testCtx(t), cfg, PoolOptions{Logger: newBufferLogger(&log)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !strings.Contains(log.String(), "host key not verified") || !strings.Contains(log.String(), ssh.FingerprintSHA256(f.Hosts[0].HostKey)) {
		t.Fatalf("no warning with the fingerprint logged: %q", log.String())
	}
	if _, err := os.Stat(cfg.KnownHostsFiles[0]); !os.IsNotExist(err) {
		t.Errorf("StrictHostKeyChecking=no wrote known_hosts")
	}
}

func TestHostKeyHashedEntries(t *testing.T) {
	f := testfleet.Start(t, testfleet.Options{Hosts: 1})
	keygen := testfleet.RequireTool(t, "ssh-keygen")
	kh := filepath.Join(t.TempDir(), "known_hosts")
	b, _ := os.ReadFile(f.KnownHosts)
	writeFile(t, kh, string(b), 0o600)
	if out, err := exec.Command(keygen, "-H", "-f", kh).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen -H: %v\n%s", err, out)
	}
	hashed, _ := os.ReadFile(kh)
	if !strings.HasPrefix(string(hashed), "|1|") {
		t.Fatalf("known_hosts not hashed: %q", hashed)
	}
	cfg := fleetConfig(f, f.Hosts[0])
	cfg.KnownHostsFiles = []string{kh}
	mustRun(t, dialFleet(t, cfg), "true")
}

// A host with an ECDSA and an ed25519 key, known only by its ed25519 key: kpx must ask
// for ed25519 instead of whatever x/crypto prefers.
func TestHostKeyAlgorithmNegotiated(t *testing.T) {
	dir := t.TempDir()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(k, "")
	if err != nil {
		t.Fatal(err)
	}
	ecdsaFile := filepath.Join(dir, "ssh_host_ecdsa_key")
	writeFile(t, ecdsaFile, string(pem.EncodeToMemory(block)), 0o600)
	// The ECDSA key comes first so that sshd would offer it by preference.
	f := testfleet.Start(t, testfleet.Options{Hosts: 1, Override: []string{"HostKey " + ecdsaFile}})
	mustRun(t, dialFleet(t, fleetConfig(f, f.Hosts[0])), "true")
}

func ed25519Key(t testing.TB) (ssh.Signer, ssh.PublicKey, []byte) {
	t.Helper()
	_, priv, err := ed25519Generate()
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	return s, s.PublicKey(), pem.EncodeToMemory(block)
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
