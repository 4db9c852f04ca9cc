package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/kpxdev/kpx/rollout"
)

// hostStatus is where a host is, as the hosts table shows it.
type hostStatus int

const (
	hostPending hostStatus = iota
	hostRunning
	hostOK
	hostChanged
	hostFailed
	hostUnreachable
	hostRollingBack
	hostRolledBack
	hostAttention
	numStatuses
)

var statusNames = [numStatuses]string{"pending", "running", "ok", "changed", "failed", "unreachable", "rolling back", "rolled back", "attention"}

func (s hostStatus) String() string { return statusNames[s] }

// bad reports whether the status is one the operator looks at first.
func (s hostStatus) bad() bool {
	switch s {
	case hostFailed, hostUnreachable, hostRollingBack, hostRolledBack, hostAttention:
		return true
	}
	return false
}

// maxKept bounds the task results and check outputs kept per host, so that a long run
// on a large fleet holds a bounded amount of history.
const maxKept = 64

// taskLine is one task result or check output of a host, for its detail pane.
type taskLine struct {
	At       time.Time
	Task     string
	Status   string
	Msg      string
	Stdout   string
	Stderr   string
	Rollback bool
	Check    bool
}

type host struct {
	name      string
	wave      int // index into runState.waves, -1 before its first wave
	status    hostStatus
	changed   bool
	lastMsg   string
	started   time.Time
	ended     time.Time
	lines     []taskLine
	attention string
	failed    string // why it failed (a task or a check), once it has
	unreach   bool
	task      string // the task it runs now, when the engine says (HostTaskState)
}

// display is the host's state in words: its status, and its failure when a rollback
// followed it.
func (h *host) display() string {
	switch {
	case h.failed != "" && h.status != hostFailed && h.status.bad():
		return "failed, " + h.status.String()
	case h.unreach && h.status != hostUnreachable && h.status.bad():
		return "unreachable, " + h.status.String()
	}
	return h.status.String()
}

func (h *host) keep(l taskLine) {
	if len(h.lines) == maxKept {
		copy(h.lines, h.lines[1:])
		h.lines = h.lines[:maxKept-1]
	}
	h.lines = append(h.lines, l)
}

// waveRollingBack is the UI's name for a wave whose rollback runs; the engine reports
// its start (RollbackStarted) and its end (WaveChanged rolled_back).
const waveRollingBack rollout.WaveState = "rolling_back"

// waveDone is a batch of a play without health checks that ran to its end.
const waveDone rollout.WaveState = "done"

type wave struct {
	play     string
	num, of  int
	state    rollout.WaveState
	hosts    []int
	task     string
	until    time.Time
	reason   string
	failures int // hosts of the wave that failed or could not be reached
	running  int // hosts of the wave still running
}

func (w *wave) label() string { return fmt.Sprintf("%d/%d", w.num, w.of) }

type waveKey struct {
	play string
	num  int
}

// runState is everything the UI knows about the run, built from its events. It is only
// touched by the bubbletea goroutine.
type runState struct {
	playbook string
	runID    string
	started  time.Time
	hosts    []*host
	index    map[string]int
	waves    []*wave
	waveIdx  map[waveKey]int
	plays    map[string]bool
	rollouts map[string]bool // plays with health: or rollback: (the engine sends WaveChanged for them)
	counts   [numStatuses]int
	failed   int // hosts that failed a task or a check, whatever happened next
	unreach  int // hosts that could not be reached at some point
	settled  int // hosts done with the run: failed, unreachable, or their last wave over
	task     string
	paused   bool
	aborting bool
	control  string
	warning  string
	summary  *rollout.RolloutSummary
	finished *rollout.RunFinished
	ended    time.Time
	version  uint64 // bumped on every change, so views know when to rebuild
	applied  int64  // events applied
}

func newRunState(playbook string) *runState {
	return &runState{playbook: playbook, index: map[string]int{}, waveIdx: map[waveKey]int{}, plays: map[string]bool{}, rollouts: map[string]bool{}}
}

