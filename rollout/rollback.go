package rollout

import (
	"context"
	"fmt"
)

// rollbackWave runs the play's rollback tasks on the hosts of a wave that started its
// tasks. A host whose rollback fails or that cannot be reached needs attention.
func (r *Runner) rollbackWave(ctx context.Context, rc *runCtx, w *waveRun, scope string) {
	name := playName(w.play)
	hosts := w.started
	r.emit(RollbackStarted{Play: name, PlayIndex: w.pi, Wave: w.n, Scope: scope, Hosts: hosts})
	if len(hosts) > 0 {
		if pa, ok := r.exec.(PlayAware); ok {
			if err := pa.PlayStarted(w.play, hosts, hosts); err != nil {
				for _, h := range hosts {
					r.attention(h, fmt.Sprintf("rollback of wave %d could not start: %v", w.n, err))
				}
				return
			}
		}
		r.emit(PlayStarted{Name: name + " (rollback)", Batch: hosts, Wave: w.n, Waves: w.of})
		b := newBatchRun(r, w.play, hosts, rc.st)
		b.pi, b.wave, b.phase, b.ignoreHalt = w.pi, w.n, PhaseRollback, true
		b.maxFail = nil
		b.runList(ctx, hosts, w.play.Rollback.Tasks, false)
		for _, h := range hosts {
			b.mu.Lock()
			unreachable, failed := b.unreachable[h], b.failed[h]
			b.mu.Unlock()
			switch {
			case unreachable:
				r.attention(h, fmt.Sprintf("could not be reached to roll back wave %d", w.n))
			case failed:
				r.attention(h, fmt.Sprintf("rollback of wave %d failed", w.n))
			case ctx.Err() != nil:
				r.attention(h, fmt.Sprintf("rollback of wave %d was cut short: %v", w.n, ctx.Err()))
			default:
				r.emit(HostTaskState{Host: h, PlayIndex: w.pi, Wave: w.n, Phase: PhaseRollback, State: HostRolledBack})
				r.out.update(h, func(ho *HostOutcome) { ho.RolledBack = true })
			}
		}
	}
	if ctx.Err() == nil {
		r.emit(WaveChanged{Play: name, PlayIndex: w.pi, Wave: w.n, Waves: w.of, State: WaveRolledBack})
	}
}

func (r *Runner) attention(host, reason string) {
	r.emit(HostAttention{Host: host, Reason: reason})
	r.out.update(host, func(ho *HostOutcome) {
		if ho.NeedsAttention == "" {
			ho.NeedsAttention = reason
		}
	})
}
