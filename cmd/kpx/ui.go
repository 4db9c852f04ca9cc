package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
	"golang.org/x/term"

	"github.com/kpxdev/kpx/report"
	"github.com/kpxdev/kpx/rollout"
	"github.com/kpxdev/kpx/tui"
)

// uiMode is how `kpx run` shows a run (--ui).
type uiMode string

const (
	uiAuto  uiMode = "auto"
	uiTUI   uiMode = "tui"
	uiPlain uiMode = "plain"
	uiJSON  uiMode = "json"
)

// terminalInfo is what the choice of UI depends on.
type terminalInfo struct {
	stdinTTY, stdoutTTY bool
	term                string // $TERM
	noColor             bool   // $NO_COLOR set (https://no-color.org)
}

func detectTerminal(stdin io.Reader, stdout io.Writer) terminalInfo {
	isTTY := func(v any) bool {
		f, ok := v.(*os.File)
		return ok && term.IsTerminal(int(f.Fd()))
	}
	_, noColor := os.LookupEnv("NO_COLOR")
	return terminalInfo{stdinTTY: isTTY(stdin), stdoutTTY: isTTY(stdout), term: os.Getenv("TERM"), noColor: noColor}
}

// chooseUI resolves --ui: auto is the TUI only when both standard input and output are
// terminals (and TERM is not dumb), plain text otherwise, so that scripts, pipes and CI
// never get a UI and the UI never opens /dev/tty behind their back.
func chooseUI(flag string, t terminalInfo) (uiMode, error) {
	switch m := uiMode(flag); m {
	case uiAuto, "":
		if t.stdinTTY && t.stdoutTTY && t.term != "dumb" {
			return uiTUI, nil
		}
		return uiPlain, nil
	case uiTUI:
		if !t.stdinTTY || !t.stdoutTTY {
			return "", fmt.Errorf("--ui tui: standard input and standard output must both be a terminal; use --ui plain or --ui json in scripts")
		}
		return m, nil
	case uiPlain, uiJSON:
		return m, nil
	}
	return "", fmt.Errorf("--ui %q: want auto, tui, plain or json", flag)
}

// output shows a run the chosen way.
type output struct {
	mode     uiMode
	term     terminalInfo
	stdin    io.Reader
	stdout   io.Writer
	stderr   io.Writer
	verbose  int
	playbook string
}

// startRun builds the runner for the presenter's emit and runs it.
type startRun func(ctx context.Context, emit func(rollout.Event)) (*rollout.Runner, func(context.Context) (rollout.RunFinished, error))

// run carries out the run with the chosen presenter. interrupted is set when the
// operator left the TUI before the run ended.
func (o output) run(ctx context.Context, start startRun) (fin rollout.RunFinished, interrupted bool, err error) {
	switch o.mode {
	case uiJSON:
		j := report.NewJSON(o.stdout)
		_, run := start(ctx, j.Handle)
		fin, err = run(ctx)
		if err == nil {
			err = j.Err()
		}
		return fin, false, err
	case uiTUI:
		return o.runTUI(ctx, start)
	default:
		p := report.NewPlain(o.stdout, o.verbose)
		p.Warnings = o.stderr
		_, run := start(ctx, p.Handle)
		fin, err = run(ctx)
		if err == nil {
			err = p.Err()
		}
		return fin, false, err
	}
}

func (o output) runTUI(ctx context.Context, start startRun) (rollout.RunFinished, bool, error) {
	r := lipgloss.NewRenderer(o.stdout)
	if o.term.noColor || o.term.term == "dumb" {
		r.SetColorProfile(termenv.Ascii)
	}
	ctl := &runControls{}
	var fin rollout.RunFinished
	m, err := tui.Run(ctx, tui.ProgramOptions{
		Options: tui.Options{Playbook: o.playbook, Controller: ctl, Renderer: r},
		In:      o.stdin, Out: o.stdout,
	}, func(ctx context.Context, emit func(rollout.Event)) error {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		runner, run := start(ctx, emit)
		ctl.attach(runner, cancel, emit)
		var err error
		fin, err = run(ctx)
		return err
	})
	fmt.Fprintln(o.stdout, m.Summary())
	interrupted := m.QuitWhileActive()
	if errors.Is(err, context.Canceled) && ctx.Err() == nil {
		interrupted, err = true, nil // aborted from the UI by an engine that cannot roll back yet
	}
	return fin, interrupted, err
}

// holdStderr keeps what is written to stderr while the TUI owns the terminal and writes
// it out afterwards; other modes write through.
func holdStderr(mode uiMode, stderr io.Writer) (io.Writer, func()) {
	if mode != uiTUI {
		return stderr, func() {}
	}
	b := &lockedBuffer{}
	return b, func() { stderr.Write(b.Bytes()) }
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Bytes()
}
