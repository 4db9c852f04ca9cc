package tui

import (
	"fmt"
	"time"

	"github.com/kpxdev/kpx/rollout"
)

// wavesView shows one line per wave: hosts, state, progress.
type wavesView struct{ width, height int }

func (v *wavesView) SetSize(width, height int) { v.width, v.height = width, height }

// lines is how many lines the view wants for s, within its height.
func (v wavesView) lines(s *runState) int { return min(len(s.waves), v.height) }

func (v wavesView) View(s *runState, st styles, now time.Time) string {
	n := v.lines(s)
	if n == 0 {
		return ""
	}
	// Show the window of waves that ends with the latest one started.
	last := 0
	for i, w := range s.waves {
		if w.state != rollout.WavePending {
			last = i
		}
	}
	first := max(0, min(last-n+2, len(s.waves)-n))
	out := make([]byte, 0, n*v.width)
	for i := first; i < first+n; i++ {
		if i > first {
			out = append(out, '\n')
		}
		out = append(out, v.line(s, s.waves[i], st, now)...)
	}
	return string(out)
}

func (v wavesView) line(s *runState, w *wave, st styles, now time.Time) string {
	name := "WAVE " + w.label()
	if len(s.plays) > 1 {
		name = w.play + " " + w.label()
	}
	hosts := fmt.Sprintf("[%s]", plural(len(w.hosts), "host", "hosts"))
	if len(w.hosts) == 0 && w.state == rollout.WavePending {
		hosts = ""
	}
	state := waveState(w, now)
	frac := v.progress(s, w)
	barW := max(v.width/5, 8)
	left := fit(name, 14) + " " + fit(hosts, 13) + " "
	stateW := max(v.width-len(left)-barW-6, 8)
	return left + waveStyle(st, w.state).Render(fit(state, stateW)) + " " + bar(st, frac, barW) + " " + percent(frac)
}

// progress is the share of the wave's hosts that are done with it.
func (v wavesView) progress(s *runState, w *wave) float64 {
	if len(w.hosts) == 0 {
		return 0
	}
	switch w.state {
	case rollout.WavePending:
		return 0
	case rollout.WaveRunning, waveRollingBack:
		done := 0
		for _, i := range w.hosts {
			if st := s.hosts[i].status; st != hostRunning && st != hostPending && st != hostRollingBack {
				done++
			}
		}
		return float64(done) / float64(len(w.hosts))
	default:
		return 1
	}
}

func waveState(w *wave, now time.Time) string {
	switch w.state {
	case rollout.WaveBaking:
		return "baking, " + duration(w.until.Sub(now)) + " left"
	case rollout.WaveRunning:
		if w.task != "" {
			return "running: " + w.task
		}
		return "running"
	case rollout.WaveFailed:
		if w.reason != "" {
			return "failed: " + w.reason
		}
		return "failed"
	case waveDone:
		if w.failures > 0 {
			return fmt.Sprintf("done, %d failed", w.failures)
		}
		return "done"
	case rollout.WaveRolledBack:
		if w.reason != "" {
			return "rolled back: " + w.reason
		}
		return "rolled back"
	case waveRollingBack:
		if w.reason != "" {
			return "rolling back: " + w.reason
		}
		return "rolling back"
	}
	return string(w.state)
}

func waveStyle(st styles, ws rollout.WaveState) styleRenderer {
	switch ws {
	case rollout.WaveFailed:
		return st.status[hostFailed]
	case rollout.WaveRolledBack, waveRollingBack:
		return st.status[hostRolledBack]
	case rollout.WavePromoted, waveDone:
		return st.status[hostOK]
	case rollout.WaveBaking, rollout.WaveChecking:
		return st.status[hostChanged]
	case rollout.WaveRunning:
		return st.status[hostRunning]
	}
	return st.dim
}

type styleRenderer interface{ Render(...string) string }
