package rollout

import (
	"context"
	"fmt"

	"github.com/kpxdev/kpx/playbooks"
)

// health is a wave's gate: the bake time, then each check on the wave's hosts, retried.
// It returns why the wave failed, or "".
func (r *Runner) health(ctx context.Context, rc *runCtx, w *waveRun, hosts []string) string {
	h := w.play.Health
	name := playName(w.play)
	if h.Bake > 0 {
		r.emit(WaveChanged{Play: name, PlayIndex: w.pi, Wave: w.n, Waves: w.of, State: WaveBaking, Until: until(h.Bake)})
		if !r.ctl.sleep(ctx, h.Bake) {
			return "" // halted or cancelled: the caller decides
		}
	}
	r.emit(WaveChanged{Play: name, PlayIndex: w.pi, Wave: w.n, Waves: w.of, State: WaveChecking})
	cctx := ctx
	if h.Timeout > 0 {
		var cancel context.CancelFunc
		cctx, cancel = context.WithTimeout(ctx, h.Timeout)
		defer cancel()
	}
	for _, check := range h.Checks {
		if why := r.runCheck(cctx, rc, w, realCheck(check), hosts); why != "" {
			if cctx.Err() != nil && ctx.Err() == nil {
				return fmt.Sprintf("health checks timed out after %s (%s)", h.Timeout, why)
			}
			return why
		}
		if mode, _ := r.ctl.halting(); mode != "" || ctx.Err() != nil {
			return ""
		}
	}
	return ""
}

// realCheck is a check as it runs: for real even under --check (checks only look), unless
// the check says otherwise.
func realCheck(t *playbooks.Task) *playbooks.Task {
	if t.CheckMode.Set {
		return t
	}
	c := *t
	c.CheckMode = playbooks.Flag{Set: true, Value: false}
	return &c
}

// runCheck runs one check on hosts until it passes on all of them or its retries are
// spent. It returns why it failed, naming the first host and its output, or "".
func (r *Runner) runCheck(ctx context.Context, rc *runCtx, w *waveRun, check *playbooks.Task, hosts []string) string {
	hc := w.play.Health
	b := newBatchRun(r, w.play, hosts, rc.st)
	b.pi, b.wave, b.phase, b.ignoreHalt = w.pi, w.n, PhaseCheck, true
	name := check.DisplayName()
	pending := hosts
	for attempt := 1; ; attempt++ {
		final := attempt > hc.Retries
		outcomes := b.execute(ctx, pending, check, func(string, Outcome) {})
		var still []string
		var lastOut Outcome
		for i, h := range pending {
			o := outcomes[i]
			passed := o.Status == StatusOK || o.Status == StatusChanged || o.Status == StatusSkipped
			r.emit(CheckResult{Host: h, Wave: w.n, Check: name, Attempt: attempt, Passed: passed, Final: passed || final, Result: o.Result})
			if !passed {
				still = append(still, h)
				lastOut = o
				if final {
					r.out.update(h, func(ho *HostOutcome) {
						ho.Checks = append(ho.Checks, name)
						if o.Status == StatusUnreachable {
							ho.Unreachable = true
						}
						if ho.Failed == "" {
							ho.Failed = fmt.Sprintf("check %q failed: %s", name, resultMsg(o.Result))
						}
					})
				}
			}
		}
		if len(still) == 0 {
			return ""
		}
		if final || ctx.Err() != nil {
			return fmt.Sprintf("check %q failed on %s after %d attempt(s): %s", name, joinHosts(still), attempt, resultMsg(lastOut.Result))
		}
		if mode, _ := r.ctl.halting(); mode != "" {
			return ""
		}
		pending = still
		if !r.ctl.sleep(ctx, hc.Delay) {
			if ctx.Err() != nil {
				return fmt.Sprintf("check %q failed on %s: %v", name, joinHosts(still), ctx.Err())
			}
			return ""
		}
	}
}
