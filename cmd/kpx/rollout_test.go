package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kpxdev/kpx/internal/testfleet"
	"github.com/kpxdev/kpx/rollout"
)

// canaryPlay is a rollout over a fleet of 5 hosts in waves [1, 2, rest]: each host gets
// a "patch" file in its state directory; the check fails on a host holding a "marker".
const canaryPlay = `- name: canary
  hosts: fleet
  gather_facts: false
  serial: [1, 2, "100%"]
  tasks:
    - name: apply
      shell: echo applied > "$KPX_HOST_DIR/patch"
%s
  health:
    bake: %s
    retries: 1
    delay: 0.1
    checks:
      - name: no marker
        shell: test ! -e "$KPX_HOST_DIR/marker"
  rollback:
    scope: %s
    tasks:
      - name: undo
        shell: rm -f "$KPX_HOST_DIR/patch"
`

type rolloutCase struct {
	f        *testfleet.Fleet
	stateDir string
	play     string
}

func newRolloutCase(t *testing.T, hosts int, extraTasks, bake, scope string) *rolloutCase {
	t.Helper()
	f := testfleet.Start(t, testfleet.Options{Hosts: hosts})
	c := &rolloutCase{f: f, stateDir: t.TempDir(), play: filepath.Join(t.TempDir(), "canary.yml")}
	body := strings.Replace(canaryPlay, "%s", extraTasks, 1)
	body = strings.Replace(body, "%s", bake, 1)
	body = strings.Replace(body, "%s", scope, 1)
	if err := os.WriteFile(c.play, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *rolloutCase) mark(t *testing.T, host string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(c.f.Host(host).StateDir, "marker"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

func (c *rolloutCase) patched(host string) bool {
	_, err := os.Stat(filepath.Join(c.f.Host(host).StateDir, "patch"))
	return err == nil
}

// run runs kpx with args and returns its exit code, output and the run's journal.
func (c *rolloutCase) run(t *testing.T, ctx context.Context, args ...string) (int, string, []rollout.JournalEntry) {
	t.Helper()
	var out, errOut bytes.Buffer
	args = append(args, "--state-dir", c.stateDir)
	code := run(ctx, args, &out, &errOut)
	t.Logf("kpx %s: exit %d\n%s\n%s", strings.Join(args, " "), code, out.String(), errOut.String())
	store := rollout.JournalStore{Dir: filepath.Join(c.stateDir, "runs")}
	ids, err := store.IDs()
	if err != nil || len(ids) == 0 {
		t.Fatalf("no journal in %s: %v", c.stateDir, err)
	}
	entries, err := rollout.ReadJournalFile(store.Path(ids[len(ids)-1]))
	if err != nil {
		t.Fatal(err)
	}
	return code, out.String() + errOut.String(), entries
}

func eventsOf[T rollout.Event](entries []rollout.JournalEntry) []T {
	var out []T
	for _, e := range entries {
		if ev, ok := e.Event.(T); ok {
			out = append(out, ev)
		}
	}
	return out
}

func summaryOf(t *testing.T, entries []rollout.JournalEntry) map[string]rollout.HostOutcome {
	t.Helper()
	s := eventsOf[rollout.RolloutSummary](entries)
	if len(s) != 1 {
		t.Fatalf("%d rollout summaries in the journal, want 1", len(s))
	}
	out := map[string]rollout.HostOutcome{}
	for _, h := range s[0].Hosts {
		out[h.Host] = h
	}
	return out
}

// waveStates lists "wave:state" in the order the journal recorded them.
func waveStates(entries []rollout.JournalEntry) []string {
	var out []string
	for _, w := range eventsOf[rollout.WaveChanged](entries) {
		out = append(out, strings.Join([]string{string(rune('0' + w.Wave)), string(w.State)}, ":"))
	}
	return out
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// TestRolloutFailedCheckRollsBackWave: the check fails on a wave-2 host, so wave 2 is
// rolled back, wave 1 keeps its patch, wave 3 never starts, and kpx exits 2. The bake
// time is honoured before the checks.
func TestRolloutFailedCheckRollsBackWave(t *testing.T) {
	c := newRolloutCase(t, 5, "", "1s", "wave")
	c.mark(t, "host03")
	code, out, entries := c.run(t, testCtx(t), "run", "-i", c.f.Inventory, c.play)
	if code != ExitHostFailed {
		t.Errorf("exit %d, want %d", code, ExitHostFailed)
	}
	want := map[string]bool{"host01": true, "host02": false, "host03": false, "host04": false, "host05": false}
	for h, p := range want {
		if c.patched(h) != p {
			t.Errorf("%s patched=%v, want %v", h, c.patched(h), p)
		}
	}
	got := waveStates(entries)
	wantStates := []string{"1:running", "1:baking", "1:checking", "1:promoted", "2:running", "2:baking", "2:checking", "2:failed", "2:rolled_back"}
	if !slices.Equal(got, wantStates) {
		t.Errorf("wave states %v, want %v", got, wantStates)
	}
	for _, ev := range eventsOf[rollout.HostTaskState](entries) {
		if ev.Host == "host04" || ev.Host == "host05" {
			t.Errorf("wave 3 host %s ran something: %+v", ev.Host, ev)
		}
	}
	rb := eventsOf[rollout.RollbackStarted](entries)
	if len(rb) != 1 || rb[0].Wave != 2 || !slices.Equal(rb[0].Hosts, []string{"host02", "host03"}) {
		t.Errorf("rollbacks %+v, want wave 2 on host02, host03", rb)
	}
	sum := summaryOf(t, entries)
	if h := sum["host03"]; !slices.Equal(h.Checks, []string{"no marker"}) || !strings.Contains(h.Failed, "no marker") || !h.RolledBack {
		t.Errorf("host03 outcome %+v: want the failed check named, rolled back", h)
	}
	if h := sum["host02"]; !h.Applied || h.Failed != "" || !h.RolledBack {
		t.Errorf("host02 outcome %+v: want applied, not failed, rolled back", h)
	}
	if h := sum["host01"]; !h.Applied || h.RolledBack || h.Wave != 1 {
		t.Errorf("host01 outcome %+v: want applied in wave 1, untouched by the rollback", h)
	}
	// The bake: checks start no sooner than 1s after the bake began (a lower bound only).
	var bakeAt, checkAt time.Time
	for _, e := range entries {
		if w, ok := e.Event.(rollout.WaveChanged); ok && w.Wave == 1 {
			switch w.State {
			case rollout.WaveBaking:
				bakeAt = e.Time
			case rollout.WaveChecking:
				checkAt = e.Time
			}
		}
	}
	if d := checkAt.Sub(bakeAt); d < time.Second {
		t.Errorf("checks began %s after the bake began, want at least the bake's 1s", d)
	} else {
		t.Logf("bake of 1s measured at %s", d)
	}
	if !strings.Contains(out, "TASK [undo]") {
		t.Errorf("the rollback's tasks are not in the output")
	}
}

// TestRolloutScopeAllRollsBackEveryWave: with scope all, wave 1 is rolled back too,
// after wave 2.
func TestRolloutScopeAllRollsBackEveryWave(t *testing.T) {
	c := newRolloutCase(t, 5, "", "0", "all")
	c.mark(t, "host02")
	code, _, entries := c.run(t, testCtx(t), "run", "-i", c.f.Inventory, c.play)
	if code != ExitHostFailed {
		t.Errorf("exit %d, want %d", code, ExitHostFailed)
	}
	for _, h := range c.f.Hosts {
		if c.patched(h.Name) {
			t.Errorf("%s still patched after a scope: all rollback", h.Name)
		}
	}
	var waves []int
	for _, rb := range eventsOf[rollout.RollbackStarted](entries) {
		waves = append(waves, rb.Wave)
		if rb.Scope != "all" {
			t.Errorf("rollback scope %q", rb.Scope)
		}
	}
	if !slices.Equal(waves, []int{2, 1}) {
		t.Errorf("waves rolled back in order %v, want [2 1]", waves)
	}
	sum := summaryOf(t, entries)
	for _, h := range []string{"host01", "host02", "host03"} {
		if !sum[h].RolledBack {
			t.Errorf("%s not rolled back: %+v", h, sum[h])
		}
	}
}

// TestRolloutUnreachableHostFailsWave: a wave-2 host whose sshd dies in the middle of the
// wave fails it; the summary names it, and its rollback needs attention.
func TestRolloutUnreachableHostFailsWave(t *testing.T) {
	slow := `    - name: slow step
      shell: touch "$KPX_HOST_DIR/started"; sleep 3
    - name: after
      shell: "true"`
	c := newRolloutCase(t, 4, slow, "0", "wave")
	victim := c.f.Host("host03")
	ctx := testCtx(t)
	go func() {
		for ctx.Err() == nil {
			if _, err := os.Stat(filepath.Join(victim.StateDir, "started")); err == nil {
				victim.Kill()
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	code, _, entries := c.run(t, ctx, "run", "-i", c.f.Inventory, c.play)
	if code != ExitHostFailed {
		t.Errorf("exit %d, want %d", code, ExitHostFailed)
	}
	var failed *rollout.WaveChanged
	for _, w := range eventsOf[rollout.WaveChanged](entries) {
		if w.State == rollout.WaveFailed {
			failed = &w
		}
	}
	if failed == nil || failed.Wave != 2 || !strings.Contains(failed.Reason, "host03") {
		t.Fatalf("failed wave %+v: want wave 2, naming host03", failed)
	}
	h := summaryOf(t, entries)["host03"]
	if h.Failed == "" || h.NeedsAttention == "" {
		t.Errorf("host03 outcome %+v: want its failure and needs-attention", h)
	}
	if !h.Unreachable {
		t.Errorf("host03 outcome %+v: want unreachable", h)
	}
	att := eventsOf[rollout.HostAttention](entries)
	if len(att) != 1 || att[0].Host != "host03" {
		t.Errorf("attention %+v, want host03 only", att)
	}
	if c.patched("host02") || !c.patched("host01") || c.patched("host04") {
		t.Errorf("host01 patched %v (want true), host02 %v (want false: rolled back), host04 %v (want false)",
			c.patched("host01"), c.patched("host02"), c.patched("host04"))
	}
}

// TestRolloutCheckModeRunsChecksChangesNothing: --check runs the health checks for real
// (they only look) and changes nothing on any host.
func TestRolloutCheckModeRunsChecksChangesNothing(t *testing.T) {
	c := newRolloutCase(t, 5, "", "0", "wave")
	c.mark(t, "host03")
	code, _, entries := c.run(t, testCtx(t), "run", "--check", "-i", c.f.Inventory, c.play)
	if code != ExitHostFailed {
		t.Errorf("exit %d, want %d (the check still fails on host03)", code, ExitHostFailed)
	}
	for _, h := range c.f.Hosts {
		if c.patched(h.Name) {
			t.Errorf("%s changed under --check", h.Name)
		}
	}
	ran := map[string]any{}
	for _, cr := range eventsOf[rollout.CheckResult](entries) {
		if cr.Final {
			ran[cr.Host] = cr.Result["rc"]
		}
	}
	if len(ran) != 3 || ran["host01"] != float64(0) || ran["host03"] != float64(1) {
		t.Errorf("final check return codes %v: want host01..03 checked for real (rc 0, 0, 1)", ran)
	}
}
