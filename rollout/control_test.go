package rollout_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kpxdev/kpx/playbooks"
	"github.com/kpxdev/kpx/rollout"
)

const controlPlay = `- hosts: all
  gather_facts: false
  serial: 1
  tasks:
    - name: apply
      command: "true"
  health:
    checks:
      - name: check
        command: "true"
  rollback:
    tasks:
      - name: undo
        command: "true"
`

// hookExec records which host ran which task, and calls hook before each.
type hookExec struct {
	mu   sync.Mutex
	ran  []string // "host:task"
	hook func(host, task string)
}

func (e *hookExec) Execute(_ context.Context, host string, t *playbooks.Task, _ func(rollout.Event)) rollout.Outcome {
	if e.hook != nil {
		e.hook(host, t.DisplayName())
	}
	e.mu.Lock()
	e.ran = append(e.ran, host+":"+t.DisplayName())
	e.mu.Unlock()
	return rollout.Outcome{Status: rollout.StatusChanged, Result: map[string]any{"changed": true}}
}

func (e *hookExec) calls() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.ran)
}

// eventLog collects events for assertions; safe for concurrent use.
type eventLog struct {
	mu  sync.Mutex
	evs []rollout.Event
}

func (l *eventLog) add(ev rollout.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.evs = append(l.evs, ev)
}

func (l *eventLog) waves() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, ev := range l.evs {
		if w, ok := ev.(rollout.WaveChanged); ok {
			out = append(out, string(rune('0'+w.Wave))+":"+string(w.State))
		}
	}
	return out
}

func loadPlay(t *testing.T, src string) *playbooks.Playbook {
	t.Helper()
	path := filepath.Join(t.TempDir(), "play.yml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	pb, err := playbooks.Load(path, playbooks.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return pb
}

var abc = func(*playbooks.Play) ([]string, error) { return []string{"a", "b", "c"}, nil }

func TestAbortRollsBackCurrentWaveAndStops(t *testing.T) {
	pb := loadPlay(t, controlPlay)
	exe := &hookExec{}
	var log eventLog
	r := rollout.NewRunner(exe, abc, rollout.Options{Emit: log.add})
	exe.hook = func(host, task string) {
		if host == "b" && task == "apply" {
			r.Abort()
		}
	}
	fin, err := r.Run(context.Background(), pb)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a:apply", "a:check", "b:apply", "b:undo"}
	if got := exe.calls(); !slices.Equal(got, want) {
		t.Errorf("calls %v, want %v", got, want)
	}
	if !fin.RolloutFailed || fin.ExitCode() != 2 {
		t.Errorf("finished %+v: want a failed rollout", fin)
	}
	wantWaves := []string{"1:running", "1:checking", "1:promoted", "2:running", "2:failed", "2:rolled_back"}
	if got := log.waves(); !slices.Equal(got, wantWaves) {
		t.Errorf("waves %v, want %v", got, wantWaves)
	}
}

// TestInterruptStopThenResume: an interrupt with --on-interrupt stop leaves the wave as
// it was; resuming from the journal runs the rest and skips what was done.
func TestInterruptStopThenResume(t *testing.T) {
	pb := loadPlay(t, controlPlay)
	store := rollout.JournalStore{Dir: t.TempDir()}
	j, err := store.Create("run1")
	if err != nil {
		t.Fatal(err)
	}
	exe := &hookExec{}
	var log eventLog
	r := rollout.NewRunner(exe, abc, rollout.Options{Emit: log.add, Journal: j, OnInterrupt: rollout.OnInterruptStop, Start: rollout.RunStarted{RunID: "run1"}})
	exe.hook = func(host, task string) {
		if host == "b" && task == "apply" {
			r.Interrupt()
		}
	}
	fin, err := r.Run(context.Background(), pb)
	if err != nil {
		t.Fatal(err)
	}
	j.Close()
	if fin.RolloutFailed {
		t.Error("an interrupt with stop failed the rollout")
	}
	if got, want := exe.calls(), []string{"a:apply", "a:check", "b:apply"}; !slices.Equal(got, want) {
		t.Errorf("calls %v, want %v", got, want)
	}
	entries, err := rollout.ReadJournalFile(store.Path("run1"))
	if err != nil {
		t.Fatal(err)
	}
	st := rollout.Replay(entries)
	if st.RanToEnd() || st.Plays[0].Waves[2].State != rollout.WaveRunning {
		t.Fatalf("journal: ran to end %v, wave 2 %+v: want wave 2 left running", st.RanToEnd(), st.Plays[0].Waves[2])
	}

	j2, err := store.Open("run1")
	if err != nil {
		t.Fatal(err)
	}
	defer j2.Close()
	exe2 := &hookExec{}
	r2 := rollout.NewRunner(exe2, abc, rollout.Options{Journal: j2, Resume: st, Start: rollout.RunStarted{RunID: "run1", Command: "resume"}})
	if _, err := r2.Run(context.Background(), pb); err != nil {
		t.Fatal(err)
	}
	if got, want := exe2.calls(), []string{"b:apply", "b:check", "c:apply", "c:check"}; !slices.Equal(got, want) {
		t.Errorf("resumed calls %v, want %v", got, want)
	}
}

func TestPauseHoldsTheNextWave(t *testing.T) {
	pb := loadPlay(t, controlPlay)
	exe := &hookExec{}
	var log eventLog
	r := rollout.NewRunner(exe, abc, rollout.Options{Emit: log.add})
	r.Pause()
	done := make(chan struct{})
	go func() {
		defer close(done)
		if _, err := r.Run(context.Background(), pb); err != nil {
			t.Error(err)
		}
	}()
	deadline := time.Now().Add(time.Minute)
	for !slices.Contains(log.waves(), "1:promoted") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	if slices.Contains(log.waves(), "2:running") {
		t.Fatal("wave 2 started while the run was paused")
	}
	r.Resume()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("the run did not go on after Resume")
	}
	if got := exe.calls(); len(got) != 6 {
		t.Errorf("calls %v, want every host applied and checked", got)
	}
}
