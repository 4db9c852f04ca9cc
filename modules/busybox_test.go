package modules

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kpxdev/kpx/internal/testfleet"
	"github.com/kpxdev/kpx/transport"
)

// busyboxHost starts an OpenSSH host whose sessions see only busybox's applets on PATH:
// no coreutils, no Python, no bash, no curl.
func busyboxHost(t *testing.T) Host {
	t.Helper()
	bb := testfleet.RequireTool(t, "busybox")
	bin := filepath.Join(t.TempDir(), "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	list, err := exec.Command(bb, "--list").Output()
	if err != nil {
		t.Fatalf("busybox --list: %v", err)
	}
	for _, applet := range strings.Fields(string(list)) {
		if err := os.Symlink(bb, filepath.Join(bin, applet)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	f := testfleet.Start(t, testfleet.Options{Override: []string{"SetEnv PATH=" + bin}})
	h := fleetConn(t, f, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	res, err := h.Run(ctx, transport.Cmd{Shell: `echo "$PATH"; command -v sha1sum; command -v python3 bash curl coreutils || true`})
	if err != nil {
		t.Fatal(err)
	}
	want := bin + "\n" + bin + "/sha1sum\n"
	if string(res.Stdout) != want {
		t.Fatalf("the session is not busybox-only: %q, want %q", res.Stdout, want)
	}
	return h
}

// TestBusyboxTarget runs the core modules against a host that has only busybox: every
// idempotence case, then stat, wait_for and uri (through busybox wget).
func TestBusyboxTarget(t *testing.T) {
	h := busyboxHost(t)
	ctrl, _ := filepath.Abs("testdata/ctrl")
	runIdemCases(t, h, idemCases(ctrl))
	statWaitForURI(t, h)
}
