package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/kpxdev/kpx/rollout"
)

// forcedExitGrace is how long a run may take to unwind after the second signal before
// the process exits anyway.
const forcedExitGrace = 5 * time.Second

// runWithSignals runs do under kpx's interrupt rules. The first SIGINT or SIGTERM (or
// the parent context ending) starts no new work: tasks in flight finish, then the runner
// rolls back or stops (--on-interrupt). A second signal cancels the run at once; the
// process exits 99 with the journal as it stands. It reports whether an interrupt came.
func runWithSignals(parent context.Context, r *rollout.Runner, stderr io.Writer, do func(context.Context) (rollout.RunFinished, error)) (rollout.RunFinished, bool, error) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(parent))
	defer cancel()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)

	var mu sync.Mutex
	interrupted := false
	first := func(why string) {
		mu.Lock()
		defer mu.Unlock()
		if !interrupted {
			interrupted = true
			fmt.Fprintf(stderr, "kpx: %s: finishing the tasks in flight (a second signal stops at once)\n", why)
			r.Interrupt()
		}
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		n := 0
		parentDone := parent.Done()
		for {
			select {
			case <-done:
				return
			case <-parentDone:
				parentDone = nil
				first("interrupted")
			case sig := <-sigs:
				n++
				if n == 1 {
					first(sig.String())
					continue
				}
				fmt.Fprintf(stderr, "kpx: %s again: stopping now\n", sig)
				cancel()
				go func() {
					time.Sleep(forcedExitGrace)
					os.Exit(ExitInterrupted)
				}()
				return
			}
		}
	}()
	fin, err := do(ctx)
	mu.Lock()
	defer mu.Unlock()
	return fin, interrupted || ctx.Err() != nil, err
}
