package report

import (
	"bufio"
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kpxdev/kpx/rollout"
)

// eventSamples has one event of every type, as docs/EVENTS.md shows them.
func eventSamples() []rollout.Event {
	return []rollout.Event{
		rollout.RunStarted{RunID: "20261202T010000-7f3a", Playbook: "patch.yml", Hosts: []string{"db1", "db2"}, Time: t0,
			Command: "run", Inventory: []string{"inventory.ini"}, ExtraVars: map[string]any{"patch": "files/livepatch-cve.ko", "vault_password": rollout.Redacted}},
		rollout.PlayStarted{Name: "live patch", Batch: []string{"db1"}, Wave: 1, Waves: 2},
		rollout.TaskStarted{Name: "load the live patch"},
		rollout.HostResult{Host: "db1", Status: rollout.StatusChanged, Action: "livepatch",
			Result: map[string]any{"changed": true, "msg": "livepatch_cve enabled"}},
		rollout.Included{File: "/srv/tasks/extra.yml", Hosts: []string{"db1"}},
		rollout.TaskRetry{Host: "db1", Task: "wait for the transition", Left: 2},
		rollout.NoHostsLeft{},
		rollout.NoHostsMatched{},
		rollout.Warning{Msg: "play \"x\": no hosts matched the pattern \"db\""},
		rollout.WaveChanged{Play: "live patch", Wave: 1, Waves: 2, State: rollout.WaveBaking, Until: t0.Add(2 * time.Minute)},
		rollout.CheckResult{Host: "db1", Wave: 1, Check: "kernel_log", Attempt: 1, Passed: false, Final: true,
			Result: map[string]any{"failed": true, "msg": "denied pattern found: BUG:"}},
		rollout.RollbackStarted{Play: "live patch", Wave: 1, Scope: "wave", Hosts: []string{"db1"}},
		rollout.HostTaskState{Host: "db1", PlayIndex: 0, Wave: 1, Phase: rollout.PhaseTasks, Task: "load the live patch", State: rollout.HostStarted},
		rollout.HostAttention{Host: "db1", Reason: "rollback failed: module in use"},
		rollout.ControlChanged{Control: "pause", Detail: "from the TUI"},
		rollout.RolloutSummary{RunID: "20261202T010000-7f3a", Stopped: "wave 1 failed", Hosts: []rollout.HostOutcome{
			{Host: "db1", Wave: 1, Applied: true, Failed: "check kernel_log: denied pattern found: BUG:", Checks: []string{"kernel_log"}, NeedsAttention: "rollback failed: module in use"},
			{Host: "db2"}}},
		rollout.RunFinished{Hosts: []string{"db1"}, Stats: map[string]rollout.HostStats{"db1": {Changed: 1, Failed: 1}}},
	}
}

// TestJSONLines writes one line per event, numbered, that decode back to the events.
func TestJSONLines(t *testing.T) {
	var out bytes.Buffer
	j := NewJSON(&out)
	j.Now = func() time.Time { return t0 }
	for _, ev := range eventSamples() {
		j.Handle(ev)
	}
	if j.Err() != nil {
		t.Fatal(j.Err())
	}
	sc := bufio.NewScanner(&out)
	n := int64(0)
	types := map[string]bool{}
	for sc.Scan() {
		n++
		rec, ev, err := rollout.DecodeEvent(sc.Bytes())
		if err != nil {
			t.Fatalf("line %d: %v", n, err)
		}
		if rec.Seq != n || rollout.EventType(ev) != rec.Type {
			t.Errorf("line %d: seq %d type %s", n, rec.Seq, rec.Type)
		}
		types[rec.Type] = true
	}
	if want := len(eventSamples()); int(n) != want || len(types) != want {
		t.Errorf("%d lines of %d types, want %d of each", n, len(types), want)
	}
}

// TestEventsDoc: docs/EVENTS.md documents every event type with the exact line kpx
// writes for its example (regenerate the examples with -update and paste them).
func TestEventsDoc(t *testing.T) {
	doc, err := os.ReadFile("../docs/EVENTS.md")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for i, ev := range eventSamples() {
		line, err := rollout.EncodeEvent(int64(i+1), t0, ev)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, string(line))
		name := rollout.EventType(ev)
		if !bytes.Contains(doc, []byte("### "+name+"\n")) {
			t.Errorf("docs/EVENTS.md has no section %q", "### "+name)
		}
		if !bytes.Contains(doc, line) {
			t.Errorf("docs/EVENTS.md lacks the example of %s:\n%s", name, line)
		}
	}
	if *update {
		t.Logf("examples:\n%s", strings.Join(lines, "\n"))
	}
}