// host returns the host named name, adding it when the run had not named it before.
func (s *runState) host(name string) *host {
	if i, ok := s.index[name]; ok {
		return s.hosts[i]
	}
	h := &host{name: name, wave: -1}
	s.index[name] = len(s.hosts)
	s.hosts = append(s.hosts, h)
	s.counts[hostPending]++
	return h
}

func (s *runState) setStatus(h *host, st hostStatus, at time.Time) {
	if h.status == st {
		return
	}
	wasSettled := s.isSettled(h)
	s.counts[h.status]--
	s.counts[st]++
	if h.wave >= 0 {
		w := s.waves[h.wave]
		if st.bad() && !h.status.bad() {
			w.failures++
		}
		if h.status == hostRunning {
			w.running--
		}
		if st == hostRunning {
			w.running++
		}
	}
	h.status = st
	if st != hostRunning && st != hostPending && h.ended.IsZero() {
		h.ended = at
	}
	if st == hostRunning {
		h.ended = time.Time{}
	}
	if now := s.isSettled(h); now != wasSettled {
		if now {
			s.settled++
		} else {
			s.settled--
		}
	}
}

// markFailed records that h failed, and why.
func (s *runState) markFailed(h *host, why string) {
	if h.failed == "" {
		s.failed++
	}
	h.failed = oneLine(why)
}

func (s *runState) markUnreachable(h *host) {
	if !h.unreach {
		s.unreach++
	}
	h.unreach = true
}

func (s *runState) isSettled(h *host) bool { return h.status != hostPending && h.status != hostRunning }

func (s *runState) wave(play string, num, of int) *wave {
	k := waveKey{play, num}
	if i, ok := s.waveIdx[k]; ok {
		return s.waves[i]
	}
	w := &wave{play: play, num: num, of: of, state: rollout.WavePending}
	s.waveIdx[k] = len(s.waves)
	s.waves = append(s.waves, w)
	return w
}

// active reports whether the run is still going.
func (s *runState) active() bool { return s.finished == nil }

// apply folds one event into the state; at is when the UI received it.
func (s *runState) apply(ev rollout.Event, at time.Time) {
	s.version++
	s.applied++
	if s.started.IsZero() {
		s.started = at
	}
	switch ev := ev.(type) {
	case rollout.RunStarted:
		s.runStarted(ev, at)
	case rollout.PlayStarted:
		s.playStarted(ev, at)
	case rollout.TaskStarted:
		s.task = ev.Name
		if ev.Handler {
			s.task = "handler: " + ev.Name
		}
		for _, w := range s.waves {
			if w.state == rollout.WaveRunning || w.state == waveRollingBack {
				w.task = s.task
			}
		}
	case rollout.HostResult:
		s.hostResult(ev, at)
	case rollout.TaskRetry:
		s.host(ev.Host).lastMsg = fmt.Sprintf("retrying %s (%d left)", ev.Task, ev.Left)
	case rollout.WaveChanged:
		s.waveChanged(ev, at)
	case rollout.CheckResult:
		s.checkResult(ev, at)
	case rollout.RollbackStarted:
		s.rollbackStarted(ev, at)
	case rollout.HostTaskState:
		s.hostTaskState(ev, at)
	case rollout.HostAttention:
		h := s.host(ev.Host)
		h.attention, h.lastMsg = ev.Reason, ev.Reason
		s.setStatus(h, hostAttention, at)
	case rollout.ControlChanged:
		s.controlChanged(ev)
	case rollout.Warning:
		s.warning = ev.Msg
	case rollout.RolloutSummary:
		s.rolloutSummary(ev, at)
	case rollout.RunFinished:
		s.settleRunning(at)
		s.finished = &ev
		s.ended = at
		for _, name := range ev.Hosts {
			s.host(name)
		}
	}
}

func (s *runState) runStarted(ev rollout.RunStarted, at time.Time) {
	s.runID = ev.RunID
	if ev.Playbook != "" {
		s.playbook = ev.Playbook
	}
	if !ev.Time.IsZero() {
		s.started = ev.Time
	}
	for _, h := range ev.Hosts {
		s.host(h)
	}
}

