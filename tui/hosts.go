package tui

import (
	"strings"
	"time"
)

// failMode is how the hosts table treats failed hosts (`f` cycles through them).
type failMode int

const (
	failAll   failMode = iota // every host, in run order
	failFirst                 // hosts in trouble first
	failOnly                  // hosts in trouble only
)

func (m failMode) String() string {
	return [...]string{"all hosts", "failed first", "failed only"}[m]
}

// hostTable is the scrollable, filterable list of hosts. Only the rows on screen are
// rendered; the row order is rebuilt when the run changes, at most once per frame.
type hostTable struct {
	width, height int
	rows          []int // indexes into runState.hosts, in display order
	built         uint64
	dirty         bool
	cursor        int // row of the selection
	offset        int // first row on screen
	selected      int // host index of the selection, -1 for none
	filter        string
	mode          failMode
}

func newHostTable() hostTable { return hostTable{selected: -1, dirty: true} }

// SetSize sets the table's size; height counts its column header line.
func (t *hostTable) SetSize(width, height int) {
	t.width, t.height = width, height
	t.clamp()
}

func (t *hostTable) SetFilter(f string) {
	if f != t.filter {
		t.filter, t.dirty = f, true
	}
}

// CycleMode goes from all hosts to failed first to failed only, and selects the top row.
func (t *hostTable) CycleMode() {
	t.mode = (t.mode + 1) % 3
	t.dirty, t.selected, t.offset = true, -1, 0
}

// sync rebuilds the row order if the run or the view's rules changed.
func (t *hostTable) sync(s *runState) {
	if !t.dirty && t.built == s.version {
		return
	}
	t.built, t.dirty = s.version, false
	t.rows = t.rows[:0]
	filter := strings.ToLower(t.filter)
	match := func(h *host) bool {
		if filter == "" {
			return true
		}
		return strings.Contains(strings.ToLower(h.name), filter) || strings.Contains(h.status.String(), filter)
	}
	if t.mode != failAll {
		for i, h := range s.hosts {
			if h.status.bad() && match(h) {
				t.rows = append(t.rows, i)
			}
		}
	}
	if t.mode != failOnly {
		for i, h := range s.hosts {
			if (t.mode == failAll || !h.status.bad()) && match(h) {
				t.rows = append(t.rows, i)
			}
		}
	}
	t.cursor = 0
	if t.selected >= 0 {
		for r, i := range t.rows {
			if i == t.selected {
				t.cursor = r
				break
			}
		}
	}
	t.clamp()
}

func (t *hostTable) visibleRows() int { return max(t.height-1, 1) }

func (t *hostTable) clamp() {
	t.cursor = min(max(t.cursor, 0), max(len(t.rows)-1, 0))
	vis := t.visibleRows()
	if t.cursor < t.offset {
		t.offset = t.cursor
	}
	if t.cursor >= t.offset+vis {
		t.offset = t.cursor - vis + 1
	}
	t.offset = min(max(t.offset, 0), max(len(t.rows)-vis, 0))
	if len(t.rows) > 0 {
		t.selected = t.rows[t.cursor]
	} else {
		t.selected = -1
	}
}

// Move moves the selection by n rows.
func (t *hostTable) Move(n int) {
	t.cursor += n
	t.clamp()
}

// Selected returns the selected host's index, or -1.
func (t *hostTable) Selected() int { return t.selected }

type columns struct{ host, wave, state, task, msg, dur int }

func (t hostTable) columns(s *runState) columns {
	c := columns{host: 12, wave: 5, state: 12, dur: 7}
	longest := 4
	for _, h := range s.hosts {
		longest = max(longest, len(h.name))
		if longest >= 24 {
			longest = 24
			break
		}
	}
	c.host = min(longest, max(t.width/5, 8))
	c.state = 20
	rest := t.width - 2 - c.host - c.wave - c.state - c.dur - 5
	c.task = max(rest*2/5, 4)
	c.msg = max(rest-c.task, 4)
	return c
}

func (t hostTable) View(s *runState, st styles, now time.Time) string {
	c := t.columns(s)
	var b strings.Builder
	b.WriteString(st.header.Render("  " + fit("HOST", c.host) + " " + fit("WAVE", c.wave) + " " + fit("STATE", c.state) + " " +
		fit("TASK", c.task) + " " + fit("LAST MESSAGE", c.msg) + " " + fitRight("TIME", c.dur)))
	end := min(t.offset+t.visibleRows(), len(t.rows))
	for r := t.offset; r < end; r++ {
		b.WriteByte('\n')
		b.WriteString(t.row(s, s.hosts[t.rows[r]], c, st, now, r == t.cursor))
	}
	for r := end - t.offset; r < t.visibleRows(); r++ {
		b.WriteByte('\n')
		if r == 0 && len(t.rows) == 0 {
			b.WriteString(st.dim.Render(fit("  no hosts match", t.width)))
		}
	}
	return b.String()
}

func (t hostTable) row(s *runState, h *host, c columns, st styles, now time.Time, selected bool) string {
	wave, task, state := "-", "", h.display()
	if h.wave >= 0 {
		w := s.waves[h.wave]
		wave = w.label()
		if h.status == hostRunning || h.status == hostRollingBack {
			task = firstNonEmpty(h.task, w.task)
			if h.status == hostRunning && w.state != "running" {
				state = waveState(w, now)
			}
		}
	}
	if h.attention != "" && h.status != hostAttention {
		state += "!"
	}
	dur := ""
	if !h.started.IsZero() {
		end := h.ended
		if end.IsZero() {
			end = now
		}
		dur = duration(end.Sub(h.started))
	}
	left := fit(h.name, c.host) + " " + fit(wave, c.wave) + " "
	right := " " + fit(task, c.task) + " " + fit(h.lastMsg, c.msg) + " " + fitRight(dur, c.dur)
	if selected {
		return st.selected.Render("> " + left + fit(state, c.state) + right)
	}
	return "  " + left + st.status[h.status].Render(fit(state, c.state)) + right
}
