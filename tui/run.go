package tui

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/kpxdev/kpx/rollout"
)

// ProgramOptions configure Run.
type ProgramOptions struct {
	Options
	// In and Out are the terminal; Run never opens /dev/tty itself.
	In  io.Reader
	Out io.Writer
	// BatchInterval is how often events reach the UI; 0 is DefaultBatchInterval.
	BatchInterval time.Duration
	// NoAltScreen draws in the normal screen rather than the alternate one.
	NoAltScreen bool
	// OnQuit is called when the operator left the UI before the run's end, before Run
	// waits for the run to stop.
	OnQuit func()
}

// Work is a run driven by the UI: it emits its events through emit and returns when the
// run is over or ctx ends.
type Work func(ctx context.Context, emit func(rollout.Event)) error

// Run shows the UI while work runs and returns when both are done: the UI when the
// operator leaves the summary screen (or quits early, which cancels work's context), the
// work when it returns. The Model returned has seen every event, for Summary.
func Run(ctx context.Context, o ProgramOptions, work Work) (Model, error) {
	bridge := NewBridge()
	opts := []tea.ProgramOption{tea.WithContext(ctx), tea.WithInput(o.In), tea.WithOutput(o.Out)}
	if !o.NoAltScreen {
		opts = append(opts, tea.WithAltScreen())
	}
	prog := tea.NewProgram(New(o.Options), opts...)

	workCtx, cancelWork := context.WithCancel(ctx)
	defer cancelWork()
	bridgeCtx, stopBridge := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		bridge.Run(bridgeCtx, prog.Send, o.BatchInterval)
	}()
	workErr := make(chan error, 1)
	go func() {
		err := work(workCtx, bridge.Emit)
		prog.Send(RunDoneMsg{Err: err})
		workErr <- err
	}()

	final, uiErr := prog.Run()
	if m, ok := final.(Model); ok && m.QuitWhileActive() && o.OnQuit != nil {
		o.OnQuit()
	}
	cancelWork() // the operator left: stop the run (no-op when it is over)
	err := <-workErr
	stopBridge()
	wg.Wait()
	m, ok := final.(Model)
	if !ok {
		m = New(o.Options)
	}
	at := time.Now()
	for _, ev := range bridge.Since(m.st.applied) {
		m.st.apply(ev, at)
	}
	if uiErr != nil && !errors.Is(uiErr, tea.ErrProgramKilled) {
		return m, errors.Join(err, uiErr)
	}
	return m, err
}
