package tui

import (
	"io"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// Options configure a Model.
type Options struct {
	// Playbook is shown until the run's RunStarted names it.
	Playbook string
	// Controller receives pause, resume and abort; nil ignores them.
	Controller Controller
	// Renderer draws the styles; nil is lipgloss's default (stdout's profile). Give one
	// with an ASCII profile for no colors.
	Renderer *lipgloss.Renderer
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// mode is what the keyboard is talking to.
type mode int

const (
	modeHosts mode = iota
	modeFilter
	modeDetail
	modeHelp
	modeConfirmAbort
	modeConfirmQuit
	modeSummary
)

// tickMsg advances the clock shown (elapsed time, bake countdown).
type tickMsg struct{}

// RunDoneMsg tells the UI that the engine returned (after RunFinished, or early with an
// error).
type RunDoneMsg struct{ Err error }

// Model is the bubbletea model of a run.
type Model struct {
	opts    Options
	st      *runState
	sty     styles
	keys    keyMap
	help    help.Model
	filter  textinput.Model
	header  headerView
	waves   wavesView
	table   hostTable
	detail  detailView
	summary viewport.Model
	mode    mode
	width   int
	height  int
	now     time.Time
	notice  string
	runDone bool
	runErr  error
	// quitWhileActive is set when the operator left the UI before the run ended.
	quitWhileActive bool
}

// New returns a Model for a run that has not started yet.
func New(opts Options) Model {
	if opts.Controller == nil {
		opts.Controller = noController{}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Renderer == nil {
		opts.Renderer = lipgloss.DefaultRenderer()
	}
	fi := textinput.New()
	fi.Prompt = "/"
	fi.Placeholder = "host name or state"
	m := Model{
		opts: opts, st: newRunState(opts.Playbook), sty: newStyles(opts.Renderer), keys: defaultKeys(),
		help: help.New(), filter: fi, table: newHostTable(), detail: newDetailView(),
		summary: viewport.New(0, 0), now: opts.Now(), width: 80, height: 24,
	}
	m.help.Styles.ShortKey = m.sty.bold
	m.help.Styles.ShortDesc = m.sty.dim
	m.help.Styles.FullKey = m.sty.bold
	m.help.Styles.FullDesc = m.sty.dim
	m.help.Styles.ShortSeparator = m.sty.dim
	m.help.Styles.FullSeparator = m.sty.dim
	m.layout()
	return m
}

// Init starts the clock.
func (m Model) Init() tea.Cmd { return tickCmd() }

func tickCmd() tea.Cmd { return tea.Tick(time.Second, func(time.Time) tea.Msg { return tickMsg{} }) }

// QuitWhileActive reports whether the operator left the UI while the run was going.
func (m Model) QuitWhileActive() bool { return m.quitWhileActive }

// Summary is the run's closing account in plain text, to print after the UI exits.
func (m Model) Summary() string {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.Ascii)
	return summaryText(m.st, newStyles(r))
}

// Update handles messages.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	m, cmd := m.update(msg)
	m.refresh()
	return m, cmd
}

// refresh brings the components up to date with the run, so that View only draws: the
// waves section grows as waves appear, the table's rows follow the run.
func (m *Model) refresh() {
	if h := m.bodyHeight(); h != m.table.height {
		m.table.SetSize(m.width, h)
		m.detail.SetSize(m.width, h)
	}
	m.table.sync(m.st)
	if m.mode == modeDetail {
		m.detail.sync(m.st, m.sty)
	}
}

func (m Model) update(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.layout()
		return m, nil
	case EventsMsg:
		return m.events(msg)
	case tickMsg:
		if now := m.opts.Now(); now.After(m.now) {
			m.now = now
		}
		return m, tickCmd()
	case RunDoneMsg:
		m.runDone, m.runErr = true, msg.Err
		if m.mode != modeSummary {
			m.openSummary()
		}
		return m, nil
	case tea.KeyMsg:
		return m.key(msg)
	}
	return m, nil
}

func (m Model) events(msg EventsMsg) (Model, tea.Cmd) {
	at := msg.At
	if at.IsZero() {
		at = m.opts.Now()
	}
	if at.After(m.now) {
		m.now = at
	}
	for _, ev := range msg.Events {
		m.st.apply(ev, at)
	}
	if !m.st.active() || m.mode == modeSummary {
		m.openSummary() // or refresh it with what came after RunDoneMsg
	}
	return m, nil
}

