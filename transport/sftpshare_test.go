package transport

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kpxdev/kpx/internal/testfleet"
)

// sessionStarts counts the sessions of a kind ("command", "subsystem 'sftp'") sshd
// started, from its log (at LogLevel VERBOSE, OpenSSH logs each session it starts).
func sessionStarts(t *testing.T, h *testfleet.Host, kind string) int {
	t.Helper()
	b, err := os.ReadFile(h.Log)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "Starting session: "+kind)
}

func sftpStarts(t *testing.T, h *testfleet.Host) int { return sessionStarts(t, h, "subsystem 'sftp'") }

// Transfers on one connection share one SFTP session; a broken session is replaced;
// a host capped at one session still transfers, with a session per transfer.
func TestTransfersShareOneSFTPSession(t *testing.T) {
	f := testfleet.Start(t, testfleet.Options{Hosts: 1, Override: []string{"LogLevel VERBOSE"}})
	h := f.Hosts[0]
	c := dialFleet(t, fleetConfig(f, h))
	dir := t.TempDir()
	put := func(c *SSHConn, name string) {
		t.Helper()
		spec := UploadSpec{Reader: strings.NewReader(name), Size: int64(len(name)), Remote: filepath.Join(dir, name)}
		if err := c.Upload(testCtx(t), spec); err != nil {
			t.Fatal(err)
		}
	}
	put(c, "a")
	put(c, "b")
	if err := c.Download(testCtx(t), filepath.Join(dir, "a"), filepath.Join(t.TempDir(), "a")); err != nil {
		t.Fatal(err)
	}
	put(c, "c")
	if n := sftpStarts(t, h); n != 1 {
		t.Fatalf("3 uploads and a download started %d SFTP sessions, want 1", n)
	}

	// A transfer cancelled midway closes the shared session; the next one opens another.
	ctx, cancel := context.WithCancel(testCtx(t))
	err := c.Upload(ctx, UploadSpec{Reader: &cancelAfterReader{data: make([]byte, 8<<20), at: 1 << 20, cancel: cancel}, Size: 8 << 20, Remote: filepath.Join(dir, "big")})
	if err == nil {
		t.Fatal("cancelled upload succeeded")
	}
	put(c, "d")
	if n := sftpStarts(t, h); n != 2 {
		t.Fatalf("after a cancelled transfer: %d SFTP sessions started, want 2", n)
	}
	for _, name := range []string{"a", "b", "c", "d"} {
		if b, err := os.ReadFile(filepath.Join(dir, name)); err != nil || string(b) != name {
			t.Fatalf("%s holds %q (%v)", name, b, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "big")); !os.IsNotExist(err) {
		t.Fatalf("cancelled upload left its file: %v", err)
	}

	// One session at most: the SFTP session cannot stay open beside commands.
	p := NewPool(PoolOptions{MaxSessions: 1, Logger: testLogger(t)})
	t.Cleanup(func() { p.Close() })
	one, err := p.Get(testCtx(t), fleetConfig(f, h))
	if err != nil {
		t.Fatal(err)
	}
	before := sftpStarts(t, h)
	put(one, "e")
	put(one, "f")
	mustRun(t, one, "true")
	if n := sftpStarts(t, h) - before; n != 2 {
		t.Fatalf("capped at one session: 2 uploads started %d SFTP sessions, want 2", n)
	}
}

// Inspect runs on the uploaded file in the session that verifies it; its output is
// given only when it succeeds, and a failing inspection does not fail the upload.
func TestUploadInspect(t *testing.T) {
	f := testfleet.Start(t, testfleet.Options{Hosts: 1})
	c := dialFleet(t, fleetConfig(f, f.Hosts[0]))
	dir := t.TempDir()
	var out bytes.Buffer
	spec := UploadSpec{Reader: strings.NewReader("hello"), Size: 5, Remote: filepath.Join(dir, "f"), Mode: 0o640,
		Inspect: `stat -c '%a %s' "$1"; case "$1" in */.kpx-tmp-f-*) echo temporary;; esac`, InspectOutput: &out}
	if err := c.Upload(testCtx(t), spec); err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "640 5\ntemporary\n"; got != want {
		t.Fatalf("inspection printed %q, want %q", got, want)
	}
	out.Reset()
	spec = UploadSpec{Reader: strings.NewReader("x"), Size: 1, Remote: filepath.Join(dir, "g"), Inspect: "echo partial; exit 3", InspectOutput: &out}
	if err := c.Upload(testCtx(t), spec); err != nil {
		t.Fatalf("a failing inspection failed the upload: %v", err)
	}
	if out.Len() != 0 {
		t.Fatalf("a failing inspection's output was given: %q", out.String())
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "g")); string(b) != "x" {
		t.Fatalf("g holds %q", b)
	}
}

// A known sha256 that the content does not have fails the upload and leaves nothing.
func TestUploadKnownSHA256Mismatch(t *testing.T) {
	f := testfleet.Start(t, testfleet.Options{Hosts: 1})
	c := dialFleet(t, fleetConfig(f, f.Hosts[0]))
	dir := t.TempDir()
	local := filepath.Join(t.TempDir(), "src")
	writeFile(t, local, "changed since it was hashed", 0o644)
	err := c.Upload(testCtx(t), UploadSpec{Local: local, Remote: filepath.Join(dir, "dst"), SHA256: strings.Repeat("ab", 32)})
	if err == nil || !strings.Contains(err.Error(), "sha256 mismatch") {
		t.Fatalf("err = %v, want a sha256 mismatch", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("left behind: %v", entries)
	}
}
