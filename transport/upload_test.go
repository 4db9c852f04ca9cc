package transport

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kpxdev/kpx/internal/testfleet"
)

func randomFile(t testing.TB, size int) (string, string) {
	t.Helper()
	b := make([]byte, size)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "payload")
	writeFile(t, file, string(b), 0o644)
	sum := sha256.Sum256(b)
	return file, hex.EncodeToString(sum[:])
}

func TestUpload10MiBVerified(t *testing.T) {
	f := testfleet.Start(t, testfleet.Options{Hosts: 1})
	c := dialFleet(t, fleetConfig(f, f.Hosts[0]))
	local, sum := randomFile(t, 10<<20)
	dir := t.TempDir()
	remote := filepath.Join(dir, "patch.ko")
	if err := c.Upload(testCtx(t), UploadSpec{Local: local, Remote: remote, Mode: 0o600}); err != nil {
		t.Fatal(err)
	}
	// Checked on the host with its own sha256sum, plus mode and no leftovers.
	out := mustRun(t, c, "sha256sum "+Quote(remote)+" && stat -c %a "+Quote(remote)+" && ls -A "+Quote(dir))
	want := sum + "  " + remote + "\n600\npatch.ko\n"
	if out != want {
		t.Fatalf("host reports %q, want %q", out, want)
	}
	// Download it back.
	back := filepath.Join(t.TempDir(), "back")
	if err := c.Download(testCtx(t), remote, back); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(local)
	b, _ := os.ReadFile(back)
	if !bytes.Equal(a, b) {
		t.Fatal("downloaded content differs")
	}
}

func TestUploadOwnerAndReplace(t *testing.T) {
	f := testfleet.Start(t, testfleet.Options{Hosts: 1})
	c := dialFleet(t, fleetConfig(f, f.Hosts[0]))
	remote := filepath.Join(t.TempDir(), "conf")
	writeFile(t, remote, "old", 0o644)
	uid, gid := 65534, 65534
	if os.Geteuid() != 0 {
		uid, gid = os.Getuid(), os.Getgid()
	}
	err := c.Upload(testCtx(t), UploadSpec{Reader: strings.NewReader("new"), Size: 3, Remote: remote, Mode: 0o640, UID: &uid, GID: &gid})
	if err != nil {
		t.Fatal(err)
	}
	out := mustRun(t, c, "cat "+Quote(remote)+"; stat -c ' %a %u %g' "+Quote(remote))
	if want := "new 640 " + itoa(uid) + " " + itoa(gid) + "\n"; out != want {
		t.Fatalf("got %q, want %q", out, want)
	}
}

func TestUploadFailuresLeaveNothing(t *testing.T) {
	f := testfleet.Start(t, testfleet.Options{Hosts: 1})
	c := dialFleet(t, fleetConfig(f, f.Hosts[0]))
	dir := t.TempDir()
	tests := []struct {
		name string
		spec UploadSpec
	}{
		{name: "short source", spec: UploadSpec{Reader: strings.NewReader("abc"), Size: 10, Remote: filepath.Join(dir, "a")}},
		{name: "missing directory", spec: UploadSpec{Reader: strings.NewReader("abc"), Size: 3, Remote: filepath.Join(dir, "nodir", "a")}},
		{name: "relative path", spec: UploadSpec{Reader: strings.NewReader("abc"), Size: 3, Remote: "a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := c.Upload(testCtx(t), tt.spec); err == nil {
				t.Fatal("upload succeeded")
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Fatalf("left behind: %v", entries)
			}
		})
	}
}

// The link to the host is cut mid-transfer by a proxy: the final path must stay empty.
func TestUploadCutOffLeavesNothing(t *testing.T) {
	f := testfleet.Start(t, testfleet.Options{Hosts: 1})
	h := f.Hosts[0]
	proxy := startProxy(t, h.Endpoint(), 3<<20) // cut after ~3 MiB of a 10 MiB upload
	cfg := fleetConfig(f, h)
	cfg.Port = proxy.port()
	// known_hosts records the host under its real port; the proxy port needs an entry.
	kh := filepath.Join(t.TempDir(), "known_hosts")
	writeFile(t, kh, "[127.0.0.1]:"+itoa(proxy.port())+" "+string(marshalKey(h)), 0o600)
	cfg.KnownHostsFiles = []string{kh}
	c := dialFleet(t, cfg)
	local, _ := randomFile(t, 10<<20)
	dir := t.TempDir()
	remote := filepath.Join(dir, "patch.ko")
	err := c.Upload(testCtx(t), UploadSpec{Local: local, Remote: remote})
	if err == nil {
		t.Fatal("upload through a cut link succeeded")
	}
	t.Logf("upload error: %v", err)
	if _, err := os.Stat(remote); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("final path exists after an interrupted upload (stat: %v)", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".kpx-tmp-patch.ko-") {
			t.Errorf("unexpected file %s", e.Name())
		}
	}
	// The broken connection is re-dialed for the next operation.
	mustRun(t, c, "true")
	if d := c.Dials(); d != 2 {
		t.Errorf("dialed %d times, want 2 (one re-dial)", d)
	}
}

func TestUploadCancelled(t *testing.T) {
	f := testfleet.Start(t, testfleet.Options{Hosts: 1})
	c := dialFleet(t, fleetConfig(f, f.Hosts[0]))
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	r := &cancelAfterReader{data: make([]byte, 8<<20), cancel: cancel, at: 1 << 20}
	err := c.Upload(ctx, UploadSpec{Reader: r, Size: int64(len(r.data)), Remote: filepath.Join(dir, "f")})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	// The connection still allows cleaning up: nothing at all is left.
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("left behind: %v", entries)
	}
	mustRun(t, c, "true")
}

type cancelAfterReader struct {
	data   []byte
	off    int
	at     int
	cancel func()
}

func (r *cancelAfterReader) Read(p []byte) (int, error) {
	if r.off >= r.at {
		r.cancel()
	}
	if r.off >= len(r.data) {
		return 0, nil
	}
	n := copy(p, r.data[r.off:])
	r.off += n
	return n, nil
}

func TestDownloadFailureLeavesNothing(t *testing.T) {
	f := testfleet.Start(t, testfleet.Options{Hosts: 1})
	c := dialFleet(t, fleetConfig(f, f.Hosts[0]))
	dir := t.TempDir()
	local := filepath.Join(dir, "out")
	if err := c.Download(testCtx(t), "/nonexistent/kpx-file", local); err == nil {
		t.Fatal("download of a missing file succeeded")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	remote, _ := randomFile(t, 1<<20)
	if err := c.Download(ctx, remote, local); err == nil {
		t.Fatal("cancelled download succeeded")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("left behind: %v", entries)
	}
}
