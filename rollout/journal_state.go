package rollout

import (
	"slices"
	"strings"
)

// RunState is what a run's journal says: the run's parameters, each wave's last state,
// and each host's last step. It is what `kpx runs`, `kpx resume` and `kpx rollback` act
// on, and what the crash tests compare the hosts with.
type RunState struct {
	Start    RunStarted // the first RunStarted: the run as it was asked for
	Attempts int        // RunStarted events: 1, plus one per resume or rollback
	Plays    map[int]*PlayRecord
	Summary  *RolloutSummary // the last one, if any
	Finished *RunFinished    // the last one, if any
	// LastControl is the last operator control or interrupt recorded, if any.
	LastControl *ControlChanged
	Attention   []HostAttention

	finishedLast bool   // a RunFinished follows the last RunStarted
	lastCommand  string // of the last RunStarted
}

// PlayRecord is one play's waves and hosts, by the play's index in the playbook.
type PlayRecord struct {
	Name  string
	Waves map[int]*WaveRecord
	Hosts map[string]*HostRecord
	order []string
}

// WaveRecord is a wave's last recorded state.
type WaveRecord struct {
	Wave   int
	State  WaveState
	Hosts  []string
	Reason string
}

// HostRecord is one host's history in one play, reduced to what resume and rollback need.
type HostRecord struct {
	Host  string
	Wave  int // the wave it ran in (0: never started)
	Phase string
	Task  string
	State string // its last HostTaskState
	// Started: it started a task of the play (not counting facts); the run may have
	// changed it.
	Started bool
	Changed bool // a task reported a change
	Failed  bool // a task failed or the host was unreachable
	Applied bool // it finished its wave's tasks and handlers
	// RolledBack: its rollback tasks all succeeded since it last started a task.
	RolledBack bool
}

// Final says where the journal leaves the host: "untouched", "applied", "rolled_back",
// "failed", or "unknown" when its last step started and never finished.
func (h *HostRecord) Final() string {
	switch {
	case h.State == HostStarted && (h.Phase == PhaseTasks || h.Phase == PhaseRollback):
		return "unknown" // checks and facts change nothing
	case h.RolledBack:
		return "rolled_back"
	case !h.Started:
		return "untouched"
	case h.Failed && !h.Applied:
		return "failed"
	case h.Applied:
		return "applied"
	}
	return "unknown"
}

// Hosts returns the play's hosts in the order they were first journaled.
func (p *PlayRecord) HostsInOrder() []*HostRecord {
	out := make([]*HostRecord, 0, len(p.order))
	for _, h := range p.order {
		out = append(out, p.Hosts[h])
	}
	return out
}

// Replay reduces a journal to the run's state.
func Replay(entries []JournalEntry) *RunState {
	s := &RunState{Plays: map[int]*PlayRecord{}}
	for _, e := range entries {
		switch ev := e.Event.(type) {
		case RunStarted:
			if s.Attempts == 0 {
				s.Start = ev
			}
			s.Attempts++
			s.finishedLast = false
			s.lastCommand = ev.Command
		case WaveChanged:
			s.wave(ev)
		case HostTaskState:
			s.hostTask(ev)
		case RolloutSummary:
			s.Summary = &ev
		case RunFinished:
			s.Finished = &ev
			s.finishedLast = true
		case ControlChanged:
			s.LastControl = &ev
		case HostAttention:
			s.Attention = append(s.Attention, ev)
		}
	}
	return s
}

func (s *RunState) play(i int) *PlayRecord {
	p, ok := s.Plays[i]
	if !ok {
		p = &PlayRecord{Waves: map[int]*WaveRecord{}, Hosts: map[string]*HostRecord{}}
		s.Plays[i] = p
	}
	return p
}

func (s *RunState) wave(ev WaveChanged) {
	p := s.play(ev.PlayIndex)
	p.Name = ev.Play
	w, ok := p.Waves[ev.Wave]
	if !ok {
		w = &WaveRecord{Wave: ev.Wave}
		p.Waves[ev.Wave] = w
	}
	w.State = ev.State
	if len(ev.Hosts) > 0 {
		w.Hosts = slices.Clone(ev.Hosts)
	}
	if ev.Reason != "" {
		w.Reason = ev.Reason
	}
}

func (s *RunState) hostTask(ev HostTaskState) {
	p := s.play(ev.PlayIndex)
	h, ok := p.Hosts[ev.Host]
	if !ok {
		h = &HostRecord{Host: ev.Host}
		p.Hosts[ev.Host] = h
		p.order = append(p.order, ev.Host)
	}
	h.Phase, h.Task, h.State = ev.Phase, ev.Task, ev.State
	switch ev.Phase {
	case PhaseFacts, PhaseCheck:
		if ev.Phase == PhaseFacts && ev.State == string(StatusUnreachable) {
			h.Failed = true
		}
		if h.Wave == 0 {
			h.Wave = ev.Wave
		}
	case PhaseTasks:
		h.Wave = ev.Wave
		switch ev.State {
		case HostStarted:
			h.Started, h.RolledBack = true, false
		case HostApplied:
			h.Applied = true
		case string(StatusChanged):
			h.Changed = true
		case string(StatusFailed), string(StatusUnreachable):
			h.Failed = true
		}
	case PhaseRollback:
		if ev.State == HostRolledBack {
			h.RolledBack = true
		}
	}
}

// Outcome is a run's outcome in a word, for `kpx runs`.
func (s *RunState) Outcome() string {
	if s.Finished == nil {
		if s.LastControl != nil && (s.LastControl.Control == "interrupt" || s.LastControl.Control == "abort") {
			return "interrupted"
		}
		return "incomplete"
	}
	switch code := s.Finished.ExitCode(); {
	case s.lastCommand == "rollback" && s.finishedLast && code == 0:
		return "rolled back"
	case s.lastCommand == "rollback" && s.finishedLast:
		return "rolled back; hosts need attention"
	case s.Finished.RolloutFailed && s.Summary != nil && s.Summary.Stopped != "":
		stopped, _, _ := strings.Cut(s.Summary.Stopped, ": ")
		return "failed: " + stopped
	case code == 0:
		return "ok"
	case code == 4:
		return "unreachable hosts"
	default:
		return "failed hosts"
	}
}

// RanToEnd says whether the last attempt of the run (run or resume) finished without
// being stopped: there is nothing left to resume.
func (s *RunState) RanToEnd() bool {
	return s.finishedLast && s.Summary != nil && s.Summary.Stopped == ""
}
