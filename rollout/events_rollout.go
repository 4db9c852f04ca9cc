package rollout

import "time"

// The events below are kpx's own, beyond what ansible-playbook shows: the run's identity,
// the life of each wave (tasks -> bake -> health checks -> promoted or rolled back),
// operator controls, and the closing summary. A play without health: or rollback: emits
// only RunStarted and RolloutSummary of these, so its plain output stays Ansible's.

// WaveState is where a wave is in its life.
type WaveState string

const (
	WavePending    WaveState = "pending"
	WaveRunning    WaveState = "running"     // its tasks and handlers
	WaveBaking     WaveState = "baking"      // soak time before the checks
	WaveChecking   WaveState = "checking"    // health checks
	WavePromoted   WaveState = "promoted"    // passed; the next wave may start
	WaveFailed     WaveState = "failed"      // threshold exceeded or a check failed
	WaveRolledBack WaveState = "rolled_back" // its rollback tasks ran
)

// RunStarted: a run begins. It is the first event of every run.
type RunStarted struct {
	RunID    string
	Playbook string    // the playbook's path
	Hosts    []string  // every host some play targets, in order
	Check    bool      // --check
	Time     time.Time // when the run began
}

// WaveChanged: a wave of a rollout play moved to another state. Play and Wave identify
// it; Hosts are the wave's hosts (set when the wave starts running).
type WaveChanged struct {
	Play  string
	Wave  int // 1-based
	Waves int
	State WaveState
	Hosts []string
	// Until is when a bake ends (State == WaveBaking).
	Until time.Time
	// Reason says why a wave failed, in a sentence (State == WaveFailed).
	Reason string
}

// CheckResult: one health check ran on one host. A check that fails with attempts left
// is retried after the health section's delay; Final marks the attempt that counts.
type CheckResult struct {
	Host    string
	Wave    int
	Check   string // the check's name, or its module
	Attempt int    // 1-based
	Passed  bool
	Final   bool
	Result  map[string]any // the module's result, in Ansible's shape
}

// RollbackStarted: a failed wave is being rolled back on Hosts (scope "wave": the failed
// wave's hosts; "all": every host the run changed, newest wave first).
type RollbackStarted struct {
	Play  string
	Wave  int
	Scope string
	Hosts []string
}

// HostAttention: a host's state is not what the run wanted and kpx could not put it
// right (its rollback failed, it could not be reached for the rollback, ...). The
// operator must look at it.
type HostAttention struct {
	Host   string
	Reason string
}

// ControlChanged: the operator (TUI key or signal) paused, resumed or aborted the run,
// or an interrupt arrived.
type ControlChanged struct {
	Control string // "pause", "resume", "abort", "interrupt"
	Detail  string
}

// HostOutcome is what happened to one host over a whole rollout.
type HostOutcome struct {
	Host           string
	Wave           int      // the wave it belonged to; 0 when it never started
	Applied        bool     // its tasks finished without failing
	Failed         string   // why it failed (task or check, with the output), if it did
	RolledBack     bool     // its rollback tasks ran and succeeded
	NeedsAttention string   // set when its state could not be put right
	Unreachable    bool     // it could not be reached at some point
	Checks         []string // checks that failed on it, by name
}

// RolloutSummary: the closing account of a run, host by host, emitted just before
// RunFinished.
type RolloutSummary struct {
	RunID string
	Hosts []HostOutcome
	// Stopped says why the run stopped early ("wave 2 failed", "aborted by operator",
	// "interrupted"), or is empty when every wave ran.
	Stopped string
}

func (RunStarted) isEvent()      {}
func (WaveChanged) isEvent()     {}
func (CheckResult) isEvent()     {}
func (RollbackStarted) isEvent() {}
func (HostAttention) isEvent()   {}
func (ControlChanged) isEvent()  {}
func (RolloutSummary) isEvent()  {}
