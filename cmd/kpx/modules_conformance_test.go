package main

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kpxdev/kpx/internal/testfleet"
)

// TestModulesMatchAnsible runs testdata/modules/site.yml (file modules, templates,
// wait_for, uri, fetch, and custom modules in shell, old style and Go) with
// ansible-playbook and with kpx run on the same OpenSSH fleet, each into its own root:
// first run, second run (idempotent) and a check-mode run must give the same PLAY RECAP,
// and both roots must hold the same files with the same modes.
func TestModulesMatchAnsible(t *testing.T) {
	if testing.Short() {
		t.Skip("the module conformance playbook runs two tools three times over two hosts")
	}
	f := testfleet.Start(t, testfleet.Options{Hosts: 2})
	ansible := testfleet.RequireTool(t, "ansible-playbook")
	play := conformancePlaybook(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "the fleet page")
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Minute)
	defer cancel()

	roots := map[string]string{"ansible": t.TempDir(), "kpx": t.TempDir()}
	stateDir := t.TempDir()
	runs := []struct {
		name  string
		extra []string
	}{{"first run", nil}, {"second run", nil}, {"check mode", []string{"--check"}}}
	for _, r := range runs {
		args := func(tool string) []string {
			a := []string{"-f", "2", "-i", f.Inventory, "-e", "root=" + roots[tool], "-e", "uri_url=" + srv.URL + "/", "-e", "uri_port=" + port}
			return append(append(a, r.extra...), play)
		}
		want, wantCode := testfleet.RunAnsible(ctx, t, f.Dir, ansible, args("ansible")...)
		var out, errOut bytes.Buffer
		code := run(ctx, append([]string{"run", "--state-dir", stateDir}, args("kpx")...), &out, &errOut)
		if g, w := recapText(out.String()), recapText(string(want)); g != w || code != wantCode {
			t.Fatalf("%s: PLAY RECAP differs (exit %d, ansible-playbook %d)\n--- kpx\n%s\n--- ansible-playbook\n%s\n--- kpx stderr\n%s",
				r.name, code, wantCode, out.String(), want, errOut.String())
		}
		t.Logf("%s:\n%s", r.name, recapText(out.String()))
	}
	a, k := tree(t, roots["ansible"]), tree(t, roots["kpx"])
	if a != k {
		t.Errorf("the hosts' files differ (got: kpx, want: ansible):\n%s", testfleet.Diff(k, a))
	}
	if !strings.Contains(k, "custom/go.txt -rw-r--r-- written by a Go binary module") {
		t.Errorf("the Go module's file is missing:\n%s", k)
	}
}

// conformancePlaybook copies testdata/modules to a scratch directory and builds the Go
// custom module into its library/.
func conformancePlaybook(t *testing.T) string {
	t.Helper()
	src, _ := filepath.Abs("../../testdata/modules")
	dst := t.TempDir()
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	for _, mod := range []string{"want_json_line", "old_style_fact.sh", "broken"} {
		os.Chmod(filepath.Join(dst, "library", mod), 0o755)
	}
	goTool := testfleet.RequireTool(t, "go")
	build := exec.Command(goTool, "build", "-o", filepath.Join(dst, "library", "gobin"), ".")
	build.Dir = filepath.Join(src, "gomod")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the Go module: %v\n%s", err, out)
	}
	return filepath.Join(dst, "site.yml")
}

// recapText is the PLAY RECAP section of ansible-playbook's output.
func recapText(out string) string {
	i := strings.Index(out, "PLAY RECAP")
	if i < 0 {
		return "(no PLAY RECAP)"
	}
	return strings.TrimSpace(out[i:])
}

// tree describes every path under root, relative to it: type, mode, content; the root's
// own name is replaced in contents and paths (fetch puts the source path under dest).
func tree(t *testing.T, root string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = strings.ReplaceAll(rel, strings.TrimPrefix(root, "/"), "ROOT")
		fmt.Fprintf(&b, "%s %s", rel, fi.Mode())
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			b.WriteString(" -> " + target)
		case fi.Mode().IsRegular():
			data, _ := os.ReadFile(p)
			b.WriteString(" " + strings.ReplaceAll(string(data), root, "ROOT"))
		}
		b.WriteString("\n")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}
