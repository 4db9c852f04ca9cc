package main

import (
	"sync"

	"github.com/kpxdev/kpx/tui"
)

// runControls carries the TUI's keys to the runner once it exists (the runner is built
// inside the UI's run, with the UI's emit).
type runControls struct {
	mu sync.Mutex
	c  tui.Controller
}

var _ tui.Controller = (*runControls)(nil)

func (r *runControls) attach(c tui.Controller) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.c = c
}

func (r *runControls) do(f func(tui.Controller)) {
	r.mu.Lock()
	c := r.c
	r.mu.Unlock()
	if c != nil {
		f(c)
	}
}

func (r *runControls) Pause()  { r.do(tui.Controller.Pause) }
func (r *runControls) Resume() { r.do(tui.Controller.Resume) }
func (r *runControls) Abort()  { r.do(tui.Controller.Abort) }
