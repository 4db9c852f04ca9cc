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

// RunStarted: a run begins. It is the first event of every run; `kpx resume` and
// `kpx rollback` append another one (Command says which) to the run's journal.
type RunStarted struct {
	RunID    string    `json:"run_id"`
	Playbook string    `json:"playbook"` // the playbook's path
	Hosts    []string  `json:"hosts"`    // every host some play targets, in order
	Check    bool      `json:"check"`    // --check
	Time     time.Time `json:"time"`     // when the run began
	// What the journal needs to run it again (kpx resume, kpx rollback).
	Command   string         `json:"command"`              // "run", "resume" or "rollback"
	Inventory []string       `json:"inventory"`            // the -i sources
	Limit     string         `json:"limit,omitempty"`      // --limit
	ExtraVars map[string]any `json:"extra_vars,omitempty"` // -e, secrets replaced by Redacted
	Tags      []string       `json:"tags,omitempty"`
	SkipTags  []string       `json:"skip_tags,omitempty"`
}

// Redacted stands in the journal for an extra variable whose name says it is a secret.
const Redacted = "<redacted>"

// WaveChanged: a wave of a rollout play moved to another state. Play and Wave identify
// it; Hosts are the wave's hosts (set when the wave starts running).
type WaveChanged struct {
	Play string `json:"play"`
	// PlayIndex is the play's 0-based position in the playbook.
	PlayIndex int       `json:"play_index"`
	Wave      int       `json:"wave"` // 1-based
	Waves     int       `json:"waves"`
	State     WaveState `json:"state"`
	Hosts     []string  `json:"hosts"`
	// Until is when a bake ends (State == WaveBaking).
	Until time.Time `json:"until"`
	// Reason says why a wave failed, in a sentence (State == WaveFailed).
	Reason string `json:"reason,omitempty"`
}

// CheckResult: one health check ran on one host. A check that fails with attempts left
// is retried after the health section's delay; Final marks the attempt that counts.
type CheckResult struct {
	Host    string         `json:"host"`
	Wave    int            `json:"wave"`
	Check   string         `json:"check"`   // the check's name, or its module
	Attempt int            `json:"attempt"` // 1-based
	Passed  bool           `json:"passed"`
	Final   bool           `json:"final"`
	Result  map[string]any `json:"result"` // the module's result, in Ansible's shape
}

// RollbackStarted: a failed wave is being rolled back on Hosts (scope "wave": the failed
// wave's hosts; "all": every host the run changed, newest wave first).
type RollbackStarted struct {
	Play      string   `json:"play"`
	PlayIndex int      `json:"play_index"`
	Wave      int      `json:"wave"`
	Scope     string   `json:"scope"`
	Hosts     []string `json:"hosts"`
}

// Phases of a rollout play in which a host runs tasks (HostTaskState.Phase).
const (
	PhaseFacts    = "facts"    // gathering facts: changes nothing
	PhaseTasks    = "tasks"    // the play's tasks and handlers
	PhaseCheck    = "check"    // health checks
	PhaseRollback = "rollback" // rollback tasks
)

// Host task states (HostTaskState.State) beyond the Status values a task ends with.
const (
	HostStarted    = "started"     // journaled before the host runs the task
	HostApplied    = "applied"     // the host finished its wave's tasks and handlers
	HostRolledBack = "rolled_back" // the host's rollback tasks all succeeded
)

// HostTaskState: a host is about to run a task (State "started"), has finished it (a
// Status), or has finished a phase (Task empty, State "applied" or "rolled_back"). The
// journal fsyncs each of these, so a crash leaves every host's last step on disk: a
// "started" with nothing after it means the host's state is unknown.
type HostTaskState struct {
	Host      string `json:"host"`
	PlayIndex int    `json:"play_index"`
	Wave      int    `json:"wave"`
	Phase     string `json:"phase"`
	Task      string `json:"task"`
	State     string `json:"state"`
}

// HostAttention: a host's state is not what the run wanted and kpx could not put it
// right (its rollback failed, it could not be reached for the rollback, ...). The
// operator must look at it.
type HostAttention struct {
	Host   string `json:"host"`
	Reason string `json:"reason,omitempty"`
}

// ControlChanged: the operator (TUI key or signal) paused, resumed or aborted the run,
// or an interrupt arrived.
type ControlChanged struct {
	Control string `json:"control"` // "pause", "resume", "abort", "interrupt"
	Detail  string `json:"detail,omitempty"`
}

// HostOutcome is what happened to one host over a whole rollout.
type HostOutcome struct {
	Host           string   `json:"host"`
	Wave           int      `json:"wave"`                      // the wave it belonged to; 0 when it never started
	Applied        bool     `json:"applied"`                   // its tasks finished without failing
	Failed         string   `json:"failed"`                    // why it failed (task or check, with the output), if it did
	RolledBack     bool     `json:"rolled_back"`               // its rollback tasks ran and succeeded
	NeedsAttention string   `json:"needs_attention,omitempty"` // set when its state could not be put right
	Unreachable    bool     `json:"unreachable"`               // it could not be reached at some point
	Checks         []string `json:"checks,omitempty"`          // checks that failed on it, by name
}

// RolloutSummary: the closing account of a run, host by host, emitted just before
// RunFinished.
type RolloutSummary struct {
	RunID string        `json:"run_id"`
	Hosts []HostOutcome `json:"hosts"`
	// Stopped says why the run stopped early ("wave 2 failed", "aborted by operator",
	// "interrupted"), or is empty when every wave ran.
	Stopped string `json:"stopped,omitempty"`
}

func (RunStarted) isEvent()      {}
func (HostTaskState) isEvent()   {}
func (WaveChanged) isEvent()     {}
func (CheckResult) isEvent()     {}
func (RollbackStarted) isEvent() {}
func (HostAttention) isEvent()   {}
func (ControlChanged) isEvent()  {}
func (RolloutSummary) isEvent()  {}
