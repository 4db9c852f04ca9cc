package tui

import "github.com/charmbracelet/bubbles/key"

// keyMap holds the UI's key bindings; it feeds the help view.
type keyMap struct {
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding
	Pause, Resume, Abort                    key.Binding
	Filter, Failed, Details, Help, Quit     key.Binding
}

func defaultKeys() keyMap {
	return keyMap{
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+b"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+f", " "), key.WithHelp("pgdn", "page down")),
		Top:      key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("g", "first host")),
		Bottom:   key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("G", "last host")),
		Pause:    key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "pause after wave")),
		Resume:   key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "resume")),
		Abort:    key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "abort")),
		Filter:   key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		Failed:   key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "failed first/only")),
		Details:  key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "details")),
		Help:     key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:     key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
	}
}

// ShortHelp is the footer line.
func (k keyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Pause, k.Resume, k.Abort, k.Filter, k.Failed, k.Details, k.Help, k.Quit}
}

// FullHelp is the help screen.
func (k keyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom},
		{k.Filter, k.Failed, k.Details, k.Help},
		{k.Pause, k.Resume, k.Abort, k.Quit},
	}
}
