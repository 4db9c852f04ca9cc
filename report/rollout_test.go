package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kpxdev/kpx/rollout"
)

var update = flag.Bool("update", false, "rewrite golden files")

var t0 = time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)

// rolloutEvents are the events of a three-wave rollout whose second wave fails a health
// check and is rolled back, with one host whose rollback failed.
func rolloutEvents() []rollout.Event {
	const play = "live patch"
	changed := func(h string) rollout.Event {
		return rollout.HostResult{Host: h, Status: rollout.StatusChanged, Action: "livepatch", Result: map[string]any{"changed": true}}
	}
	w := func(n int, st rollout.WaveState, hosts ...string) rollout.Event {
		return rollout.WaveChanged{Play: play, Wave: n, Waves: 3, State: st, Hosts: hosts}
	}
	return []rollout.Event{
		rollout.RunStarted{RunID: "r-7f3a", Playbook: "patch.yml", Hosts: []string{"db1", "db2", "db3", "db4"}, Time: t0},
		w(1, rollout.WaveRunning, "db1"), // the engine announces the wave, then its batch
		rollout.PlayStarted{Name: play, Batch: []string{"db1"}, Wave: 1, Waves: 3},
		rollout.TaskStarted{Name: "load the live patch"}, changed("db1"),
		rollout.WaveChanged{Play: play, Wave: 1, Waves: 3, State: rollout.WaveBaking, Until: t0.Add(2 * time.Minute)},
		w(1, rollout.WaveChecking),
		rollout.CheckResult{Host: "db1", Wave: 1, Check: "kernel_log", Attempt: 1, Passed: true, Final: true},
		w(1, rollout.WavePromoted),
		w(2, rollout.WaveRunning, "db2", "db3"),
		rollout.PlayStarted{Name: play, Batch: []string{"db2", "db3"}, Wave: 2, Waves: 3},
		rollout.TaskStarted{Name: "load the live patch"}, changed("db2"), changed("db3"),
		rollout.WaveChanged{Play: play, Wave: 2, Waves: 3, State: rollout.WaveBaking, Until: t0.Add(90 * time.Second)},
		w(2, rollout.WaveChecking),
		rollout.CheckResult{Host: "db2", Wave: 2, Check: "kernel_log", Attempt: 1, Passed: true, Final: true},
		rollout.CheckResult{Host: "db3", Wave: 2, Check: "kernel_log", Attempt: 1, Passed: false},
		rollout.CheckResult{Host: "db3", Wave: 2, Check: "kernel_log", Attempt: 2, Passed: false, Final: true,
			Result: map[string]any{"failed": true, "msg": "denied pattern found: BUG:", "changed": false}},
		rollout.CheckResult{Host: "db2", Wave: 2, Check: "wait_for", Attempt: 1, Passed: true, Final: true},
		rollout.CheckResult{Host: "db3", Wave: 2, Check: "wait_for", Attempt: 1, Passed: true, Final: true},
		rollout.WaveChanged{Play: play, Wave: 2, Waves: 3, State: rollout.WaveFailed, Reason: "check kernel_log failed on db3"},
		rollout.RollbackStarted{Play: play, Wave: 2, Scope: "wave", Hosts: []string{"db2", "db3"}},
		rollout.TaskStarted{Name: "unload the live patch"}, changed("db2"),
		rollout.HostResult{Host: "db3", Status: rollout.StatusFailed, Action: "livepatch", Result: map[string]any{"failed": true, "msg": "module in use"}},
		rollout.HostAttention{Host: "db3", Reason: "rollback failed: module in use"},
		w(2, rollout.WaveRolledBack),
		rollout.RolloutSummary{RunID: "r-7f3a", Stopped: "wave 2 failed", Hosts: []rollout.HostOutcome{
			{Host: "db1", Wave: 1, Applied: true},
			{Host: "db2", Wave: 2, Applied: true, RolledBack: true},
			{Host: "db3", Wave: 2, Failed: "check kernel_log: denied pattern found: BUG:", Checks: []string{"kernel_log"}, NeedsAttention: "rollback failed: module in use"},
			{Host: "db4"},
		}},
		rollout.RunFinished{Hosts: []string{"db1", "db2", "db3"}, Stats: map[string]rollout.HostStats{
			"db1": {Changed: 1}, "db2": {Changed: 2}, "db3": {Changed: 1, Failed: 1}}},
	}
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test ./report -update rewrites it)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// TestPlainRollout shows a rollout's wave, bake, health, rollback and summary lines
// around Ansible's task lines.
func TestPlainRollout(t *testing.T) {
	var out bytes.Buffer
	p := NewPlain(&out, 0)
	p.Now = func() time.Time { return t0 }
	for _, ev := range rolloutEvents() {
		p.Handle(ev)
	}
	if p.Err() != nil {
		t.Fatal(p.Err())
	}
	for _, want := range []string{"WAVE 1/3 [1 host] *", "WAVE 2/3 [2 hosts] *", "BAKE 2m *", "BAKE 1m30s *", "HEALTH [kernel_log] *",
		"failed: [db3] => ", "ROLLBACK [wave 2/3, scope wave] *", "ATTENTION: [db3]: rollback failed", "ROLLOUT SUMMARY [r-7f3a] *",
		"db4                        : wave -   not started", "PLAY RECAP *"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if i, j := strings.Index(out.String(), "PLAY [live patch]"), strings.Index(out.String(), "WAVE 1/3"); i < 0 || j < i {
		t.Error("the WAVE banner comes before its PLAY banner")
	}
	checkGolden(t, "../testdata/report/rollout/plain.golden", out.Bytes())
}

// TestPlainWithoutRolloutIsAnsibles: a run whose plays have no health: and no rollback:
// still gets RunStarted and RolloutSummary from the engine; they add nothing to the text.
func TestPlainWithoutRolloutIsAnsibles(t *testing.T) {
	render := func(evs []rollout.Event) string {
		var out bytes.Buffer
		p := NewPlain(&out, 0)
		for _, ev := range evs {
			p.Handle(ev)
		}
		return out.String()
	}
	plain := basicEvents()
	last := len(plain) - 1
	with := append([]rollout.Event{rollout.RunStarted{RunID: "r1", Playbook: "play.yml", Hosts: []string{"h1", "h2", "h3"}}}, plain[:last]...)
	with = append(with, rollout.RolloutSummary{RunID: "r1", Hosts: []rollout.HostOutcome{{Host: "h1", Wave: 1, Applied: true}}}, plain[last])
	if a, b := render(plain), render(with); a != b {
		t.Errorf("rollout events changed a plain run's output:\n--- without\n%s\n--- with\n%s", a, b)
	}
}

func TestBakeTime(t *testing.T) {
	for d, want := range map[time.Duration]string{
		2 * time.Minute: "2m", 90 * time.Second: "1m30s", 45 * time.Second: "45s",
		time.Hour: "1h", 90 * time.Minute: "1h30m", -time.Second: "0s", 1999 * time.Millisecond: "2s",
	} {
		if got := bakeTime(d); got != want {
			t.Errorf("bakeTime(%v) = %q, want %q", d, got, want)
		}
	}
}
