package modules

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kpxdev/kpx/internal/testfleet"
	"github.com/kpxdev/kpx/transport"
)

type commandCase struct {
	name   string
	module string
	args   map[string]any
	check  bool
}

// commandCases run in a scratch directory named by {dir}.
func commandCases() []commandCase {
	return []commandCase{
		{"argv words", "command", map[string]any{"_raw_params": `printf '%s|' a "b c" 'd'`}, false},
		{"argv list", "command", map[string]any{"argv": []any{"printf", "%s-", "x y", "z"}}, false},
		{"cmd", "command", map[string]any{"cmd": "echo from cmd"}, false},
		{"nonzero", "command", map[string]any{"_raw_params": "ls /nonexistent-kpx"}, false},
		{"no shell for command", "command", map[string]any{"_raw_params": "echo a | wc -l"}, false},
		{"shell pipe", "shell", map[string]any{"_raw_params": "echo a | wc -l"}, false},
		{"shell stderr", "shell", map[string]any{"_raw_params": "echo out; echo err >&2; exit 3"}, false},
		{"trailing newlines", "shell", map[string]any{"_raw_params": "printf 'a\\n\\n\\n'; printf 'e\\r\\n' >&2"}, false},
		{"keep newlines", "shell", map[string]any{"_raw_params": "printf 'a\\n\\n'", "strip_empty_ends": false}, false},
		{"chdir", "command", map[string]any{"_raw_params": "pwd", "chdir": "{dir}"}, false},
		{"creates exists", "command", map[string]any{"_raw_params": "echo ran", "creates": "{dir}/present*"}, false},
		{"creates missing", "command", map[string]any{"_raw_params": "echo ran", "creates": "{dir}/absent"}, false},
		{"removes missing", "command", map[string]any{"_raw_params": "echo ran", "removes": "{dir}/absent"}, false},
		{"removes exists", "shell", map[string]any{"_raw_params": "echo ran", "removes": "{dir}/present-file"}, false},
		{"stdin", "command", map[string]any{"_raw_params": "cat", "stdin": "hello"}, false},
		{"stdin no newline", "command", map[string]any{"_raw_params": "od -c", "stdin": "hi", "stdin_add_newline": false}, false},
		{"check mode", "command", map[string]any{"_raw_params": "echo would"}, true},
		{"check mode creates", "command", map[string]any{"_raw_params": "echo would", "creates": "{dir}/absent"}, true},
		{"check mode creates exists", "command", map[string]any{"_raw_params": "echo would", "creates": "{dir}/present-file"}, true},
		{"lines", "shell", map[string]any{"_raw_params": "printf 'one\\ntwo\\r\\nthree'"}, false},
		{"raw", "raw", map[string]any{"_raw_params": "echo raw; exit 2"}, false},
	}
}

// comparedKeys are the result keys whose values are deterministic across runs.
var comparedKeys = []string{"changed", "failed", "rc", "stdout", "stderr", "stdout_lines", "stderr_lines", "msg", "cmd", "skipped"}

func scratchDir(t *testing.T) string {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "present-file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func withDir(v any, dir string) any {
	switch v := v.(type) {
	case string:
		return strings.ReplaceAll(v, "{dir}", dir)
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			out[k] = withDir(x, dir)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = withDir(x, dir)
		}
		return out
	}
	return v
}

