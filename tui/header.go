package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"
)

// headerView shows the run: what, since when, how far, and the host counts.
type headerView struct{ width int }

// headerHeight is the number of lines the header takes.
const headerHeight = 3

func (h *headerView) SetSize(width int) { h.width = width }

func (h headerView) View(s *runState, st styles, now time.Time) string {
	title := st.title.Render("kpx") + " " + s.playbook
	if s.runID != "" {
		title += st.dim.Render(" · run ") + s.runID
	}
	elapsed := now.Sub(s.started)
	if s.finished != nil {
		elapsed = s.ended.Sub(s.started)
	}
	if s.started.IsZero() {
		elapsed = 0
	}
	title += st.dim.Render(" · ") + duration(elapsed) + " " + h.state(s, st)
	total := len(s.hosts)
	frac := 0.0
	if total > 0 {
		frac = float64(s.settled) / float64(total)
	}
	tail := fmt.Sprintf(" %s  %d/%d hosts done", percent(frac), s.settled, total)
	progress := bar(st, frac, max(h.width-len(tail), 10)) + tail
	c := s.counts
	counts := []string{
		st.status[hostOK].Render(fmt.Sprintf("ok %d", c[hostOK])),
		st.status[hostChanged].Render(fmt.Sprintf("changed %d", c[hostChanged])),
		st.status[hostFailed].Render(fmt.Sprintf("failed %d", s.failed)),
		st.status[hostUnreachable].Render(fmt.Sprintf("unreachable %d", s.unreach)),
		st.status[hostRolledBack].Render(fmt.Sprintf("rolled back %d", c[hostRolledBack])),
	}
	if n := c[hostRollingBack]; n > 0 {
		counts = append(counts, st.status[hostRollingBack].Render(fmt.Sprintf("rolling back %d", n)))
	}
	if n := c[hostAttention]; n > 0 {
		counts = append(counts, st.status[hostAttention].Render(fmt.Sprintf("attention %d", n)))
	}
	// Running and pending counts come last and go first when the line is too narrow.
	sep := st.dim.Render(" · ")
	line := strings.Join(counts, sep)
	for _, extra := range []string{fmt.Sprintf("running %d", c[hostRunning]), st.dim.Render(fmt.Sprintf("pending %d", c[hostPending]))} {
		if lipgloss.Width(line+sep+extra) > h.width {
			break
		}
		line += sep + extra
	}
	return fit(title, h.width) + "\n" + fit(progress, h.width) + "\n" + fit(line, h.width)
}

func (h headerView) state(s *runState, st styles) string {
	switch {
	case s.finished != nil && s.summary != nil && s.summary.Stopped != "":
		return st.bad.Render("STOPPED: " + s.summary.Stopped)
	case s.finished != nil:
		return st.good.Render("FINISHED")
	case s.aborting:
		return st.bad.Render("ABORTING")
	case s.paused:
		return st.warn.Render("PAUSED")
	default:
		return st.good.Render("RUNNING")
	}
}
