package rollout

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kpxdev/kpx/playbooks"
)

// waveRun is one wave of a rollout play: its tasks and handlers, then its health gate.
type waveRun struct {
	pi, n, of int
	play      *playbooks.Play
	hosts     []string
	all       []string // every host of the play (ansible_play_hosts)
	started   []string // hosts that started the wave's tasks: the ones a rollback undoes
	failed    string   // why the wave failed; empty while it has not
}

// rolloutPlay runs a play wave by wave: each wave's tasks, bake, checks, then promotion
// to the next wave, or rollback and the end of the run.
func (r *Runner) rolloutPlay(ctx context.Context, rc *runCtx, pi int, play *playbooks.Play, live []string) error {
	batches := playbooks.Batches(live, play.Serial)
	prior := r.priorPlay(pi)
	var done []*waveRun // promoted waves, oldest first
	for i, batch := range batches {
		w := &waveRun{pi: pi, n: i + 1, of: len(batches), play: play, hosts: batch, all: live}
		if prior != nil {
			if pw := prior.Waves[w.n]; pw != nil {
				w.hosts = pw.Hosts
				w.started = startedHosts(prior, pw.Hosts)
				switch pw.State {
				case WavePromoted:
					done = append(done, w)
					continue
				case WaveRolledBack:
					rc.stopped, rc.failed = fmt.Sprintf("wave %d failed and was rolled back", w.n), true
					return nil
				case WaveFailed:
					w.failed = pw.Reason
					r.emit(Warning{Msg: fmt.Sprintf("wave %d of play %q failed before the run was resumed (%s); rolling it back", w.n, playName(play), pw.Reason)})
					r.endRollout(ctx, rc, w, done)
					return nil
				}
			}
		}
		if i > 0 {
			r.ctl.waitWhilePaused(ctx)
		}
		if mode, reason := r.ctl.halting(); mode != "" {
			rc.stopped = reason
			return nil
		}
		if err := r.runWave(ctx, rc, w, prior); err != nil {
			return err
		}
		if w.failed == "" {
			if mode, reason := r.ctl.halting(); mode == OnInterruptStop || ctx.Err() != nil {
				rc.stopped = reason
				if ctx.Err() != nil {
					rc.stopped = "interrupted"
				}
				return nil
			}
			r.emit(WaveChanged{Play: playName(play), PlayIndex: pi, Wave: w.n, Waves: w.of, State: WavePromoted})
			done = append(done, w)
			continue
		}
		r.endRollout(ctx, rc, w, done)
		return nil
	}
	return nil
}

// startedHosts are a journaled wave's hosts that started its tasks.
func startedHosts(p *PlayRecord, hosts []string) []string {
	var out []string
	for _, h := range hosts {
		if rec := p.Hosts[h]; rec != nil && rec.Started && !rec.RolledBack {
			out = append(out, h)
		}
	}
	return out
}

// runWave runs a wave's tasks and handlers, then its health gate; w.failed says how it
// went. A halt (abort, interrupt with rollback) fails the wave so that it is rolled back;
// an interrupt with stop leaves it as it is, for kpx resume.
func (r *Runner) runWave(ctx context.Context, rc *runCtx, w *waveRun, prior *PlayRecord) error {
	play := w.play
	if pa, ok := r.exec.(PlayAware); ok {
		if err := pa.PlayStarted(play, w.all, w.hosts); err != nil {
			return fmt.Errorf("play %q: %w", playName(play), err)
		}
	}
	name := playName(play)
	r.emit(WaveChanged{Play: name, PlayIndex: w.pi, Wave: w.n, Waves: w.of, State: WaveRunning, Hosts: w.hosts})
	r.emit(PlayStarted{Name: name, Batch: w.hosts, Wave: w.n, Waves: w.of})
	for _, h := range w.hosts {
		r.out.update(h, func(ho *HostOutcome) { ho.Wave = w.n })
	}
	b := newBatchRun(r, play, w.hosts, rc.st)
	b.pi, b.wave, b.strict = w.pi, w.n, true
	if b.maxFail == nil {
		zero := 0.0
		b.maxFail = &zero
	}
	if prior != nil {
		for _, h := range w.hosts {
			if rec := prior.Hosts[h]; rec != nil && rec.Applied && rec.Wave == w.n {
				b.skip[h] = true
				b.started[h] = true
			}
		}
	}
	b.run(ctx)
	b.recordApplied()
	for _, h := range w.hosts {
		if b.started[h] && !slices.Contains(w.started, h) {
			w.started = append(w.started, h)
		}
	}
	for h := range b.failed {
		rc.out[h] = true
	}
	for h := range b.unreachable {
		rc.out[h] = true
	}
	if w.failed = thresholdFailure(b); w.failed != "" {
		return nil
	}
	if mode, _ := r.ctl.halting(); mode != "" || ctx.Err() != nil {
		w.failed = haltFailure(r)
		return nil
	}
	if play.Health != nil {
		w.failed = r.health(ctx, rc, w, b.live())
		if w.failed == "" {
			w.failed = haltFailure(r)
		}
	}
	return nil
}

// thresholdFailure says why a wave's failures fail it, if they do: more failed (or
// unreachable) hosts than max_fail_percentage allows.
func thresholdFailure(b *batchRun) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var bad []string
	for _, h := range b.hosts {
		if b.unreachable[h] || b.failed[h] {
			bad = append(bad, h)
		}
	}
	pct := 0.0
	if b.maxFail != nil {
		pct = *b.maxFail
	}
	if len(bad) == 0 || (!b.broken && float64(len(bad))/float64(len(b.hosts)) <= pct/100) {
		return ""
	}
	return fmt.Sprintf("%d of %d hosts failed or were unreachable (max_fail_percentage %g): %s", len(bad), len(b.hosts), pct, joinHosts(bad))
}

// haltFailure fails the wave when the operator aborted, or an interrupt asks for rollback.
func haltFailure(r *Runner) string {
	if mode, reason := r.ctl.halting(); mode == OnInterruptRollback {
		return reason
	}
	return ""
}

// endRollout fails the wave, rolls it back (and, with scope all, the waves before it),
// and ends the run.
func (r *Runner) endRollout(ctx context.Context, rc *runCtx, w *waveRun, done []*waveRun) {
	name := playName(w.play)
	r.emit(WaveChanged{Play: name, PlayIndex: w.pi, Wave: w.n, Waves: w.of, State: WaveFailed, Reason: w.failed})
	rc.failed = true
	rc.stopped = fmt.Sprintf("wave %d of play %q failed: %s", w.n, name, w.failed)
	if w.play.Rollback == nil {
		r.emit(Warning{Msg: fmt.Sprintf("play %q has no rollback: section; the hosts of wave %d are left as they are", name, w.n)})
		return
	}
	waves := []*waveRun{w}
	scope := w.play.Rollback.Scope
	if scope == "all" {
		for i := len(done) - 1; i >= 0; i-- {
			waves = append(waves, done[i])
		}
	}
	for _, wv := range waves {
		r.rollbackWave(ctx, rc, wv, scope)
	}
}

func joinHosts(hs []string) string {
	const most = 10
	if len(hs) <= most {
		return strings.Join(hs, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(hs[:most], ", "), len(hs)-most)
}

// until is when a bake of d starting now ends.
func until(d time.Duration) time.Time { return time.Now().Add(d).UTC() }