func runKpx(t *testing.T, tc commandCase, dir string) Result {
	t.Helper()
	h := transport.NewLocal(&transport.Config{Name: "localhost", Local: true})
	defer h.Close()
	mod := map[string]Module{"command": Command, "shell": Shell, "raw": Raw}[tc.module]
	args := withDir(tc.args, dir).(map[string]any)
	if err := Builtin().CheckArgs(tc.module, args); err != nil {
		t.Fatalf("%s: invalid args: %v", tc.name, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r, err := mod.Run(ctx, h, Call{Args: args, Check: tc.check})
	if err != nil {
		t.Fatalf("%s: %v", tc.name, err)
	}
	return r
}

func TestCommandModules(t *testing.T) {
	dir := scratchDir(t)
	byName := map[string]Result{}
	for _, tc := range commandCases() {
		byName[tc.name] = runKpx(t, tc, dir)
	}
	checks := []struct {
		name, key string
		want      any
	}{
		{"argv words", "stdout", "a|b c|d|"},
		{"argv list", "cmd", []any{"printf", "%s-", "x y", "z"}},
		{"nonzero", "failed", true},
		{"nonzero", "msg", "non-zero return code"},
		{"nonzero", "rc", 2},
		{"no shell for command", "stdout", "a | wc -l"},
		{"shell pipe", "stdout", "1"},
		{"shell stderr", "stderr", "err"},
		{"shell stderr", "rc", 3},
		{"trailing newlines", "stdout", "a"},
		{"keep newlines", "stdout", "a\n\n"},
		{"chdir", "stdout", dir},
		{"creates exists", "changed", false},
		{"creates exists", "stdout", "skipped, since " + dir + "/present* exists"},
		{"creates missing", "stdout", "ran"},
		{"removes missing", "msg", "Did not run command since '" + dir + "/absent' does not exist"},
		{"stdin", "stdout", "hello"},
		{"check mode", "skipped", true},
		{"check mode", "changed", false},
		{"check mode creates", "changed", true},
		{"check mode creates exists", "msg", "Would not run command since '" + dir + "/present-file' exists"},
		{"lines", "stdout_lines", []any{"one", "two", "three"}},
		{"raw", "rc", 2},
		{"raw", "failed", true},
	}
	for _, c := range checks {
		if got := byName[c.name][c.key]; !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %s = %#v, want %#v", c.name, c.key, got, c.want)
		}
	}
}

// TestCommandModulesMatchAnsible runs every case through ansible-playbook (local
// connection) and through kpx, and compares the result keys Ansible users read.
func TestCommandModulesMatchAnsible(t *testing.T) {
	ansible := testfleet.RequireTool(t, "ansible-playbook")
	dir := scratchDir(t)
	cases := commandCases()
	var tasks []map[string]any
	for _, tc := range cases {
		task := map[string]any{"name": tc.name, "ignore_errors": true, "check_mode": tc.check, "register": fmt.Sprintf("r%d", len(tasks))}
		args := withDir(tc.args, dir).(map[string]any)
		task[tc.module] = args
		if raw, ok := args["_raw_params"]; ok {
			delete(args, "_raw_params")
			task[tc.module] = raw
			if len(args) > 0 {
				task["args"] = args
			}
		}
		tasks = append(tasks, task)
	}
	var regs []string
	for i := range tasks {
		regs = append(regs, fmt.Sprintf("r%d", i))
	}
	results := filepath.Join(t.TempDir(), "results.json")
	tasks = append(tasks, map[string]any{"copy": map[string]any{"dest": results, "content": "{{ [" + strings.Join(regs, ", ") + "] | to_json }}"}})
	play := []map[string]any{{"hosts": "localhost", "gather_facts": false, "tasks": tasks}}
	src, _ := json.Marshal(play)
	pb := filepath.Join(t.TempDir(), "play.yml")
	if err := os.WriteFile(pb, src, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, ansible, "-i", "localhost,", "-c", "local", pb)
	cmd.Env = testfleet.AnsibleEnv(t.TempDir())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ansible-playbook: %v\n%s", err, out)
	}
	data, err := os.ReadFile(results)
	if err != nil {
		t.Fatal(err)
	}
	var report []map[string]any
	if err := json.Unmarshal(data, &report); err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if len(report) != len(cases) {
		t.Fatalf("ansible reported %d results for %d cases", len(report), len(cases))
	}
	for i, tc := range cases {
		want := report[i]
		got := runKpx(t, tc, dir)
		for _, k := range comparedKeys {
			w, inW := want[k]
			g, inG := got[k]
			if k == "failed" || k == "skipped" { // Ansible omits false
				if w == nil {
					w, inW = false, true
				}
				if g == nil {
					g, inG = false, true
				}
			}
			if inW != inG || !reflect.DeepEqual(normalize(g), normalize(w)) {
				t.Errorf("%s: %s: kpx %#v, ansible %#v", tc.name, k, g, w)
			}
		}
	}
}

// normalize makes Go and JSON-decoded values comparable (ints become float64).
func normalize(v any) any {
	b, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(b, &out)
	return fmt.Sprint(out)
}
