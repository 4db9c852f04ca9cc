package rollout_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kpxdev/kpx/internal/testfleet"
	"github.com/kpxdev/kpx/playbooks"
	"github.com/kpxdev/kpx/report"
	"github.com/kpxdev/kpx/rollout"
)

const strategyDir = "../testdata/rollout/strategy"

// scenarioInventory is the scenario's own inventory (NAME.inventory) or the shared one.
func scenarioInventory(file string) string {
	own := strings.TrimSuffix(file, ".yml") + ".inventory"
	if _, err := os.Stat(own); err == nil {
		return filepath.Base(own)
	}
	return "inventory"
}

// unreachableHosts are the hosts a scenario inventory points at a closed port.
func unreachableHosts(t *testing.T, inventory string) map[string]bool {
	data, err := os.ReadFile(filepath.Join(strategyDir, inventory))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.Contains(line, "ansible_port=9 ") {
			out[strings.Fields(line)[0]] = true
		}
	}
	return out
}

// condExec is a test Executor: every task is `command: "true"`, and its outcome on a host
// follows from its when, failed_when and changed_when, written in a fixed form that this
// executor evaluates (inventory_hostname compared with names, or a boolean). Ansible
// evaluates the same conditions, so both tools see the same outcomes and differ only in
// what their strategies make of them.
type condExec struct{ unreachable map[string]bool }

var (
	inList = regexp.MustCompile(`^inventory_hostname (not in|in) \[(.*)\]$`)
	equals = regexp.MustCompile(`^inventory_hostname (==|!=) '([^']*)'$`)
)

func holds(cond, host string) bool {
	cond = strings.TrimSpace(cond)
	switch strings.ToLower(cond) {
	case "true":
		return true
	case "false":
		return false
	}
	if m := inList.FindStringSubmatch(cond); m != nil {
		var names []string
		for _, n := range strings.Split(m[2], ",") {
			names = append(names, strings.Trim(strings.TrimSpace(n), "'"))
		}
		return slices.Contains(names, host) == (m[1] == "in")
	}
	if m := equals.FindStringSubmatch(cond); m != nil {
		return (host == m[2]) == (m[1] == "==")
	}
	panic("condExec cannot evaluate " + cond)
}

func allHold(conds []string, host string, empty bool) bool {
	if len(conds) == 0 {
		return empty
	}
	for _, c := range conds {
		if !holds(c, host) {
			return false
		}
	}
	return true
}

func (c condExec) Execute(_ context.Context, host string, t *playbooks.Task, _ func(rollout.Event)) rollout.Outcome {
	if c.unreachable[host] {
		return rollout.Outcome{Status: rollout.StatusUnreachable, Result: map[string]any{"changed": false, "unreachable": true, "msg": "connection refused"}}
	}
	if !allHold(t.When, host, true) {
		return rollout.Outcome{Status: rollout.StatusSkipped, Result: map[string]any{"changed": false, "skip_reason": "Conditional result was False"}}
	}
	changed := allHold(t.ChangedWhen, host, t.Module != "setup")
	res := map[string]any{"changed": changed, "rc": 0}
	if allHold(t.FailedWhen, host, false) {
		res["failed"] = true
		return rollout.Outcome{Status: rollout.StatusFailed, Result: res, Ignored: t.IgnoreErrors.Value}
	}
	if changed {
		return rollout.Outcome{Status: rollout.StatusChanged, Result: res}
	}
	return rollout.Outcome{Status: rollout.StatusOK, Result: res}
}

// iniGroups reads the scenario inventory: groups and their hosts, in order.
func iniGroups(t *testing.T, inventory string) (all []string, groups map[string][]string) {
	f, err := os.Open(filepath.Join(strategyDir, inventory))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	groups = map[string][]string{}
	group := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") {
			group = strings.Trim(line, "[]")
			continue
		}
		if line != "" {
			h := strings.Fields(line)[0]
			groups[group] = append(groups[group], h)
			all = append(all, h)
		}
	}
	return all, groups
}

// resolver understands the patterns the scenarios use: all, a group, and a:&b.
func resolver(t *testing.T, inventory string) rollout.HostResolver {
	all, groups := iniGroups(t, inventory)
	groups["all"] = all
	return func(p *playbooks.Play) ([]string, error) {
		pattern := strings.Join(p.Hosts, ",")
		if a, b, ok := strings.Cut(pattern, ":&"); ok {
			var out []string
			for _, h := range groups[a] {
				if slices.Contains(groups[b], h) {
					out = append(out, h)
				}
			}
			return out, nil
		}
		hosts, ok := groups[pattern]
		if !ok {
			return nil, fmt.Errorf("test resolver: unknown pattern %q", pattern)
		}
		return hosts, nil
	}
}

var fatalJSON = regexp.MustCompile(`(?m)^(fatal: \[[^\]]+\]: (FAILED|UNREACHABLE)!) => .*$`)

func normalizeOutput(s string) string {
	s = fatalJSON.ReplaceAllString(s, "$1")
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "[WARNING]") || strings.HasPrefix(l, "skipping: no hosts matched") {
			continue
		}
		lines = append(lines, strings.TrimRight(l, " "))
	}
	return strings.Join(lines, "\n")
}

// TestStrategyMatchesAnsible runs every scenario under testdata/rollout/strategy with the
// real ansible-playbook (one fork, so its order is fixed) and with kpx's strategy, and
// requires the same output, line for line, and the same exit status.
func TestStrategyMatchesAnsible(t *testing.T) {
	ansible := testfleet.RequireTool(t, "ansible-playbook")
	files, _ := filepath.Glob(filepath.Join(strategyDir, "*.yml"))
	if len(files) == 0 {
		t.Fatal("no scenarios")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			inventory := scenarioInventory(file)
			want, wantCode := testfleet.RunAnsible(ctx, t, strategyDir, ansible, "-f", "1", "-i", inventory, filepath.Base(file))

			pb, err := playbooks.Load(file, playbooks.LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			p := report.NewPlain(&got, 0)
			exec := condExec{unreachable: unreachableHosts(t, inventory)}
			r := rollout.NewRunner(exec, resolver(t, inventory), rollout.Options{Forks: 1, Emit: p.Handle})
			fin, err := r.Run(ctx, pb)
			if err != nil {
				t.Fatal(err)
			}
			g, w := normalizeOutput(got.String()), normalizeOutput(string(want))
			if src, _ := os.ReadFile(file); strings.HasPrefix(string(src), "# kpx-diverges:") {
				// The file says why kpx's output differs; the recap must still agree.
				g, w = g[strings.Index(g, "PLAY RECAP"):], w[strings.Index(w, "PLAY RECAP"):]
			}
			if g != w {
				t.Errorf("kpx and ansible-playbook differ\n--- kpx\n%s\n--- ansible-playbook\n%s", g, w)
			}
			if code := fin.ExitCode(); code != wantCode {
				t.Errorf("exit code %d, ansible-playbook %d", code, wantCode)
			}
		})
	}
}
