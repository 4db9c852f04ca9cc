package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kpxdev/kpx/internal/testfleet"
)

var volatileFields = regexp.MustCompile(`"(delta|end|start)": "[^"]*"`)

// TestRunMatchesAnsiblePlaybook runs the same playbook with `kpx run` and with
// ansible-playbook against one OpenSSH fleet and its generated inventory, and compares the
// output and the exit status.
func TestRunMatchesAnsiblePlaybook(t *testing.T) {
	f := testfleet.Start(t, testfleet.Options{Hosts: 3})
	ansible := testfleet.RequireTool(t, "ansible-playbook")
	play, _ := filepath.Abs("../../testdata/rollout/fleet/site.yml")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	want, wantCode := testfleet.RunAnsible(ctx, t, f.Dir, ansible, "-f", "1", "-i", f.Inventory, play)

	var out, errOut bytes.Buffer
	code := run(ctx, []string{"run", "-f", "1", "-i", f.Inventory, play}, &out, &errOut)
	norm := func(s string) string { return volatileFields.ReplaceAllString(s, `"$1": "T"`) }
	if g, w := norm(out.String()), norm(string(want)); g != w {
		t.Errorf("kpx run and ansible-playbook differ\n--- kpx\n%s\n--- ansible-playbook\n%s\n--- kpx stderr\n%s", g, w, errOut.String())
	}
	if code != wantCode || code != ExitHostFailed {
		t.Errorf("exit code %d, ansible-playbook %d, want %d", code, wantCode, ExitHostFailed)
	}
}

func TestRunRefusesBadPlaybookBeforeAnyHost(t *testing.T) {
	dir := t.TempDir()
	play := filepath.Join(dir, "bad.yml")
	os.WriteFile(play, []byte("- hosts: all\n  tasks:\n    - debug:\n        msg: \"{{ oops }\"\n"), 0o644)
	// The inventory points at a port nothing listens on: a host contacted would show as
	// unreachable; a refused playbook never gets that far.
	inv := filepath.Join(dir, "inv")
	os.WriteFile(inv, []byte("h1 ansible_host=127.0.0.1 ansible_port=9\n"), 0o644)
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"run", "-i", inv, play}, &out, &errOut)
	if code != ExitUnreachable {
		t.Errorf("exit code %d, want %d (parse error)", code, ExitUnreachable)
	}
	if !strings.Contains(errOut.String(), "bad.yml:3:7") || out.Len() != 0 {
		t.Errorf("want one error naming bad.yml:3:7 (the task's module line) and no output\nstdout: %s\nstderr: %s", out.String(), errOut.String())
	}
}

func TestRunSyntaxCheck(t *testing.T) {
	play, _ := filepath.Abs("../../testdata/rollout/fleet/site.yml")
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"run", "--syntax-check", play}, &out, &errOut); code != ExitOK {
		t.Fatalf("exit code %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "playbook: "+play) {
		t.Errorf("output %q", out.String())
	}
}
