package tui

import (
	"context"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/kpxdev/kpx/rollout"
)

// drive sends msgs to m, as the program would, and returns the model and the last command.
func drive(m tea.Model, msgs ...tea.Msg) (Model, tea.Cmd) {
	var cmd tea.Cmd
	for _, msg := range msgs {
		m, cmd = m.Update(msg)
	}
	return m.(Model), cmd
}

func isQuit(cmd tea.Cmd) bool {
	if cmd == nil {
		return false
	}
	_, ok := cmd().(tea.QuitMsg)
	return ok
}

func TestControlKeys(t *testing.T) {
	for _, c := range []struct {
		name   string
		keys   []string
		calls  []string
		footer string
	}{
		{"p pauses", []string{"p"}, []string{"pause"}, "pause requested"},
		{"r resumes", []string{"r"}, []string{"resume"}, "resume requested"},
		{"a asks first", []string{"a"}, nil, "Abort the run and roll back? y/N"},
		{"a then n does nothing", []string{"a", "n"}, nil, ""},
		{"a then y aborts", []string{"a", "y"}, []string{"abort"}, "abort requested"},
	} {
		t.Run(c.name, func(t *testing.T) {
			fc := &fakeController{}
			msgs := msgs(scriptUntilRollback())
			for _, k := range c.keys {
				msgs = append(msgs, press(k))
			}
			m, _ := drive(testModel(fc), msgs...)
			if !reflect.DeepEqual(fc.calls, c.calls) {
				t.Errorf("controller calls %v, want %v", fc.calls, c.calls)
			}
			if !strings.Contains(m.footer(), c.footer) {
				t.Errorf("footer %q lacks %q", m.footer(), c.footer)
			}
		})
	}
}

func TestQuitAsksWhileTheRunIsActive(t *testing.T) {
	m, cmd := drive(testModel(nil), append(msgs(scriptUntilRollback()), press("q"))...)
	if isQuit(cmd) || !strings.Contains(m.footer(), "Quit? y/N") {
		t.Fatalf("q during a run quit at once (footer %q)", m.footer())
	}
	m, cmd = drive(m, press("n"))
	if isQuit(cmd) || m.QuitWhileActive() {
		t.Fatal("n did not keep the UI")
	}
	m, cmd = drive(m, press("q"), press("y"))
	if !isQuit(cmd) || !m.QuitWhileActive() {
		t.Fatal("q, y did not quit")
	}
}

func TestSummaryStaysUntilAKey(t *testing.T) {
	m, cmd := drive(testModel(nil), msgs(scriptedRollout())...)
	if m.mode != modeSummary || isQuit(cmd) {
		t.Fatalf("after RunFinished: mode %d, quit %v; want the summary screen", m.mode, isQuit(cmd))
	}
	if v := m.View(); !strings.Contains(v, "Stopped early: wave 2 failed") {
		t.Errorf("summary screen:\n%s", v)
	}
	if _, cmd := drive(m, press("x")); !isQuit(cmd) {
		t.Error("a key on the summary screen did not quit")
	}
	if m.QuitWhileActive() {
		t.Error("a finished run counts as quit while active")
	}
	if s := m.Summary(); strings.Contains(s, "\x1b") || !strings.Contains(s, "db04") {
		t.Errorf("printed summary has escapes or lacks db04:\n%q", s)
	}
}

func TestFilterAndFailedModes(t *testing.T) {
	base := msgs(scriptUntilRollback())
	names := func(m Model) []string {
		var out []string
		for _, i := range m.table.rows {
			out = append(out, m.st.hosts[i].name)
		}
		return out
	}
	for _, c := range []struct {
		name string
		keys []tea.Msg
		want []string
	}{
		{"all", nil, []string{"db01", "db02", "db03", "db04", "db05", "db06", "db07", "db08", "db09", "db10"}},
		{"filter typed", []tea.Msg{press("/"), press("d"), press("b"), press("0"), press("3"), press("enter")}, []string{"db03"}},
		{"filter pasted", []tea.Msg{press("/db1")}, []string{"db10"}},
		{"filter by state", []tea.Msg{press("/pend")}, []string{"db05", "db06", "db07", "db08", "db09", "db10"}},
		{"filter cleared with esc", []tea.Msg{press("/db03"), press("esc")}, []string{"db01", "db02", "db03", "db04", "db05", "db06", "db07", "db08", "db09", "db10"}},
		{"failed first", []tea.Msg{press("f")}, []string{"db02", "db03", "db04", "db01", "db05", "db06", "db07", "db08", "db09", "db10"}},
		{"failed only", []tea.Msg{press("f"), press("f")}, []string{"db02", "db03", "db04"}},
		{"back to all", []tea.Msg{press("f"), press("f"), press("f")}, []string{"db01", "db02", "db03", "db04", "db05", "db06", "db07", "db08", "db09", "db10"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, _ := drive(testModel(nil), append(base, c.keys...)...)
			if got := names(m); !reflect.DeepEqual(got, c.want) {
				t.Errorf("rows %v, want %v", got, c.want)
			}
		})
	}
}