func (s *runState) playStarted(ev rollout.PlayStarted, at time.Time) {
	s.settleRunning(at)
	s.plays[ev.Name] = true
	if len(ev.Batch) == 0 {
		return
	}
	num, of := max(ev.Wave, 1), max(ev.Waves, 1)
	s.planWaves(ev.Name, of)
	w := s.wave(ev.Name, num, of)
	w.state = rollout.WaveRunning
	w.task = ""
	s.joinWave(w, ev.Batch, at)
}

// joinWave makes hosts the wave's hosts and starts them.
func (s *runState) joinWave(w *wave, hosts []string, at time.Time) {
	wi := s.waveIdx[waveKey{w.play, w.num}]
	w.hosts = w.hosts[:0]
	for _, name := range hosts {
		h := s.host(name)
		w.hosts = append(w.hosts, s.index[name])
		if h.wave == wi && h.status != hostPending {
			continue
		}
		if h.status == hostRunning {
			s.setStatus(h, hostPending, at) // leave the old wave's running count
		}
		h.wave, h.changed, h.started = wi, false, at
		s.setStatus(h, hostRunning, at)
	}
}

// settleRunning ends batches that are still running when the next one (or the end of
// the run) comes: plays without health checks say no more about their batches.
func (s *runState) settleRunning(at time.Time) {
	for _, w := range s.waves {
		if w.state != rollout.WaveRunning {
			continue
		}
		w.state = waveDone
		if w.failures >= len(w.hosts) && len(w.hosts) > 0 {
			w.state = rollout.WaveFailed
		}
		s.settleHosts(w, at)
	}
}

// settleHosts marks the wave's hosts that are still running as finished.
func (s *runState) settleHosts(w *wave, at time.Time) {
	for _, i := range w.hosts {
		s.settleHost(s.hosts[i], at)
	}
}

// settleHost marks a host that is still running as finished, ok or changed.
func (s *runState) settleHost(h *host, at time.Time) {
	switch {
	case h.status != hostRunning:
	case h.changed:
		s.setStatus(h, hostChanged, at)
	default:
		s.setStatus(h, hostOK, at)
	}
}

func (s *runState) hostResult(ev rollout.HostResult, at time.Time) {
	h := s.host(ev.Host)
	l := taskLine{At: at, Task: s.task, Status: string(ev.Status), Rollback: h.status == hostRollingBack}
	l.Msg, l.Stdout, l.Stderr = resultText(ev.Result)
	if ev.Ignored {
		l.Status += " (ignored)"
	}
	h.keep(l)
	h.lastMsg = oneLine(firstNonEmpty(l.Msg, l.Stderr, l.Stdout, string(ev.Status)))
	if l.Rollback || h.status == hostAttention {
		return
	}
	switch ev.Status {
	case rollout.StatusChanged:
		h.changed = true
	case rollout.StatusFailed:
		if !ev.Ignored {
			s.markFailed(h, "task "+s.task+": "+h.lastMsg)
			s.setStatus(h, hostFailed, at)
		}
	case rollout.StatusUnreachable:
		s.markUnreachable(h)
		s.setStatus(h, hostUnreachable, at)
	}
	if h.status == hostPending {
		s.setStatus(h, hostRunning, at)
		h.started = at
	}
}

// planWaves lists a play's waves, pending, when its first one starts.
func (s *runState) planWaves(play string, of int) {
	if _, ok := s.waveIdx[waveKey{play, of}]; ok {
		return
	}
	for i := 1; i <= of; i++ {
		s.wave(play, i, of)
	}
}

func (s *runState) hostTaskState(ev rollout.HostTaskState, at time.Time) {
	h := s.host(ev.Host)
	switch ev.State {
	case rollout.HostStarted:
		h.task = ev.Task
	case rollout.HostRolledBack:
		h.task = ""
		if h.status != hostAttention {
			s.setStatus(h, hostRolledBack, at)
		}
	case rollout.HostApplied:
		// A batch of a play without health checks is over for this host; a rollout
		// wave's hosts go on to bake and checks.
		h.task = ""
		if h.wave < 0 || h.status != hostRunning || s.rollouts[s.waves[h.wave].play] {
			return
		}
		w := s.waves[h.wave]
		s.settleHost(h, at)
		if w.running == 0 && w.state == rollout.WaveRunning {
			w.state = waveDone
		}
	default:
		h.task = ""
	}
}

