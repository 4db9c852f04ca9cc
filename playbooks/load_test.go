package playbooks

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/kpxdev/kpx/internal/testfleet"
)

var update = flag.Bool("update", false, "rewrite golden files")

const loadDir = "../testdata/playbooks/load"

func scenarioFiles(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(loadDir, dir, "*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		if filepath.Base(f) != "vars.yml" {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no scenarios in %s", dir)
	}
	return out
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from what kpx loads:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestLoadValid(t *testing.T) {
	for _, file := range scenarioFiles(t, "valid") {
		t.Run(filepath.Base(file), func(t *testing.T) {
			pb, err := Load(file, LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			golden(t, strings.TrimSuffix(file, ".yml")+".golden", dump(t, pb))
		})
	}
}

func TestLoadInvalid(t *testing.T) {
	abs, _ := filepath.Abs(loadDir)
	for _, file := range scenarioFiles(t, "invalid") {
		t.Run(filepath.Base(file), func(t *testing.T) {
			_, err := Load(file, LoadOptions{})
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("got %v (%T), want a *ParseError", err, err)
			}
			if pe.ExitCode() != 4 {
				t.Errorf("exit code %d, want 4", pe.ExitCode())
			}
			if pe.Line == 0 && !strings.Contains(pe.Msg, "empty") {
				t.Errorf("error has no line: %v", pe)
			}
			msg := strings.ReplaceAll(pe.Error(), abs+string(filepath.Separator), "")
			golden(t, strings.TrimSuffix(file, ".yml")+".err", msg+"\n")
		})
	}
}

// kpxStricter lists the malformed cases that ansible-playbook --syntax-check lets through,
// and why kpx refuses them before touching any host.
var kpxStricter = map[string]string{
	"14-bad-strategy.yml":       "host_pinned exists in Ansible; kpx runs linear and free only",
	"19-bad-meta.yml":           "Ansible finds a bad meta action only when it runs the task",
	"25-vars-files-missing.yml": "Ansible finds a missing vars file only when the play starts",
	"27-duplicate-key.yml":      "Ansible warns and keeps the last value; kpx refuses the ambiguity",
	"28-bad-register.yml":       "Ansible registers the odd name; templates can never read it",
	"06-bad-serial.yml":         "Ansible fails on a bad serial only when the play starts",
	"29-template-syntax.yml":    "Ansible finds template errors only when it renders them on a host",
	"30-bad-condition.yml":      "Ansible finds template errors only when it renders them on a host",
	"31-unknown-filter.yml":     "Ansible finds template errors only when it renders them on a host",
	"32-bad-loop.yml":           "Ansible finds template errors only when it renders them on a host",
	"33-unsupported-meta.yml":   "clear_host_errors is Ansible's; kpx refuses what it does not carry out",
}

// TestScenariosAgreeWithAnsible runs ansible-playbook --syntax-check over every scenario:
// valid ones (except kpx-only ones) must pass it, malformed ones must fail it unless listed
// in kpxStricter, and those listed must pass it (so the list stays true).
func TestScenariosAgreeWithAnsible(t *testing.T) {
	ansible := testfleet.RequireTool(t, "ansible-playbook")
	check := func(t *testing.T, file string) (int, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, ansible, "--syntax-check", "-i", "inventory", filepath.Base(file))
		cmd.Dir = filepath.Dir(file)
		cmd.Env = testfleet.AnsibleEnv(t.TempDir())
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), string(out)
		} else if err != nil {
			t.Fatal(err)
		}
		return 0, string(out)
	}
	for _, file := range scenarioFiles(t, "valid") {
		t.Run("valid/"+filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			if src, _ := os.ReadFile(file); strings.HasPrefix(string(src), "# kpx-only") {
				t.Skip("uses kpx's own play keywords")
			}
			if code, out := check(t, file); code != 0 {
				t.Fatalf("ansible-playbook --syntax-check exit %d:\n%s", code, out)
			}
		})
	}
	for _, file := range scenarioFiles(t, "invalid") {
		t.Run("invalid/"+filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			code, out := check(t, file)
			if why, ok := kpxStricter[filepath.Base(file)]; ok {
				if code != 0 {
					t.Fatalf("listed as accepted by Ansible (%s), but it exits %d:\n%s", why, code, out)
				}
				return
			}
			// Ansible's codes vary here (1, 4, even 250 for an import cycle); kpx always exits 4.
			if code == 0 {
				t.Fatalf("ansible-playbook --syntax-check accepts it; list the case in kpxStricter with the reason:\n%s", out)
			}
		})
	}
}

