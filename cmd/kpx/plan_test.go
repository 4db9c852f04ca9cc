package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPlanShowsWavesAndPreflightChangesNothing(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "touched")
	play := filepath.Join(dir, "canary.yml")
	os.WriteFile(play, []byte(`- name: canary
  hosts: all
  serial: [1, 2, "100%"]
  tasks:
    - name: apply
      command: touch `+marker+`
  health:
    bake: 2m
    retries: 3
    delay: 10s
    checks:
      - name: still fine
        command: "true"
  rollback:
    scope: all
    tasks:
      - name: undo
        command: rm -f `+marker+`
`), 0o644)
	inv := filepath.Join(dir, "inv")
	os.WriteFile(inv, []byte("h1 ansible_connection=local\nh2 ansible_connection=local\nh3 ansible_connection=local\nh4 ansible_connection=local\nh5 ansible_connection=local\n"), 0o644)

	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"plan", "-i", inv, play}, &out, &errOut)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errOut.String())
	}
	for _, want := range []string{
		"PLAY 1 [canary] (rollout, 5 hosts, 3 waves)",
		"wave 1 (1): h1", "wave 2 (2): h2, h3", "wave 3 (2): h4, h5",
		"more than 0% of its hosts fail or are unreachable",
		"- apply", "health: bake 2m0s, retries 3, delay 10s", "- check: still fine", "rollback (scope all):", "- undo",
		"PREFLIGHT (5 hosts)", "h3", " ok ",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("plan lacks %q:\n%s", want, out.String())
		}
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("kpx plan ran a task")
	}

	os.WriteFile(inv, []byte("h1 ansible_connection=local\nh2 ansible_host=127.0.0.1 ansible_port=9\n"), 0o644)
	out.Reset()
	if code := run(context.Background(), []string{"plan", "-i", inv, play}, &out, &errOut); code != ExitUnreachable {
		t.Errorf("exit %d with an unreachable host, want %d", code, ExitUnreachable)
	}
	if !strings.Contains(out.String(), "h2") || !strings.Contains(out.String(), "UNREACHABLE") {
		t.Errorf("plan does not name the unreachable host:\n%s", out.String())
	}
}
