package report

import (
	"bytes"
	"context"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kpxdev/kpx/internal/testfleet"
	"github.com/kpxdev/kpx/rollout"
)

// basicEvents are the events of testdata/report/basic/play.yml run with one fork, as the
// engine reports them.
func basicEvents() []rollout.Event {
	debug := func(h, msg string) rollout.Event {
		return rollout.HostResult{Host: h, Status: rollout.StatusOK, Action: "debug",
			Result: map[string]any{"msg": msg, "changed": false, "_ansible_verbose_always": true}}
	}
	item := func(h, it string) rollout.Event {
		return rollout.HostResult{Host: h, Status: rollout.StatusOK, Action: "debug", HasItem: true, Item: it,
			Result: map[string]any{"msg": it, "changed": false, "_ansible_verbose_always": true, "item": it}}
	}
	cmdResult := func(cmd any, rc int) map[string]any {
		return map[string]any{"changed": true, "cmd": cmd, "delta": "0:00:00.001000", "end": "2026-01-01 00:00:00.000000",
			"msg": "non-zero return code", "rc": rc, "start": "2026-01-01 00:00:00.000000", "stderr": "", "stderr_lines": []any{},
			"stdout": "", "stdout_lines": []any{}, "invocation": map[string]any{"module_args": map[string]any{}}}
	}
	changed := func(h string) rollout.Event {
		return rollout.HostResult{Host: h, Status: rollout.StatusChanged, Action: "command", Result: map[string]any{"changed": true, "rc": 0}}
	}
	skipped := func(h string) rollout.Event { return rollout.HostResult{Host: h, Status: rollout.StatusSkipped} }
	varResult := func(h string) rollout.Event {
		return rollout.HostResult{Host: h, Status: rollout.StatusOK, Action: "debug",
			Result: map[string]any{"inventory_hostname": h, "changed": false, "_ansible_verbose_always": true}}
	}
	play := rollout.PlayStarted{Name: "demo play"}
	return []rollout.Event{
		play,
		rollout.TaskStarted{Name: "debug"}, debug("h1", "hello h1"), debug("h2", "hello h2"),
		rollout.TaskStarted{Name: "run something"}, changed("h1"), changed("h2"),
		rollout.TaskStarted{Name: "fail on h2"}, skipped("h1"),
		rollout.HostResult{Host: "h2", Status: rollout.StatusFailed, Ignored: true, Action: "command", Result: cmdResult([]any{"/bin/false"}, 1)},
		rollout.TaskStarted{Name: "loop"}, item("h1", "a"), item("h1", "b"), item("h2", "a"), item("h2", "b"),
		rollout.TaskStarted{Name: "shell"},
		rollout.HostResult{Host: "h1", Status: rollout.StatusFailed, Action: "shell", Result: cmdResult("exit 3", 3)},
		skipped("h2"),
		rollout.TaskStarted{Name: "after"}, varResult("h2"),
		play,
		rollout.TaskStarted{Name: "debug"}, debug("h3", "hello h3"),
		rollout.TaskStarted{Name: "run something"}, changed("h3"),
		rollout.TaskStarted{Name: "fail on h2"}, skipped("h3"),
		rollout.TaskStarted{Name: "loop"}, item("h3", "a"), item("h3", "b"),
		rollout.TaskStarted{Name: "shell"}, skipped("h3"),
		rollout.TaskStarted{Name: "after"}, varResult("h3"),
		rollout.RunFinished{Hosts: []string{"h3", "h1", "h2"}, Stats: map[string]rollout.HostStats{
			"h1": {OK: 3, Changed: 1, Failed: 1, Skipped: 1},
			"h2": {OK: 5, Changed: 2, Skipped: 1, Ignored: 1},
			"h3": {OK: 4, Changed: 1, Skipped: 2},
		}},
	}
}

var timestamps = regexp.MustCompile(`"(delta|end|start)": "[^"]*"`)

// TestPlainMatchesAnsible renders basicEvents and compares the text with what the real
// ansible-playbook prints for the same playbook.
func TestPlainMatchesAnsible(t *testing.T) {
	ansible := testfleet.RequireTool(t, "ansible-playbook")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, ansible, "-f", "1", "-i", "inventory", "play.yml")
	cmd.Dir = "../testdata/report/basic"
	cmd.Env = testfleet.AnsibleEnv(t.TempDir())
	want, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
		t.Fatalf("ansible-playbook: %v (want exit status 2)\n%s", err, want)
	}
	var got bytes.Buffer
	p := NewPlain(&got, 0)
	for _, ev := range basicEvents() {
		p.Handle(ev)
	}
	if p.Err() != nil {
		t.Fatal(p.Err())
	}
	norm := func(s string) string { return timestamps.ReplaceAllString(s, `"$1": "T"`) }
	if g, w := norm(got.String()), norm(string(want)); g != w {
		t.Errorf("kpx and ansible differ (got: kpx, want: ansible-playbook):\n%s", testfleet.Diff(g, w))
	}
}

func TestPlainBannerWidth(t *testing.T) {
	var b bytes.Buffer
	p := NewPlain(&b, 0)
	p.Handle(rollout.TaskStarted{Name: strings.Repeat("x", 100)})
	p.Handle(rollout.TaskStarted{Name: "été"})
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if !strings.HasSuffix(lines[0], "] ***") {
		t.Errorf("long banner %q should end with three stars", lines[0])
	}
	if n := len([]rune(lines[len(lines)-1])); n != Columns+1 {
		t.Errorf("banner %q is %d runes wide, want %d", lines[len(lines)-1], n, Columns+1)
	}
}