// dump writes a loaded playbook in a stable, readable form for golden files.
func dump(t *testing.T, pb *Playbook) string {
	var b strings.Builder
	for _, p := range pb.Plays {
		fmt.Fprintf(&b, "play %q hosts=%v serial=%v strategy=%q order=%q gather_facts=%s tags=%v import_when=%v\n",
			p.Name, p.Hosts, p.Serial, p.Strategy, p.Order, flagString(p.GatherFacts), p.Tags, p.ImportWhen)
		if p.MaxFailPercentage != nil {
			fmt.Fprintf(&b, "  max_fail_percentage=%v\n", *p.MaxFailPercentage)
		}
		if len(p.Vars) > 0 {
			fmt.Fprintf(&b, "  vars=%s\n", jsonString(t, p.Vars))
		}
		if len(p.VarsFiles) > 0 {
			fmt.Fprintf(&b, "  vars_files=%v\n", p.VarsFiles)
		}
		for _, sec := range []struct {
			name  string
			tasks []*Task
		}{{"pre_tasks", p.PreTasks}, {"tasks", p.Tasks}, {"post_tasks", p.PostTasks}, {"handlers", p.Handlers}} {
			dumpTasks(t, &b, sec.name, sec.tasks, "  ")
		}
		if h := p.Health; h != nil {
			fmt.Fprintf(&b, "  health bake=%s retries=%d delay=%s timeout=%s\n", h.Bake, h.Retries, h.Delay, h.Timeout)
			dumpTasks(t, &b, "checks", h.Checks, "    ")
		}
		if r := p.Rollback; r != nil {
			fmt.Fprintf(&b, "  rollback scope=%s\n", r.Scope)
			dumpTasks(t, &b, "tasks", r.Tasks, "    ")
		}
	}
	return b.String()
}

func dumpTasks(t *testing.T, b *strings.Builder, name string, tasks []*Task, indent string) {
	if len(tasks) == 0 {
		return
	}
	fmt.Fprintf(b, "%s%s:\n", indent, name)
	for _, task := range tasks {
		fmt.Fprintf(b, "%s- [%d:%d] ", indent, task.Pos.Line, task.Pos.Col)
		if task.Block != nil {
			fmt.Fprintf(b, "block%s\n", taskAttrs(t, task))
			dumpTasks(t, b, "block", task.Block.Block, indent+"    ")
			dumpTasks(t, b, "rescue", task.Block.Rescue, indent+"    ")
			dumpTasks(t, b, "always", task.Block.Always, indent+"    ")
			continue
		}
		fmt.Fprintf(b, "%s (%s) %s%s\n", task.Action, task.Module, jsonString(t, task.Args), taskAttrs(t, task))
		dumpTasks(t, b, "included", task.Included, indent+"    ")
	}
}

func taskAttrs(t *testing.T, task *Task) string {
	var attrs []string
	add := func(k string, v any, set bool) {
		if set {
			attrs = append(attrs, fmt.Sprintf("%s=%v", k, v))
		}
	}
	add("name", fmt.Sprintf("%q", task.Name), task.Name != "")
	add("when", task.When, len(task.When) > 0)
	add("tags", task.Tags, len(task.Tags) > 0)
	add("register", task.Register, task.Register != "")
	add("notify", task.Notify, len(task.Notify) > 0)
	add("listen", task.Listen, len(task.Listen) > 0)
	add("changed_when", task.ChangedWhen, len(task.ChangedWhen) > 0)
	add("failed_when", task.FailedWhen, len(task.FailedWhen) > 0)
	add("until", task.Until, len(task.Until) > 0)
	add("retries", task.Retries.Value, task.Retries.Set)
	add("delay", task.Delay.Value, task.Delay.Set)
	add("loop", jsonString(t, task.Loop), task.Loop != nil)
	add("with", task.LoopWith, task.LoopWith != "")
	if lc := task.LoopControl; lc != nil {
		add("loop_control", fmt.Sprintf("%+v", *lc), true)
	}
	add("ignore_errors", flagString(task.IgnoreErrors), task.IgnoreErrors.Set)
	add("become", flagString(task.Become), task.Become.Set)
	add("become_user", task.BecomeUser, task.BecomeUser != "")
	add("delegate_to", task.DelegateTo, task.DelegateTo != "")
	add("vars", jsonString(t, task.Vars), len(task.Vars) > 0)
	sort.Strings(attrs[min(1, len(attrs)):])
	if len(attrs) == 0 {
		return ""
	}
	return " " + strings.Join(attrs, " ")
}

func flagString(f Flag) string {
	switch {
	case !f.Set:
		return "unset"
	case f.Expr != "":
		return f.Expr
	default:
		return fmt.Sprint(f.Value)
	}
}

func jsonString(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