func TestStateCounts(t *testing.T) {
	m, _ := drive(testModel(nil), msgs(scriptedRollout())...)
	s := m.st
	want := map[hostStatus]int{hostChanged: 1, hostRolledBack: 2, hostAttention: 1, hostPending: 6}
	for st := range numStatuses {
		if s.counts[st] != want[st] {
			t.Errorf("%s: %d hosts, want %d", st, s.counts[st], want[st])
		}
	}
	if s.failed != 1 || s.unreach != 0 || s.settled != 4 {
		t.Errorf("failed %d unreachable %d settled %d; want 1, 0, 4", s.failed, s.unreach, s.settled)
	}
	if w := s.waves[1]; w.state != rollout.WaveRolledBack || w.reason != "check kernel_log failed on db03" {
		t.Errorf("wave 2: %s %q", w.state, w.reason)
	}
}

// TestBridgeBatches: events emitted between two ticks arrive as one message, in order,
// and none is lost when the consumer quits between ticks.
func TestBridgeBatches(t *testing.T) {
	b := NewBridge()
	var mu sync.Mutex
	var got []EventsMsg
	send := func(msg tea.Msg) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, msg.(EventsMsg))
	}
	for i := range 500 {
		b.Emit(rollout.TaskRetry{Left: i})
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { b.Run(ctx, send, 10*time.Millisecond); close(done) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if len(got) != 1 || len(got[0].Events) != 500 {
		t.Fatalf("%d messages; want one batch of 500", len(got))
	}
	for i, ev := range got[0].Events {
		if ev.(rollout.TaskRetry).Left != i {
			t.Fatalf("event %d out of order", i)
		}
	}
	b.Emit(rollout.NoHostsLeft{})
	// A consumer that applied 499 of the 500 (its program exited during the last send)
	// gets the last one of the batch and the queued event.
	if rest := b.Since(499); len(rest) != 2 || rest[0].(rollout.TaskRetry).Left != 499 {
		t.Errorf("Since(499) = %v", rest)
	}
}

// TestAppliedSettlesPlainBatches: in a play without health checks, a host is done with
// its batch when the engine says it applied, even if the next batch has not started (the
// run may be paused between them).
func TestAppliedSettlesPlainBatches(t *testing.T) {
	batch := []string{"h1", "h2"}
	m, _ := drive(testModel(nil), EventsMsg{At: t0, Events: []rollout.Event{
		rollout.PlayStarted{Name: "p", Batch: batch, Wave: 1, Waves: 2},
		rollout.TaskStarted{Name: "t"},
		rollout.HostResult{Host: "h1", Status: rollout.StatusChanged},
		rollout.HostResult{Host: "h2", Status: rollout.StatusOK},
		rollout.HostTaskState{Host: "h1", Wave: 1, Phase: rollout.PhaseTasks, State: rollout.HostApplied},
	}})
	if st := m.st.hosts[0].status; st != hostChanged {
		t.Errorf("h1 %s after applied, want changed", st)
	}
	if w := m.st.waves[0]; w.state != rollout.WaveRunning || w.running != 1 {
		t.Errorf("wave %s with %d running, want running with 1", w.state, w.running)
	}
	m, _ = drive(m, EventsMsg{At: t0, Events: []rollout.Event{
		rollout.HostTaskState{Host: "h2", Wave: 1, Phase: rollout.PhaseTasks, State: rollout.HostApplied},
		rollout.ControlChanged{Control: "pause"},
	}})
	if w := m.st.waves[0]; w.state != waveDone || m.st.counts[hostRunning] != 0 || !m.st.paused {
		t.Errorf("wave %s, %d running, paused %v; want done, 0, true", w.state, m.st.counts[hostRunning], m.st.paused)
	}
}
