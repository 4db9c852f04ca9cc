package tui

import "github.com/charmbracelet/lipgloss"

// styles are the UI's looks, built for one renderer so that NO_COLOR, TERM=dumb and
// tests (an ASCII profile) all get text without colors.
type styles struct {
	title, dim, bold, header, selected lipgloss.Style
	status                             [numStatuses]lipgloss.Style
	barFull, barEmpty                  lipgloss.Style
	warn, bad, good                    lipgloss.Style
	box                                lipgloss.Style
}

func newStyles(r *lipgloss.Renderer) styles {
	c := func(s string) lipgloss.TerminalColor { return lipgloss.AdaptiveColor{Light: s, Dark: s} }
	green, yellow, red, blue, magenta, grey := c("2"), c("3"), c("1"), c("4"), c("5"), c("8")
	st := styles{
		title:    r.NewStyle().Bold(true).Foreground(blue),
		dim:      r.NewStyle().Foreground(grey),
		bold:     r.NewStyle().Bold(true),
		header:   r.NewStyle().Bold(true).Underline(true),
		selected: r.NewStyle().Reverse(true),
		barFull:  r.NewStyle().Foreground(green),
		barEmpty: r.NewStyle().Foreground(grey),
		warn:     r.NewStyle().Foreground(yellow),
		bad:      r.NewStyle().Foreground(red).Bold(true),
		good:     r.NewStyle().Foreground(green),
		box:      r.NewStyle().Border(lipgloss.RoundedBorder()).Padding(0, 1),
	}
	for i := range st.status {
		st.status[i] = r.NewStyle()
	}
	st.status[hostPending] = st.dim
	st.status[hostRunning] = r.NewStyle().Foreground(blue)
	st.status[hostOK] = r.NewStyle().Foreground(green)
	st.status[hostChanged] = r.NewStyle().Foreground(yellow)
	st.status[hostFailed] = r.NewStyle().Foreground(red)
	st.status[hostUnreachable] = r.NewStyle().Foreground(red)
	st.status[hostRollingBack] = r.NewStyle().Foreground(magenta)
	st.status[hostRolledBack] = r.NewStyle().Foreground(magenta)
	st.status[hostAttention] = r.NewStyle().Foreground(red).Bold(true)
	return st
}
