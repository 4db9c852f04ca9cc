package rollout

import (
	"context"
	"sync"
	"time"
)

// Interrupt modes (Options.OnInterrupt): what the first interrupt does once the tasks in
// flight have finished.
const (
	OnInterruptRollback = "rollback" // roll the current wave back (per the play's scope), then stop
	OnInterruptStop     = "stop"     // stop; the journal lets `kpx resume` continue later
)

// controls are the operator's hold on a run: pause after the current wave, resume, abort.
// They are safe to use from any goroutine (a TUI, a signal handler).
type controls struct {
	mu     sync.Mutex
	paused bool
	halt   string // "" (run on), OnInterruptRollback or OnInterruptStop
	reason string // why it halts: "aborted by operator", "interrupted"
	wake   chan struct{}
}

func newControls() *controls { return &controls{wake: make(chan struct{})} }

// changed wakes every waiter; callers hold mu.
func (c *controls) changed() {
	close(c.wake)
	c.wake = make(chan struct{})
}

func (c *controls) set(f func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f()
	c.changed()
}

// halting says whether the run must start no new work, and then what to do.
func (c *controls) halting() (mode, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.halt, c.reason
}

// waitWhilePaused blocks while the run is paused and neither halted nor cancelled.
func (c *controls) waitWhilePaused(ctx context.Context) {
	for {
		c.mu.Lock()
		paused, halted, wake := c.paused, c.halt != "", c.wake
		c.mu.Unlock()
		if !paused || halted {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		}
	}
}

// sleep waits d, or less when the run halts or ctx ends; it reports whether d passed.
func (c *controls) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		c.mu.Lock()
		halted, wake := c.halt != "", c.wake
		c.mu.Unlock()
		if halted {
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return true
		case <-wake:
		}
	}
}

// Pause holds the run once the current wave is over; Resume lets it go on.
func (r *Runner) Pause() {
	r.ctl.set(func() { r.ctl.paused = true })
	r.emit(ControlChanged{Control: "pause", Detail: "the run pauses once the current wave is over"})
}

// Resume undoes Pause.
func (r *Runner) Resume() {
	r.ctl.set(func() { r.ctl.paused = false })
	r.emit(ControlChanged{Control: "resume"})
}

// Abort stops the run: no new task starts, the tasks in flight finish, the current wave
// of a rollout play is rolled back (per its scope), and the run ends.
func (r *Runner) Abort() {
	r.halt(OnInterruptRollback, "aborted by operator", "abort")
}

// Interrupt is the first SIGINT or SIGTERM: no new task starts, the tasks in flight
// finish, then the run rolls back or stops as Options.OnInterrupt says. A second signal
// is the caller's to handle, by cancelling the context given to Run.
func (r *Runner) Interrupt() {
	r.halt(r.opts.OnInterrupt, "interrupted", "interrupt")
}

func (r *Runner) halt(mode, reason, control string) {
	first := false
	r.ctl.set(func() {
		if r.ctl.halt == "" {
			r.ctl.halt, r.ctl.reason, first = mode, reason, true
		}
	})
	if first {
		detail := "no new task starts; the tasks in flight finish, then the current wave is rolled back"
		if mode == OnInterruptStop {
			detail = "no new task starts; the tasks in flight finish, then the run stops (kpx resume continues it)"
		}
		r.emit(ControlChanged{Control: control, Detail: detail})
	}
}
