package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/kpxdev/kpx/internal/pyvalue"
	"github.com/kpxdev/kpx/rollout"
)

// rolloutState is what Plain remembers to print kpx's rollout lines. They appear only for
// plays with health: or rollback: (the engine sends WaveChanged for those alone), so the
// output of any other play stays ansible-playbook's, byte for byte.
type rolloutState struct {
	active bool           // a WaveChanged was seen: this run has a rollout play
	waves  map[string]int // play -> number of waves
	check  string         // the check whose HEALTH banner was printed last
	wave   int            // and its wave
	// waveBanner is a WAVE banner waiting for the PLAY banner of its batch, which the
	// engine sends just after: the wave is shown under its play.
	waveBanner string
}

// flushWave writes the WAVE banner that waits, if any.
func (p *Plain) flushWave() {
	if p.ro.waveBanner != "" {
		p.banner(p.ro.waveBanner)
		p.ro.waveBanner = ""
	}
}

func (p *Plain) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// rolloutEvent writes kpx's own events.
func (p *Plain) rolloutEvent(ev rollout.Event) {
	switch ev := ev.(type) {
	case rollout.WaveChanged:
		p.ro.active = true
		if p.ro.waves == nil {
			p.ro.waves = map[string]int{}
		}
		p.ro.waves[ev.Play] = ev.Waves
		p.waveChanged(ev)
	case rollout.CheckResult:
		p.checkResult(ev)
	case rollout.RollbackStarted:
		p.banner(fmt.Sprintf("ROLLBACK [wave %s, scope %s]", p.waveLabel(ev.Play, ev.Wave), ev.Scope))
		p.printf("hosts: %s\n", strings.Join(ev.Hosts, ", "))
	case rollout.HostAttention:
		p.printf("ATTENTION: [%s]: %s\n", ev.Host, ev.Reason)
	case rollout.ControlChanged:
		p.control(ev)
	case rollout.RolloutSummary:
		if p.ro.active {
			p.summary(ev)
		}
	}
}

func (p *Plain) waveLabel(play string, wave int) string {
	if n := p.ro.waves[play]; n > 0 {
		return fmt.Sprintf("%d/%d", wave, n)
	}
	return fmt.Sprint(wave)
}

func (p *Plain) waveChanged(ev rollout.WaveChanged) {
	label := fmt.Sprintf("%d/%d", ev.Wave, ev.Waves)
	switch ev.State {
	case rollout.WaveRunning:
		n := "hosts"
		if len(ev.Hosts) == 1 {
			n = "host"
		}
		p.ro.waveBanner = fmt.Sprintf("WAVE %s [%d %s]", label, len(ev.Hosts), n)
	case rollout.WaveBaking:
		p.banner("BAKE " + bakeTime(ev.Until.Sub(p.now())))
	case rollout.WaveChecking:
		p.ro.check = "" // the next check result opens its HEALTH banner
	case rollout.WavePromoted:
		p.printf("promoted: wave %s\n", label)
	case rollout.WaveFailed:
		p.printf("failed: wave %s: %s\n", label, ev.Reason)
	case rollout.WaveRolledBack:
		p.printf("rolled back: wave %s\n", label)
	}
}

// bakeTime shows a bake as the playbook would write it: 2m, 90s, 1h30m.
func bakeTime(d time.Duration) string {
	d = max(d.Round(time.Second), 0)
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func (p *Plain) checkResult(ev rollout.CheckResult) {
	if ev.Check != p.ro.check || ev.Wave != p.ro.wave {
		p.ro.check, p.ro.wave = ev.Check, ev.Wave
		p.banner("HEALTH [" + ev.Check + "]")
	}
	switch {
	case ev.Passed:
		p.printf("ok: [%s]\n", ev.Host)
	case !ev.Final:
		p.printf("FAILED - RETRYING: [%s]: %s (attempt %d).\n", ev.Host, ev.Check, ev.Attempt)
	default:
		p.printf("failed: [%s] => %s\n", ev.Host, pyvalue.JSON(cleanResult("", ev.Result), 0))
	}
}

func (p *Plain) control(ev rollout.ControlChanged) {
	what := map[string]string{"pause": "paused", "resume": "resumed", "abort": "aborted", "interrupt": "interrupted"}[ev.Control]
	if what == "" {
		what = ev.Control
	}
	if ev.Detail != "" {
		what += ": " + ev.Detail
	}
	p.printf("CONTROL: %s\n", what)
}

// summary writes the rollout's closing account, host by host, before the PLAY RECAP.
func (p *Plain) summary(ev rollout.RolloutSummary) {
	title := "ROLLOUT SUMMARY"
	if ev.RunID != "" {
		title += " [" + ev.RunID + "]"
	}
	p.banner(title)
	if ev.Stopped != "" {
		p.printf("stopped: %s\n", ev.Stopped)
	}
	for _, o := range ev.Hosts {
		wave := "-"
		if o.Wave > 0 {
			wave = fmt.Sprint(o.Wave)
		}
		p.printf("%-26s : wave %-3s %s\n", o.Host, wave, outcome(o))
	}
}

// outcome says what happened to a host in words.
func outcome(o rollout.HostOutcome) string {
	var parts []string
	switch {
	case o.Wave == 0:
		parts = append(parts, "not started")
	case o.Unreachable:
		parts = append(parts, "unreachable")
	case o.Failed != "":
		parts = append(parts, "failed: "+firstLine(o.Failed))
	case o.Applied:
		parts = append(parts, "applied")
	default:
		parts = append(parts, "not applied")
	}
	if len(o.Checks) > 0 {
		parts = append(parts, "checks failed: "+strings.Join(o.Checks, ", "))
	}
	if o.RolledBack {
		parts = append(parts, "rolled back")
	}
	if o.NeedsAttention != "" {
		parts = append(parts, "NEEDS ATTENTION: "+firstLine(o.NeedsAttention))
	}
	return strings.Join(parts, "; ")
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}
