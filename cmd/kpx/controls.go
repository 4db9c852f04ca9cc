package main

import (
	"context"
	"sync"

	"github.com/kpxdev/kpx/rollout"
)

// runControls carries the TUI's keys to the engine. When the runner can pause, resume
// and abort (the engine's controls), it does; until then pause and resume say they are
// not available, and abort stops the run as an interrupt does.
type runControls struct {
	mu     sync.Mutex
	runner any
	cancel context.CancelFunc
	emit   func(rollout.Event)
}

func (c *runControls) attach(runner any, cancel context.CancelFunc, emit func(rollout.Event)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.runner, c.cancel, c.emit = runner, cancel, emit
}

func (c *runControls) get() (any, context.CancelFunc, func(rollout.Event)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.runner, c.cancel, c.emit
}

func (c *runControls) Pause() {
	r, _, emit := c.get()
	if p, ok := r.(interface{ Pause() }); ok {
		p.Pause()
	} else if emit != nil {
		emit(rollout.Warning{Msg: "pause: this engine cannot pause a run yet"})
	}
}

func (c *runControls) Resume() {
	r, _, emit := c.get()
	if p, ok := r.(interface{ Resume() }); ok {
		p.Resume()
	} else if emit != nil {
		emit(rollout.Warning{Msg: "resume: this engine cannot pause a run yet"})
	}
}

func (c *runControls) Abort() {
	r, cancel, emit := c.get()
	if a, ok := r.(interface{ Abort() }); ok {
		a.Abort()
		return
	}
	if emit != nil {
		emit(rollout.ControlChanged{Control: "interrupt", Detail: "abort requested; this engine stops the run without rolling back"})
	}
	if cancel != nil {
		cancel()
	}
}