func (m *Model) openSummary() {
	if m.mode != modeSummary {
		m.summary.GotoTop()
	}
	m.mode = modeSummary
	m.summary.SetContent(m.opts.Renderer.NewStyle().Width(m.width).Render(summaryText(m.st, m.sty)))
}

func (m Model) key(k tea.KeyMsg) (Model, tea.Cmd) {
	m.notice = ""
	switch m.mode {
	case modeSummary:
		switch k.String() {
		case "up", "down", "k", "j", "pgup", "pgdown":
			var cmd tea.Cmd
			m.summary, cmd = m.summary.Update(k)
			return m, cmd
		}
		return m, tea.Quit
	case modeConfirmAbort:
		m.mode = modeHosts
		if k.String() == "y" || k.String() == "Y" {
			m.opts.Controller.Abort()
			m.notice = "abort requested: the run stops and rolls back"
		}
		return m, nil
	case modeConfirmQuit:
		m.mode = modeHosts
		if s := k.String(); s == "y" || s == "Y" || s == "ctrl+c" {
			m.quitWhileActive = true
			return m, tea.Quit
		}
		return m, nil
	case modeFilter:
		return m.filterKey(k)
	case modeHelp:
		m.mode = modeHosts
		if key.Matches(k, m.keys.Quit) {
			return m.quit()
		}
		return m, nil
	}
	if k.Type == tea.KeyRunes && len(k.Runes) > 1 && k.Runes[0] == '/' {
		// "/" and what follows arrived together (typed fast, pasted): filter by the rest.
		m.mode = modeFilter
		m.filter.SetValue(string(k.Runes[1:]))
		m.filter.CursorEnd()
		m.table.SetFilter(m.filter.Value())
		return m, m.filter.Focus()
	}
	switch {
	case key.Matches(k, m.keys.Quit):
		if m.mode == modeDetail && k.String() == "q" {
			m.mode = modeHosts
			return m, nil
		}
		return m.quit()
	case k.String() == "esc":
		m.mode = modeHosts
	case key.Matches(k, m.keys.Help):
		m.mode = modeHelp
	case key.Matches(k, m.keys.Pause):
		m.opts.Controller.Pause()
		m.notice = "pause requested: the run stops after the current wave"
	case key.Matches(k, m.keys.Resume):
		m.opts.Controller.Resume()
		m.notice = "resume requested"
	case key.Matches(k, m.keys.Abort):
		if m.st.active() {
			m.mode = modeConfirmAbort
		}
	case key.Matches(k, m.keys.Filter):
		m.mode = modeFilter
		m.filter.SetValue(m.table.filter)
		m.filter.CursorEnd()
		return m, m.filter.Focus()
	case key.Matches(k, m.keys.Failed):
		m.table.CycleMode()
		m.notice = "showing " + m.table.mode.String()
	case key.Matches(k, m.keys.Details):
		if m.mode == modeDetail {
			m.mode = modeHosts
		} else if sel := m.table.Selected(); sel >= 0 {
			m.mode = modeDetail
			m.detail.Show(sel)
			m.detail.sync(m.st, m.sty)
		}
	default:
		return m.scroll(k)
	}
	return m, nil
}

func (m Model) quit() (Model, tea.Cmd) {
	if m.st.active() && !m.runDone {
		m.mode = modeConfirmQuit
		return m, nil
	}
	return m, tea.Quit
}

func (m Model) filterKey(k tea.KeyMsg) (Model, tea.Cmd) {
	switch k.String() {
	case "enter":
		m.mode = modeHosts
		m.filter.Blur()
		return m, nil
	case "esc":
		m.mode = modeHosts
		m.filter.Blur()
		m.filter.SetValue("")
		m.table.SetFilter("")
		return m, nil
	}
	var cmd tea.Cmd
	m.filter, cmd = m.filter.Update(k)
	m.table.SetFilter(m.filter.Value())
	return m, cmd
}

