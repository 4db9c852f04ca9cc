package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// TestMalformedPlaybooksTouchNoHost runs every malformed playbook of the loader's scenarios
// (testdata/playbooks/load/invalid) through `kpx run` against an inventory whose host is
// a listener counting connections: each must end with exit code 4 and its one expected
// error (file:line:column) on stderr, and no connection may reach the host.
func TestMalformedPlaybooksTouchNoHost(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var accepted atomic.Int64
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	inv := filepath.Join(t.TempDir(), "inventory.ini")
	if err := os.WriteFile(inv, []byte("[fleet]\nh1 ansible_host=127.0.0.1 ansible_port="+port+"\n[all:vars]\nlive=x\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	dir, _ := filepath.Abs("../../testdata/playbooks/load")
	files, _ := filepath.Glob(filepath.Join(dir, "invalid", "*.yml"))
	if len(files) < 15 {
		t.Fatalf("%d malformed playbooks, want at least 15", len(files))
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yml")
		t.Run(name, func(t *testing.T) {
			want, err := os.ReadFile(strings.TrimSuffix(file, ".yml") + ".err")
			if err != nil {
				t.Fatal(err)
			}
			// The .err files name the playbook relative to testdata/playbooks/load; kpx
			// names it as given on the command line.
			abs := filepath.Join(dir, "invalid")
			wantMsg := strings.NewReplacer("invalid/", abs+"/", "relative to invalid)", "relative to "+abs+")").Replace(strings.TrimSpace(string(want)))
			if msg, ok := strings.CutSuffix(wantMsg, ":invalid"); ok { // a role search path ends with the playbook's directory
				wantMsg = msg + ":" + abs
			}
			var out, errOut bytes.Buffer
			code := run(context.Background(), []string{"run", "--state-dir", t.TempDir(), "-i", inv, file}, &out, &errOut)
			if code != ExitUnreachable {
				t.Errorf("exit code %d, want %d", code, ExitUnreachable)
			}
			if !strings.Contains(errOut.String(), wantMsg) {
				t.Errorf("stderr lacks %q:\n%s", wantMsg, errOut.String())
			}
			if out.Len() != 0 {
				t.Errorf("output on stdout:\n%s", out.String())
			}
		})
	}
	if n := accepted.Load(); n != 0 {
		t.Errorf("%d connections reached the host: a malformed playbook touched it", n)
	}
}
