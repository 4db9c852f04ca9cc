package tui

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"
)

// fakeController records what the UI asked of the engine.
type fakeController struct{ calls []string }

func (f *fakeController) Pause()  { f.calls = append(f.calls, "pause") }
func (f *fakeController) Resume() { f.calls = append(f.calls, "resume") }
func (f *fakeController) Abort()  { f.calls = append(f.calls, "abort") }

// testModel is a Model without colors, with a clock stopped at the script's start.
func testModel(c Controller) Model {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.Ascii)
	return New(Options{Playbook: "site.yml", Controller: c, Renderer: r, Now: func() time.Time { return t0 }})
}

func press(s string) tea.KeyMsg {
	switch s {
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
}

var sizes = []struct{ w, h int }{{80, 24}, {160, 50}}

// runTeatest drives the model in a real bubbletea program with msgs, then quits it and
// returns its final model.
func runTeatest(t *testing.T, w, h int, msgs []tea.Msg) Model {
	t.Helper()
	tm := teatest.NewTestModel(t, testModel(&fakeController{}), teatest.WithInitialTermSize(w, h))
	for _, msg := range msgs {
		tm.Send(msg)
	}
	tm.Send(tea.QuitMsg{})
	return tm.FinalModel(t, teatest.WithFinalTimeout(30*time.Second)).(Model)
}

func msgs[T tea.Msg](in []T, more ...tea.Msg) []tea.Msg {
	out := make([]tea.Msg, 0, len(in)+len(more))
	for _, m := range in {
		out = append(out, m)
	}
	return append(out, more...)
}

// TestGoldenRollout drives the UI with a rollout whose second wave fails a health check
// and is rolled back, at two terminal sizes, and compares the screens with the goldens
// (refresh them with go test ./tui -update).
func TestGoldenRollout(t *testing.T) {
	for _, sz := range sizes {
		t.Run(fmt.Sprintf("%dx%d", sz.w, sz.h), func(t *testing.T) {
			cases := []struct {
				name string
				msgs []tea.Msg
				want []string
			}{
				{"rolling_back", msgs(scriptUntilRollback()),
					[]string{"WAVE 1/3", "promoted", "rolling back: check kernel_l", "failed, rolling back", "db03"}},
				{"failed_first", msgs(scriptUntilRollback(), press("f")),
					[]string{"db03", "failed first"}},
				{"detail", msgs(scriptUntilRollback(), press("f"), press("down"), press("enter")),
					[]string{"db03", "CHECK [kernel_log] failed", "BUG: unable to handle page fault"}},
				{"summary", msgs(scriptedRollout()),
					[]string{"Stopped early: wave 2 failed", "db04", "NEEDS ATTENTION", "rolled back"}},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					view := runTeatest(t, sz.w, sz.h, c.msgs).View()
					for _, w := range c.want {
						if !strings.Contains(view, w) {
							t.Errorf("screen lacks %q:\n%s", w, view)
						}
					}
					checkScreen(t, view, sz.w, sz.h)
					golden.RequireEqual(t, []byte(view))
				})
			}
		})
	}
}

// checkScreen checks that the view fits the terminal.
func checkScreen(t *testing.T, view string, w, h int) {
	t.Helper()
	lines := strings.Split(view, "\n")
	if len(lines) > h {
		t.Errorf("%d lines, terminal has %d", len(lines), h)
	}
	for i, l := range lines {
		if n := lipgloss.Width(l); n > w {
			t.Errorf("line %d is %d wide, terminal %d: %q", i+1, n, w, l)
		}
	}
}