func (m Model) scroll(k tea.KeyMsg) (Model, tea.Cmd) {
	if m.mode == modeDetail {
		var cmd tea.Cmd
		m.detail.vp, cmd = m.detail.vp.Update(k)
		return m, cmd
	}
	page := m.table.visibleRows()
	switch {
	case key.Matches(k, m.keys.Up):
		m.table.Move(-1)
	case key.Matches(k, m.keys.Down):
		m.table.Move(1)
	case key.Matches(k, m.keys.PageUp):
		m.table.Move(-page)
	case key.Matches(k, m.keys.PageDown):
		m.table.Move(page)
	case key.Matches(k, m.keys.Top):
		m.table.Move(-len(m.st.hosts))
	case key.Matches(k, m.keys.Bottom):
		m.table.Move(len(m.st.hosts))
	}
	return m, nil
}

// layout sizes the components for the window: header, waves (a quarter of the screen at
// most), the hosts table or detail pane, and a footer line.
func (m *Model) layout() {
	m.header.SetSize(m.width)
	m.waves.SetSize(m.width, max((m.height-headerHeight-2)/4, 1))
	rest := m.bodyHeight()
	m.table.SetSize(m.width, rest)
	m.detail.SetSize(m.width, rest)
	m.summary.Width, m.summary.Height = m.width, max(m.height-1, 1)
	if m.mode == modeSummary {
		m.openSummary()
	}
	m.help.Width = m.width
	m.filter.Width = max(m.width-2, 1)
}

// bodyHeight is what is left for the hosts table after header, waves and footer.
func (m *Model) bodyHeight() int {
	waves := m.waves.lines(m.st)
	sep := 1
	return max(m.height-headerHeight-sep-waves-1, 2)
}

// View draws the screen.
func (m Model) View() string {
	if m.mode == modeSummary {
		hint := "press any key to leave"
		if !m.summary.AtTop() || !m.summary.AtBottom() {
			hint = "↑/↓ scroll · any other key leaves"
		}
		return m.summary.View() + "\n" + m.sty.dim.Render(fit(hint, m.width))
	}
	var b strings.Builder
	b.WriteString(m.header.View(m.st, m.sty, m.now))
	b.WriteByte('\n')
	if w := m.waves.View(m.st, m.sty, m.now); w != "" {
		b.WriteString(w)
		b.WriteByte('\n')
	}
	b.WriteString(m.sty.dim.Render(strings.Repeat("─", m.width)))
	b.WriteByte('\n')
	switch m.mode {
	case modeDetail:
		b.WriteString(m.detail.View())
	case modeHelp:
		b.WriteString(m.helpView())
	default:
		b.WriteString(m.table.View(m.st, m.sty, m.now))
	}
	b.WriteByte('\n')
	b.WriteString(m.footer())
	return b.String()
}

func (m Model) helpView() string {
	h := m.help
	h.ShowAll = true
	text := "keys (any key closes this help)\n\n" + h.View(m.keys)
	lines := strings.Split(text, "\n")
	height := m.table.height
	for len(lines) < height {
		lines = append(lines, "")
	}
	return strings.Join(lines[:height], "\n")
}

func (m Model) footer() string {
	switch m.mode {
	case modeFilter:
		return fit(m.filter.View(), m.width)
	case modeConfirmAbort:
		return m.sty.bad.Render(fit("Abort the run and roll back? y/N", m.width))
	case modeConfirmQuit:
		return m.sty.warn.Render(fit("Quit? y/N  The run is still going: quitting interrupts it; its journal keeps what happened.", m.width))
	}
	left := ""
	switch {
	case m.mode == modeDetail && m.notice == "":
		left = m.sty.dim.Render("enter/esc back to hosts · ↑/↓ pgup/pgdn scroll")
	case m.notice != "":
		left = m.sty.warn.Render(m.notice)
	case m.st.warning != "":
		left = m.sty.warn.Render("warning: " + m.st.warning)
	case m.table.filter != "" || m.table.mode != failAll:
		left = m.sty.dim.Render("filter: /" + m.table.filter + " · " + m.table.mode.String() + " · " + plural(len(m.table.rows), "host", "hosts"))
	default:
		return fit(m.help.ShortHelpView(m.keys.ShortHelp()), m.width)
	}
	return fit(left, m.width)
}
