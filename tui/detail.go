package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/viewport"
)

// detailView shows one host's task results, check output, stdout and stderr, scrollable.
type detailView struct {
	vp    viewport.Model
	host  int
	built uint64
	title string
}

func newDetailView() detailView { return detailView{vp: viewport.New(0, 0), host: -1} }

func (d *detailView) SetSize(width, height int) {
	d.vp.Width, d.vp.Height = width, max(height-1, 1)
	d.built = 0
}

// Show selects the host to show, scrolled to its latest output.
func (d *detailView) Show(host int) {
	d.host, d.built = host, 0
}

func (d *detailView) sync(s *runState, st styles) {
	if d.built == s.version && d.built != 0 || d.host < 0 || d.host >= len(s.hosts) {
		return
	}
	atBottom := d.built == 0 || d.vp.AtBottom()
	d.built = s.version
	d.title = detailTitle(s, s.hosts[d.host], st, d.vp.Width)
	d.vp.SetContent(hostDetail(s.hosts[d.host], st, d.vp.Width))
	if atBottom {
		d.vp.GotoBottom()
	}
}

func (d detailView) View() string {
	return d.title + "\n" + d.vp.View()
}

// detailTitle is the pane's first line: the host, its wave and state, why it failed.
func detailTitle(s *runState, h *host, st styles, width int) string {
	wave := "-"
	if h.wave >= 0 {
		wave = s.waves[h.wave].label()
	}
	title := fmt.Sprintf("%s  wave %s  %s", st.bold.Render(h.name), wave, st.status[h.status].Render(h.display()))
	if h.attention != "" {
		title += st.bad.Render("  needs attention: " + h.attention)
	} else if h.failed != "" {
		title += st.bad.Render("  " + h.failed)
	}
	return fit(title, width)
}

// hostDetail renders everything kept about h.
func hostDetail(h *host, st styles, width int) string {
	var b strings.Builder
	if len(h.lines) == 0 {
		b.WriteString(st.dim.Render("no results yet") + "\n")
	}
	indent := func(label, text string) {
		text = strings.TrimRight(text, "\n")
		if text == "" {
			return
		}
		b.WriteString(st.dim.Render("    "+label+":") + "\n")
		for _, l := range strings.Split(text, "\n") {
			b.WriteString("      " + fit(l, max(width-6, 1)) + "\n")
		}
	}
	for _, l := range h.lines {
		kind := "TASK"
		switch {
		case l.Check:
			kind = "CHECK"
		case l.Rollback:
			kind = "ROLLBACK"
		}
		status := l.Status
		if strings.HasPrefix(status, "failed") || status == "unreachable" {
			status = st.bad.Render(status)
		}
		fmt.Fprintf(&b, "%s %s [%s] %s\n", st.dim.Render(l.At.Format("15:04:05")), kind, l.Task, status)
		indent("msg", l.Msg)
		indent("stdout", l.Stdout)
		indent("stderr", l.Stderr)
	}
	return strings.TrimRight(b.String(), "\n")
}
