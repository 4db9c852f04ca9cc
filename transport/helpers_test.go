package transport

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"golang.org/x/crypto/ssh"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kpxdev/kpx/internal/testfleet"
)

// fleetConfig returns a Config reaching h with the fleet's key and known_hosts, strict.
func fleetConfig(f *testfleet.Fleet, h *testfleet.Host) *Config {
	return &Config{
		Name:                  h.Name,
		Addr:                  h.Addr,
		Port:                  h.Port,
		User:                  f.User,
		IdentityFiles:         []string{f.ClientKey},
		KnownHostsFiles:       []string{f.KnownHosts},
		StrictHostKeyChecking: StrictYes,
		ConnectTimeout:        20 * time.Second, // generous: loaded 2-core machines
	}
}

// testCtx returns a context bounded generously for one test step.
func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// testLogger logs to the test output.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, nil))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// dialFleet dials cfg with a private pool closed at the end of the test.
func dialFleet(t testing.TB, cfg *Config) *SSHConn {
	t.Helper()
	c, err := Dial(testCtx(t), cfg, PoolOptions{Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("dial %s: %v", cfg.Name, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// mustRun runs a shell command and fails the test unless it exits 0.
func mustRun(t testing.TB, c interface {
	Run(context.Context, Cmd) (Result, error)
}, script string) string {
	t.Helper()
	res, err := c.Run(testCtx(t), Cmd{Shell: script})
	if err != nil {
		t.Fatalf("run %q: %v\nstdout: %s\nstderr: %s", script, err, res.Stdout, res.Stderr)
	}
	return string(res.Stdout)
}

func wantUnreachable(t *testing.T, err error, reason string) *UnreachableError {
	t.Helper()
	var ue *UnreachableError
	if !errors.As(err, &ue) {
		t.Fatalf("error %v (%T), want *UnreachableError", err, err)
	}
	if ue.Reason != reason {
		t.Fatalf("unreachable reason %q, want %q: %v", ue.Reason, reason, err)
	}
	return ue
}

func writeFile(t testing.TB, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

func ed25519Generate() (ed25519.PublicKey, ed25519.PrivateKey, error) {
	return ed25519.GenerateKey(rand.Reader)
}

func newBufferLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

func itoa(i int) string { return strconv.Itoa(i) }

func marshalKey(h *testfleet.Host) []byte { return ssh.MarshalAuthorizedKey(h.HostKey) }
