package rollout

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/kpxdev/kpx/playbooks"
)

// RollbackRun undoes a journaled run (Options.Resume): every rollout play's rollback
// tasks run on every host the run started and did not roll back already, newest wave
// first, the last play first. The events go to the same journal.
func (r *Runner) RollbackRun(ctx context.Context, pb *playbooks.Playbook) (RunFinished, error) {
	defer r.flushPresenter()
	state := r.opts.Resume
	if state == nil {
		return RunFinished{}, errors.New("rollback: no journaled run given")
	}
	if r.opts.Start.Command == "" {
		r.opts.Start.Command = "rollback"
	}
	rc := &runCtx{st: newStats(), out: map[string]bool{}}
	if err := r.start(pb, rc); err != nil {
		return RunFinished{}, err
	}
	r.seedOutcomes()
	for pi := len(pb.Plays) - 1; pi >= 0; pi-- {
		prec := state.Plays[pi]
		if prec == nil {
			continue
		}
		play := pb.Plays[pi]
		byWave := toUndo(prec)
		if len(byWave) == 0 {
			continue
		}
		if play.Rollback == nil {
			var hs []string
			for _, w := range byWave {
				hs = append(hs, w.started...)
			}
			r.emit(Warning{Msg: fmt.Sprintf("play %q has no rollback: section; %s are left as they are", playName(play), joinHosts(hs))})
			continue
		}
		for _, w := range byWave {
			w.pi, w.play, w.of = pi, play, len(prec.Waves)
			r.rollbackWave(ctx, rc, w, "run")
			if ctx.Err() != nil {
				return r.finish(ctx, rc)
			}
		}
	}
	rc.stopped = "rolled back on request"
	rc.failed = r.needsAttention()
	return r.finish(ctx, rc)
}

// toUndo groups the hosts of a play that the run started and did not roll back by wave,
// newest wave first.
func toUndo(p *PlayRecord) []*waveRun {
	byWave := map[int]*waveRun{}
	for _, h := range p.HostsInOrder() {
		if !h.Started || h.RolledBack {
			continue
		}
		w, ok := byWave[h.Wave]
		if !ok {
			w = &waveRun{n: h.Wave}
			byWave[h.Wave] = w
		}
		w.started = append(w.started, h.Host)
	}
	var out []*waveRun
	for _, w := range byWave {
		out = append(out, w)
	}
	slices.SortFunc(out, func(a, b *waveRun) int { return b.n - a.n })
	return out
}

func (r *Runner) needsAttention() bool {
	s := r.out.snapshot("", "")
	for _, h := range s.Hosts {
		if h.NeedsAttention != "" {
			return true
		}
	}
	return false
}
