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
	Name  string   `json:"name"`  // the play's name, or its hosts pattern when unnamed
	Batch []string `json:"batch"` // the hosts of this batch
	Wave  int      `json:"wave"`  // 1-based batch number
	Waves int      `json:"waves"` // number of batches
}

// TaskStarted: a task (or a handler) begins on the hosts still in play.
type TaskStarted struct {
	Name    string `json:"name"` // as Ansible shows it: the task's name, or its action
	Handler bool   `json:"handler,omitempty"`
}

// HostResult: a host finished a task, or one item of a looped task.
type HostResult struct {
	Host      string         `json:"host"`
	Status    Status         `json:"status"`
	Result    map[string]any `json:"result"`         // the module's result, in Ansible's shape
	Action    string         `json:"action"`         // the module, e.g. "command", "debug"
	Item      any            `json:"item,omitempty"` // the loop item, when HasItem
	HasItem   bool           `json:"has_item,omitempty"`
	Label     string         `json:"label,omitempty"`     // loop_control.label rendered, when set
	Ignored   bool           `json:"ignored,omitempty"`   // failed or unreachable, but ignore_errors or ignore_unreachable was set
	Delegated string         `json:"delegated,omitempty"` // the host the task was delegated to, if any
	// Looped marks a loop's aggregate result, sent after its items were reported one by
	// one: only when it failed, was unreachable, or every item was skipped.
	Looped bool `json:"looped,omitempty"`
}

// Included: an include_tasks brought a file's tasks in for these hosts.
type Included struct {
	File  string   `json:"file"`
	Hosts []string `json:"hosts"`
	// Item is the loop item's label when the include_tasks has a loop: the file's tasks
	// run once per item, for the hosts that had that item.
	Item    string `json:"item,omitempty"`
	HasItem bool   `json:"has_item,omitempty"`
}

// TaskRetry: a task's `until` did not hold yet; it runs again.
type TaskRetry struct {
	Host string `json:"host"`
	Task string `json:"task"`
	Left int    `json:"left"` // retries left
}

// NoHostsLeft: every host of the batch has failed; the play stops.
type NoHostsLeft struct{}

// NoHostsMatched: the play's pattern matched no host.
type NoHostsMatched struct{}

// Warning: something the operator should know that does not stop the run.
type Warning struct {
	Msg string `json:"msg"`
}

// HostStats counts a host's task outcomes, as in Ansible's PLAY RECAP.
type HostStats struct {
	OK          int `json:"ok"`
	Changed     int `json:"changed"`
	Unreachable int `json:"unreachable"`
	Failed      int `json:"failed"`
	Skipped     int `json:"skipped"`
	Rescued     int `json:"rescued"`
	Ignored     int `json:"ignored"`
}

// RunFinished: the run is over; Stats has a line for every host that ran anything,
// Hosts gives their order.
type RunFinished struct {
	Hosts []string             `json:"hosts"`
	Stats map[string]HostStats `json:"stats"`
	// RolloutFailed: a wave of a rollout play failed its gate or the run was aborted; the
	// run exits 2 even when no task failed.
	RolloutFailed bool `json:"rollout_failed,omitempty"`
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
