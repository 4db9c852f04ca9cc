package rollout

import (
	"context"

	"github.com/kpxdev/kpx/playbooks"
)

// Executor carries out one task on one host: its conditions, loop, retries, templating
// and module call. The strategy decides which hosts run which task, and when; it never
// looks inside a task's execution.
type Executor interface {
	// Execute runs task on host. Events on the way (a loop item's result, a retry) are
	// passed to emit as they happen; the returned Outcome is the task's overall result.
	Execute(ctx context.Context, host string, task *playbooks.Task, emit func(Event)) Outcome
}

// ResultSharer is implemented by executors that keep per-host state: a run_once task runs
// on one host, and its result is then shared with the other hosts of the batch.
type ResultSharer interface {
	ShareResult(task *playbooks.Task, from string, o Outcome, to []string)
}

// Outcome is a task's overall result on one host.
type Outcome struct {
	Status  Status
	Result  map[string]any
	Ignored bool // failed, but ignore_errors held: the host carries on
	Looped  bool // per-item results were emitted; only a failure is reported again
	// Delegated names the host the task ran on instead (delegate_to), if any.
	Delegated string
}
