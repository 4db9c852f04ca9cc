package modules

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kpxdev/kpx/internal/testfleet"
	"github.com/kpxdev/kpx/playbooks"
	"github.com/kpxdev/kpx/transport"
)

// fleetConn starts a one-host OpenSSH fleet and returns a pooled connection to it as
// user (the fleet's own user when nil).
func fleetConn(t *testing.T, f *testfleet.Fleet, user *testfleet.User) Host {
	t.Helper()
	if f == nil {
		f = testfleet.Start(t, testfleet.Options{})
	}
	h := f.Hosts[0]
	cfg := &transport.Config{Name: h.Name, Addr: h.Addr, Port: h.Port, User: f.User,
		IdentityFiles: []string{f.ClientKey}, IdentitiesOnly: true, KnownHostsFiles: []string{f.KnownHosts}}
	if user != nil {
		cfg.User = user.Name
	}
	pool := transport.NewPool(transport.PoolOptions{})
	t.Cleanup(func() { pool.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pool.Get(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

// callModule checks args as the loader would, then runs the module on h.
func callModule(t *testing.T, h Host, name string, c Call) Result {
	t.Helper()
	if err := Builtin().CheckArgs(name, c.Args); err != nil {
		t.Fatalf("%s: invalid args %v: %v", name, c.Args, err)
	}
	mod, ok := Remote(name)
	if !ok {
		t.Fatalf("no module %s", name)
	}
	if c.Render == nil {
		tpl := playbooks.NewTemplar(playbooks.TemplarOptions{})
		c.Render = func(src string) (string, error) {
			data, err := os.ReadFile(src)
			if err != nil {
				return "", err
			}
			return tpl.RenderText(string(data), map[string]any{"greeting": "hello", "items": []any{"a", "b"}})
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute) // generous: a loaded CI machine
	defer cancel()
	r, err := mod.Run(ctx, h, c)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return r
}

// snapshot describes every path under dir: type, mode, size, content, link target.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b.WriteString(rel + " " + fi.Mode().String())
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			b.WriteString(" -> " + target)
		case fi.Mode().IsRegular():
			data, _ := os.ReadFile(p)
			b.WriteString(" " + string(data))
		}
		b.WriteString("\n")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// withDirArgs replaces {dir} in every string of args.
func withDirArgs(args map[string]any, dir string) map[string]any {
	return withDir(args, dir).(map[string]any)
}
