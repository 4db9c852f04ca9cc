package rollout_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kpxdev/kpx/playbooks"
	"github.com/kpxdev/kpx/rollout"
)

// TestSlowPresenterDoesNotHoldUpTheEngine: a presenter that blocks on its first event until
// the engine has run every task. Were events handed over synchronously, the engine would
// wait on the presenter and the presenter on the engine; with the queue, the run finishes
// its tasks, and Run returns only once the presenter has seen every event, in the order
// the journal recorded them.
func TestSlowPresenterDoesNotHoldUpTheEngine(t *testing.T) {
	pb := loadPlay(t, controlPlay)
	store := rollout.JournalStore{Dir: t.TempDir()}
	j, err := store.Create("run1")
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()

	allRan := make(chan struct{})
	exe := &hookExec{}
	var log eventLog
	blocked := false
	present := func(ev rollout.Event) {
		if !blocked {
			blocked = true
			select {
			case <-allRan:
			case <-time.After(2 * time.Minute):
				t.Error("the engine did not run its tasks while the presenter was blocked")
			}
		}
		log.add(ev)
	}
	r := rollout.NewRunner(exe, abc, rollout.Options{Emit: present, Journal: j, Start: rollout.RunStarted{RunID: "run1"}})
	exe.hook = func(host, task string) {
		if host == "c" && task == "check" {
			close(allRan)
		}
	}
	fin, err := r.Run(context.Background(), pb)
	if err != nil {
		t.Fatal(err)
	}
	if fin.ExitCode() != 0 {
		t.Fatalf("exit %d, want 0", fin.ExitCode())
	}
	if got := len(exe.calls()); got != 6 {
		t.Fatalf("%d tasks ran, want 6", got)
	}

	// Everything reached the presenter before Run returned, in the journal's order.
	entries, err := rollout.ReadJournalFile(store.Path("run1"))
	if err != nil {
		t.Fatal(err)
	}
	log.mu.Lock()
	got := log.evs
	log.mu.Unlock()
	if len(got) != len(entries) {
		t.Fatalf("presenter saw %d events, journal has %d", len(got), len(entries))
	}
	for i, e := range entries {
		if reflect.TypeOf(got[i]) != reflect.TypeOf(e.Event) {
			t.Fatalf("event %d: presenter saw %T, journal has %T", i, got[i], e.Event)
		}
		a, _ := json.Marshal(got[i])
		b, _ := json.Marshal(e.Event)
		if string(a) != string(b) {
			t.Errorf("event %d: presenter saw %s, journal has %s", i, a, b)
		}
	}
	if _, ok := got[len(got)-1].(rollout.RunFinished); !ok {
		t.Errorf("last event %T, want RunFinished", got[len(got)-1])
	}
}

// slowJournal is a Journal whose Sync takes a while; it tracks which events are durable.
type slowJournal struct {
	mu      sync.Mutex
	written []rollout.Event
	durable int // written[:durable] are durable
	syncs   int
}

func (j *slowJournal) Append(ev rollout.Event) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.written = append(j.written, ev)
	return nil
}

func (j *slowJournal) Sync() error {
	j.mu.Lock()
	n := len(j.written)
	j.mu.Unlock()
	time.Sleep(5 * time.Millisecond) // a disk's fsync
	j.mu.Lock()
	defer j.mu.Unlock()
	j.durable = max(j.durable, n)
	j.syncs++
	return nil
}

func (j *slowJournal) Read() ([]rollout.JournalEntry, error) { return nil, nil }
func (j *slowJournal) Close() error                          { return nil }

// startedDurably says whether host's latest "started" record for task is durable.
func (j *slowJournal) startedDurably(host, task string) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, ev := range j.written[:j.durable] {
		if s, ok := ev.(rollout.HostTaskState); ok && s.Host == host && s.Task == task && s.State == rollout.HostStarted {
			return true
		}
	}
	return false
}

// TestJournalGroupCommit: hosts running a task at once share the journal's fsyncs, and
// still no host is touched before its "started" record is durable.
func TestJournalGroupCommit(t *testing.T) {
	const n = 40
	pb := loadPlay(t, `- hosts: all
  gather_facts: false
  tasks:
    - name: one
      command: "true"
    - name: two
      command: "true"
`)
	hosts := make([]string, n)
	for i := range hosts {
		hosts[i] = fmt.Sprintf("h%02d", i)
	}
	j := &slowJournal{}
	exe := &hookExec{}
	var early []string
	var mu sync.Mutex
	exe.hook = func(host, task string) {
		if !j.startedDurably(host, task) {
			mu.Lock()
			early = append(early, host+":"+task)
			mu.Unlock()
		}
	}
	r := rollout.NewRunner(exe, func(*playbooks.Play) ([]string, error) { return hosts, nil },
		rollout.Options{Forks: n, Journal: j, Start: rollout.RunStarted{RunID: "run1"}})
	fin, err := r.Run(context.Background(), pb)
	if err != nil {
		t.Fatal(err)
	}
	if fin.ExitCode() != 0 || len(exe.calls()) != 2*n {
		t.Fatalf("exit %d, %d tasks run: want 0 and %d", fin.ExitCode(), len(exe.calls()), 2*n)
	}
	if len(early) > 0 {
		t.Errorf("hosts touched before their start was durable: %v", early)
	}
	stateChanges := 0
	for _, ev := range j.written {
		switch ev.(type) {
		case rollout.HostTaskState, rollout.RunStarted, rollout.RunFinished, rollout.RolloutSummary:
			stateChanges++
		}
	}
	// Without group commit every state change is an fsync of its own (2 per host and
	// task, one per applied host, and the run's); with it, hosts share them.
	if j.syncs*2 > stateChanges {
		t.Errorf("%d fsyncs for %d state changes: hosts did not share them", j.syncs, stateChanges)
	}
	t.Logf("%d fsyncs for %d state changes", j.syncs, stateChanges)
}

// brokenJournal refuses to record that host fails is about to start a task.
type brokenJournal struct {
	slowJournal
	fails string
}

func (j *brokenJournal) Append(ev rollout.Event) error {
	if s, ok := ev.(rollout.HostTaskState); ok && s.Host == j.fails && s.State == rollout.HostStarted {
		return errors.New("disk full")
	}
	return j.slowJournal.Append(ev)
}

// TestUnjournaledHostIsNotTouched: when the journal cannot record a host's start, the
// host is left alone and the run stops.
func TestUnjournaledHostIsNotTouched(t *testing.T) {
	pb := loadPlay(t, controlPlay)
	exe := &hookExec{}
	r := rollout.NewRunner(exe, abc, rollout.Options{Journal: &brokenJournal{fails: "b"}, Start: rollout.RunStarted{RunID: "run1"}})
	_, err := r.Run(context.Background(), pb)
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("run error %v, want the journal's", err)
	}
	for _, c := range exe.calls() {
		if strings.HasPrefix(c, "b:") || strings.HasPrefix(c, "c:") {
			t.Errorf("%s ran although the journal could not record it", c)
		}
	}
}
