package tui

import (
	"fmt"
	"strings"

	"github.com/kpxdev/kpx/rollout"
)

// maxSummaryHosts bounds the host lines of the summary: beyond it, hosts that merely
// succeeded are counted, not listed.
const maxSummaryHosts = 40

// summaryText is the closing account of the run, as the summary screen shows it and as
// kpx prints it after the UI exits.
func summaryText(s *runState, st styles) string {
	var b strings.Builder
	elapsed := s.ended.Sub(s.started)
	if s.finished == nil {
		elapsed = 0
	}
	title := "kpx run"
	if s.runID != "" {
		title += " " + s.runID
	}
	fmt.Fprintf(&b, "%s · %s · %s\n", st.bold.Render(title), s.playbook, duration(elapsed))
	switch {
	case s.summary != nil && s.summary.Stopped != "":
		fmt.Fprintf(&b, "%s\n", st.bad.Render("Stopped early: "+s.summary.Stopped))
	case s.finished == nil:
		fmt.Fprintf(&b, "%s\n", st.warn.Render("The run did not finish."))
	case s.failed+s.unreach+s.counts[hostAttention] > 0:
		fmt.Fprintf(&b, "%s\n", st.bad.Render("Finished with failures."))
	default:
		fmt.Fprintf(&b, "%s\n", st.good.Render("Finished."))
	}
	c := s.counts
	fmt.Fprintf(&b, "Hosts: %d · ok %d · changed %d · failed %d · unreachable %d · rolled back %d · attention %d · not run %d\n",
		len(s.hosts), c[hostOK], c[hostChanged], s.failed, s.unreach, c[hostRolledBack], c[hostAttention], c[hostPending])
	if len(s.waves) > 0 {
		b.WriteString("\nWaves:\n")
		for _, w := range s.waves {
			name := "wave " + w.label()
			if len(s.plays) > 1 {
				name = w.play + " " + w.label()
			}
			hosts := "[" + plural(len(w.hosts), "host", "hosts") + "]"
			if len(w.hosts) == 0 && w.state == rollout.WavePending {
				hosts = ""
			}
			fmt.Fprintf(&b, "  %-14s %-12s %s\n", name, hosts, waveState(w, s.ended))
		}
	}
	b.WriteString(hostOutcomes(s, st))
	return strings.TrimRight(b.String(), "\n")
}

// hostOutcomes lists hosts by outcome: all of them on a small fleet, the ones in trouble
// on a large one.
func hostOutcomes(s *runState, st styles) string {
	var b strings.Builder
	listed, quiet := 0, 0
	for _, h := range s.hosts {
		if len(s.hosts) > maxSummaryHosts && !h.status.bad() {
			quiet++
			continue
		}
		if listed == 0 {
			b.WriteString("\nHosts:\n")
		}
		listed++
		wave := "-"
		if h.wave >= 0 {
			wave = s.waves[h.wave].label()
		}
		fmt.Fprintf(&b, "  %-24s wave %-5s %s\n", h.name, wave, st.status[h.status].Render(outcomeText(h)))
	}
	if quiet > 0 {
		fmt.Fprintf(&b, "  … and %s without trouble\n", plural(quiet, "host", "hosts"))
	}
	return b.String()
}

func outcomeText(h *host) string {
	parts := []string{h.display()}
	if h.failed != "" {
		parts = append(parts, h.failed)
	}
	if h.attention != "" {
		parts = append(parts, "NEEDS ATTENTION: "+h.attention)
	}
	return strings.Join(parts, "; ")
}
