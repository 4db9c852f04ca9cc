// Package rollout is kpx's engine: it runs plays in waves over hosts, gates each wave with
// health checks, rolls failed waves back and journals every step. It never draws: it emits
// the events below, which the report and tui rooms turn into output.
package rollout

// Event is something that happened during a run. Presenters switch on the concrete type.
type Event interface{ isEvent() }

// Status is a host's outcome for one task (or one loop item).
type Status string

const (
	StatusOK          Status = "ok"
	StatusChanged     Status = "changed"
	StatusFailed      Status = "failed"
	StatusSkipped     Status = "skipped"
	StatusUnreachable Status = "unreachable"
)

// PlayStarted: a play begins, or begins again for its next batch (wave).
type PlayStarted struct {
	Name  string   // the play's name, or its hosts pattern when unnamed
	Batch []string // the hosts of this batch
	Wave  int      // 1-based batch number
	Waves int      // number of batches
}

// TaskStarted: a task (or a handler) begins on the hosts still in play.
type TaskStarted struct {
	Name    string // as Ansible shows it: the task's name, or its action
	Handler bool
}

// HostResult: a host finished a task, or one item of a looped task.
type HostResult struct {
	Host      string
	Status    Status
	Result    map[string]any // the module's result, in Ansible's shape
	Action    string         // the module, e.g. "command", "debug"
	Item      any            // the loop item, when HasItem
	HasItem   bool
	Label     string // loop_control.label rendered, when set
	Ignored   bool   // failed or unreachable, but ignore_errors or ignore_unreachable was set
	Delegated string // the host the task was delegated to, if any
}

// Included: an include_tasks brought a file's tasks in for these hosts.
type Included struct {
	File  string
	Hosts []string
}

// TaskRetry: a task's `until` did not hold yet; it runs again.
type TaskRetry struct {
	Host string
	Task string
	Left int // retries left
}

// NoHostsLeft: every host of the batch has failed; the play stops.
type NoHostsLeft struct{}

// NoHostsMatched: the play's pattern matched no host.
type NoHostsMatched struct{}

// Warning: something the operator should know that does not stop the run.
type Warning struct{ Msg string }

// HostStats counts a host's task outcomes, as in Ansible's PLAY RECAP.
type HostStats struct {
	OK, Changed, Unreachable, Failed, Skipped, Rescued, Ignored int
}

// RunFinished: the run is over; Stats has a line for every host that ran anything,
// Hosts gives their order.
type RunFinished struct {
	Hosts []string
	Stats map[string]HostStats
	// RolloutFailed: a wave of a rollout play failed its gate or the run was aborted; the
	// run exits 2 even when no task failed.
	RolloutFailed bool `json:",omitempty"`
}

func (PlayStarted) isEvent()    {}
func (TaskStarted) isEvent()    {}
func (HostResult) isEvent()     {}
func (NoHostsLeft) isEvent()    {}
func (TaskRetry) isEvent()      {}
func (Included) isEvent()       {}
func (NoHostsMatched) isEvent() {}
func (Warning) isEvent()        {}
func (RunFinished) isEvent()    {}

// ExitCode is ansible-playbook's exit status for a run with these stats: 4 when a host
// could not be reached (even if others failed), else 2 when a host failed, else 0. A failed
// rollout is 2: its unreachable hosts count as failed.
func (f RunFinished) ExitCode() int {
	if f.RolloutFailed {
		return 2
	}
	code := 0
	for _, s := range f.Stats {
		if s.Unreachable > 0 {
			return 4
		}
		if s.Failed > 0 {
			code = 2
		}
	}
	return code
}