func (s *runState) waveChanged(ev rollout.WaveChanged, at time.Time) {
	s.plays[ev.Play] = true
	s.rollouts[ev.Play] = true
	s.planWaves(ev.Play, ev.Waves)
	w := s.wave(ev.Play, ev.Wave, ev.Waves)
	if ev.Waves > 0 {
		w.of = ev.Waves
	}
	if len(ev.Hosts) > 0 && (ev.State == rollout.WaveRunning || len(w.hosts) == 0) {
		s.joinWave(w, ev.Hosts, at)
	}
	w.state = ev.State
	switch ev.State {
	case rollout.WaveBaking:
		w.until = ev.Until
	case rollout.WaveFailed:
		w.reason = ev.Reason
		s.settleHosts(w, at)
	case rollout.WavePromoted:
		s.settleHosts(w, at)
	case rollout.WaveRolledBack:
		for _, i := range w.hosts {
			if h := s.hosts[i]; h.status == hostRollingBack {
				s.setStatus(h, hostRolledBack, at)
			}
		}
	}
}

func (s *runState) checkResult(ev rollout.CheckResult, at time.Time) {
	h := s.host(ev.Host)
	msg, stdout, stderr := resultText(ev.Result)
	verdict := "passed"
	if !ev.Passed {
		verdict = "failed"
		if !ev.Final {
			verdict = "failed, will retry"
		}
	}
	h.keep(taskLine{At: at, Task: ev.Check, Status: verdict, Msg: msg, Stdout: stdout, Stderr: stderr, Check: true})
	h.lastMsg = oneLine(fmt.Sprintf("check %s %s (attempt %d) %s", ev.Check, verdict, ev.Attempt, msg))
	if ev.Final && !ev.Passed && h.status != hostAttention {
		s.markFailed(h, "check "+ev.Check+": "+firstNonEmpty(msg, stdout, stderr, "failed"))
		s.setStatus(h, hostFailed, at)
	}
}

func (s *runState) rollbackStarted(ev rollout.RollbackStarted, at time.Time) {
	if i, ok := s.waveIdx[waveKey{ev.Play, ev.Wave}]; ok {
		s.waves[i].state = waveRollingBack
		s.waves[i].task = ""
	}
	for _, name := range ev.Hosts {
		h := s.host(name)
		if h.status != hostAttention {
			s.setStatus(h, hostRollingBack, at)
			h.ended = time.Time{}
		}
	}
}

func (s *runState) controlChanged(ev rollout.ControlChanged) {
	switch ev.Control {
	case "pause":
		s.paused = true
	case "resume":
		s.paused = false
	case "abort", "interrupt":
		s.aborting = true
	}
	s.control = strings.TrimSpace(ev.Control + " " + ev.Detail)
}

func (s *runState) rolloutSummary(ev rollout.RolloutSummary, at time.Time) {
	s.summary = &ev
	if ev.RunID != "" {
		s.runID = ev.RunID
	}
	for _, o := range ev.Hosts {
		h := s.host(o.Host)
		if o.Failed != "" {
			s.markFailed(h, o.Failed)
		}
		if o.Unreachable {
			s.markUnreachable(h)
		}
		switch {
		case o.NeedsAttention != "":
			h.attention = o.NeedsAttention
			s.setStatus(h, hostAttention, at)
		case o.RolledBack:
			s.setStatus(h, hostRolledBack, at)
		case o.Unreachable:
			s.setStatus(h, hostUnreachable, at)
		case o.Failed != "":
			s.setStatus(h, hostFailed, at)
		}
	}
}

// resultText picks what a person reads in a module result: its message, stdout, stderr.
func resultText(r map[string]any) (msg, stdout, stderr string) {
	str := func(k string) string {
		switch v := r[k].(type) {
		case nil:
			return ""
		case string:
			return v
		default:
			return fmt.Sprint(v)
		}
	}
	return str("msg"), str("stdout"), str("stderr")
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}

// oneLine returns the first line of s, trimmed.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = strings.TrimSpace(s[:i]) + " …"
	}
	return s
}
