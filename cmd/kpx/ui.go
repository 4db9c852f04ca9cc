package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
	"github.com/spf13/pflag"
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
	return "", checkUIFlag(flag)
}

// checkUIFlag validates --ui before anything is set up.
func checkUIFlag(flag string) error {
	switch uiMode(flag) {
	case uiAuto, uiTUI, uiPlain, uiJSON, "":
		return nil
	}
	return fmt.Errorf("--ui %q: want auto, tui, plain or json", flag)
}

func addUIFlag(f *pflag.FlagSet, o *runOptions) {
	f.StringVar(&o.ui, "ui", "auto", "output: auto (tui when stdin and stdout are terminals, else plain), tui, plain (ansible-playbook's), json (one event per line)")
}

// output shows a run the chosen way.
type output struct {
	mode     uiMode
	term     terminalInfo
	stdin    io.Reader
	stdout   io.Writer
	stderr   *heldWriter
	verbose  int
	playbook string
}

// newOutput resolves --ui for this process's terminal.
func newOutput(o runOptions, stdin io.Reader, stdout, stderr io.Writer) (output, error) {
	t := detectTerminal(stdin, stdout)
	mode, err := chooseUI(o.ui, t)
	if err != nil {
		return output{}, err
	}
	return output{mode: mode, term: t, stdin: stdin, stdout: stdout, stderr: &heldWriter{w: stderr},
		verbose: o.verbose, playbook: o.playbook}, nil
}

// run builds the runner with the presenter's emit (newRunner) and carries out the run
// (do). interrupted is set when an interrupt came or the operator left the TUI before
// the run's end; presentErr is the presenter's own failure.
func (o output) run(ctx context.Context, newRunner func(emit func(rollout.Event)) *rollout.Runner,
	do func(context.Context, *rollout.Runner) (rollout.RunFinished, bool, error)) (fin rollout.RunFinished, interrupted bool, err, presentErr error) {
	switch o.mode {
	case uiJSON:
		j := report.NewJSON(o.stdout)
		fin, interrupted, err = do(ctx, newRunner(j.Handle))
		return fin, interrupted, err, j.Err()
	case uiTUI:
		return o.runTUI(ctx, newRunner, do)
	default:
		p := report.NewPlain(o.stdout, o.verbose)
		p.Warnings = o.stderr
		fin, interrupted, err = do(ctx, newRunner(p.Handle))
		return fin, interrupted, err, p.Err()
	}
}

func (o output) runTUI(ctx context.Context, newRunner func(emit func(rollout.Event)) *rollout.Runner,
	do func(context.Context, *rollout.Runner) (rollout.RunFinished, bool, error)) (rollout.RunFinished, bool, error, error) {
	r := uiRenderer(o.stdout, o.term)
	ctl := &runControls{}
	var (
		fin         rollout.RunFinished
		interrupted bool
	)
	o.stderr.hold()
	m, err := tui.Run(ctx, tui.ProgramOptions{
		Options: tui.Options{Playbook: o.playbook, Controller: ctl, Renderer: r},
		In:      o.stdin, Out: o.stdout,
		OnQuit: func() {
			fmt.Fprintln(o.stdout, "kpx: the UI was closed while the run was going: it stops once the tasks in flight finish...")
		},
	}, func(ctx context.Context, emit func(rollout.Event)) error {
		runner := newRunner(emit)
		ctl.attach(runner)
		var err error
		fin, interrupted, err = do(ctx, runner)
		return err
	})
	fmt.Fprintln(o.stdout, m.Summary())
	o.stderr.release()
	return fin, interrupted || m.QuitWhileActive(), err, nil
}

// uiRenderer draws for w, without colors when NO_COLOR is set or TERM is dumb.
func uiRenderer(w io.Writer, t terminalInfo) *lipgloss.Renderer {
	r := lipgloss.NewRenderer(w)
	if t.noColor || t.term == "dumb" {
		r.SetColorProfile(termenv.Ascii)
	}
	return r
}

// heldWriter writes through, except between hold and release (while the TUI owns the
// terminal), when it keeps what is written and writes it out on release.
type heldWriter struct {
	mu   sync.Mutex
	w    io.Writer
	held bool
	buf  bytes.Buffer
}

func (h *heldWriter) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.held {
		return h.buf.Write(p)
	}
	return h.w.Write(p)
}

func (h *heldWriter) hold() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.held = true
}

func (h *heldWriter) release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.held = false
	h.w.Write(h.buf.Bytes())
	h.buf.Reset()
}
