package modules

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kpxdev/kpx/transport"
)

// tripCounter counts a host's round trips: commands and uploads. With blind set it
// drops UploadSpec.Inspect, as a transport that does not support it would.
type tripCounter struct {
	Host
	blind bool

	mu            sync.Mutex
	runs, uploads int
}

func (c *tripCounter) Run(ctx context.Context, cmd transport.Cmd) (transport.Result, error) {
	c.mu.Lock()
	c.runs++
	c.mu.Unlock()
	return c.Host.Run(ctx, cmd)
}

func (c *tripCounter) Upload(ctx context.Context, spec transport.UploadSpec) error {
	c.mu.Lock()
	c.uploads++
	c.mu.Unlock()
	if c.blind {
		spec.Inspect, spec.InspectOutput = "", nil
	}
	return c.Host.Upload(ctx, spec)
}

// Config passes the connection's configuration on (modules read its default become).
func (c *tripCounter) Config() *transport.Config {
	return c.Host.(interface{ Config() *transport.Config }).Config()
}

func (c *tripCounter) take() (runs, uploads int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	runs, uploads, c.runs, c.uploads = c.runs, c.uploads, 0, 0
	return runs, uploads
}

// copy and template as the login user cost the host one inspection and one upload (whose
// verifying session also reports the new file's attributes), and one inspection when
// nothing changes. A transport that cannot inspect costs one more round trip and gives
// the same result.
func TestCopyRoundTrips(t *testing.T) {
	conn := fleetConn(t, nil, nil)
	src := filepath.Join(t.TempDir(), "motd")
	if err := os.WriteFile(src, []byte("hello {{ who }}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var digests Digests
	for _, tt := range []struct {
		module    string
		blind     bool
		wantTrips int // runs when the file changes
	}{
		{"copy", false, 1},
		{"template", false, 1},
		{"copy", true, 2},
		{"template", true, 2},
	} {
		h := &tripCounter{Host: conn, blind: tt.blind}
		dest := filepath.Join(dir, tt.module+map[bool]string{true: "-blind", false: ""}[tt.blind])
		c := Call{Args: map[string]any{"src": src, "dest": dest, "mode": "0640"}, Digests: &digests,
			Render: func(string) (string, error) { return "hello world\n", nil }}
		run := func() Result {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := Builtin().CheckArgs(tt.module, c.Args); err != nil {
				t.Fatal(err)
			}
			m, _ := Remote(tt.module)
			r, err := m.Run(ctx, h, c)
			if err != nil || r.Failed() {
				t.Fatalf("%s: %v %v", tt.module, r, err)
			}
			return r
		}
		r := run()
		if runs, uploads := h.take(); runs != tt.wantTrips || uploads != 1 {
			t.Errorf("%s (blind %v), new file: %d commands and %d uploads, want %d and 1", tt.module, tt.blind, runs, uploads, tt.wantTrips)
		}
		st, err := os.Stat(dest)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"changed": true, "state": "file", "mode": "0640", "size": st.Size(), "uid": os.Getuid(), "gid": os.Getgid(), "owner": ownerName(t)}
		for k, v := range want {
			if r[k] != v {
				t.Errorf("%s (blind %v): %s = %v (%T), want %v", tt.module, tt.blind, k, r[k], r[k], v)
			}
		}
		if r := run(); r.Changed() {
			t.Errorf("%s again: changed", tt.module)
		}
		if runs, uploads := h.take(); runs != 1 || uploads != 0 {
			t.Errorf("%s (blind %v), unchanged: %d commands and %d uploads, want 1 and 0", tt.module, tt.blind, runs, uploads)
		}
	}
}

func ownerName(t *testing.T) string {
	b, err := os.ReadFile("/etc/passwd")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Split(l, ":")
		if len(f) > 2 && f[2] == strconv.Itoa(os.Getuid()) {
			return f[0]
		}
	}
	t.Fatal("no passwd entry")
	return ""
}

// Digests hashes a file once while it is unchanged, and again when it changes.
func TestDigestsHashOncePerVersion(t *testing.T) {
	p := filepath.Join(t.TempDir(), "blob")
	if err := os.WriteFile(p, []byte("one"), 0o644); err != nil {
		t.Fatal(err)
	}
	var d Digests
	first, err := d.of(p)
	if err != nil {
		t.Fatal(err)
	}
	if first.sha1 != "fe05bcdcdc4928012781a5f1a2a77cbb5398e106" || first.size != 3 || first.mode != 0o644 {
		t.Fatalf("digest of %q: %+v", "one", first)
	}
	// Same size and times: the remembered digest is used (the content is not read again).
	fi, _ := os.Stat(p)
	if err := os.WriteFile(p, []byte("two"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	if again, _ := d.of(p); again != first {
		t.Fatalf("unchanged key hashed again: %+v", again)
	}
	// A new modification time: hashed again.
	later := fi.ModTime().Add(time.Second)
	if err := os.Chtimes(p, later, later); err != nil {
		t.Fatal(err)
	}
	now, _ := d.of(p)
	if now.sha1 == first.sha1 || now.sha256 == first.sha256 || now.md5 == first.md5 {
		t.Fatalf("changed file kept its digest: %+v", now)
	}
	var none *Digests
	if direct, _ := none.of(p); direct != now {
		t.Fatalf("nil Digests: %+v, want %+v", direct, now)
	}
}
