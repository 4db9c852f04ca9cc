package main

import (
	"io"
	"strings"
	"testing"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

func TestChooseUI(t *testing.T) {
	tty := terminalInfo{stdinTTY: true, stdoutTTY: true, term: "xterm-256color"}
	pipe := terminalInfo{stdinTTY: true, stdoutTTY: false, term: "xterm-256color"}
	ci := terminalInfo{term: ""}
	dumb := terminalInfo{stdinTTY: true, stdoutTTY: true, term: "dumb"}
	noStdin := terminalInfo{stdinTTY: false, stdoutTTY: true, term: "xterm"}
	for _, c := range []struct {
		name, flag string
		term       terminalInfo
		want       uiMode
		err        string
	}{
		{"auto on a terminal", "auto", tty, uiTUI, ""},
		{"auto piped (kpx run | cat)", "auto", pipe, uiPlain, ""},
		{"auto in CI", "auto", ci, uiPlain, ""},
		{"auto without stdin", "auto", noStdin, uiPlain, ""},
		{"auto with TERM=dumb", "auto", dumb, uiPlain, ""},
		{"empty is auto", "", tty, uiTUI, ""},
		{"tui on a terminal", "tui", tty, uiTUI, ""},
		{"tui with TERM=dumb draws without colors", "tui", dumb, uiTUI, ""},
		{"tui piped", "tui", pipe, "", "--ui tui: standard input and standard output must both be a terminal"},
		{"tui in CI", "tui", ci, "", "must both be a terminal"},
		{"plain on a terminal", "plain", tty, uiPlain, ""},
		{"json on a terminal", "json", tty, uiJSON, ""},
		{"json in CI", "json", ci, uiJSON, ""},
		{"unknown", "fancy", tty, "", `--ui "fancy": want auto, tui, plain or json`},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := chooseUI(c.flag, c.term)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("chooseUI(%q) = %q, %v; want error containing %q", c.flag, got, err, c.err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Errorf("chooseUI(%q) = %q, %v; want %q", c.flag, got, err, c.want)
			}
		})
	}
}

func TestUIRendererHonoursNoColor(t *testing.T) {
	for _, c := range []struct {
		name string
		term terminalInfo
	}{
		{"NO_COLOR", terminalInfo{term: "xterm-256color", noColor: true}},
		{"TERM=dumb", terminalInfo{term: "dumb"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := uiRenderer(io.Discard, c.term)
			if p := r.ColorProfile(); p != termenv.Ascii {
				t.Errorf("color profile %v, want Ascii", p)
			}
			if s := r.NewStyle().Foreground(lipgloss.Color("1")).Bold(true).Render("x"); strings.Contains(s, "\x1b[3") {
				t.Errorf("styled text has a color: %q", s)
			}
		})
	}
}

func TestHeldWriterHoldsWhileTheTUIRuns(t *testing.T) {
	var out strings.Builder
	h := &heldWriter{w: &out}
	io.WriteString(h, "before\n")
	h.hold()
	io.WriteString(h, "during\n")
	if out.String() != "before\n" {
		t.Fatalf("written while held: %q", out.String())
	}
	h.release()
	io.WriteString(h, "after\n")
	if out.String() != "before\nduring\nafter\n" {
		t.Errorf("got %q", out.String())
	}
}
