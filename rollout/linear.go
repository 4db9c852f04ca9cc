package rollout

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/kpxdev/kpx/playbooks"
)

// batchRun is one batch (wave) of one play, or the hosts running a rollout play's checks
// or rollback tasks.
type batchRun struct {
	r     *Runner
	play  *playbooks.Play
	hosts []string
	st    *stats

	pi, wave int    // the play's index and the wave's number, for the journal
	phase    string // PhaseTasks, PhaseCheck or PhaseRollback
	// maxFail is the play's max_fail_percentage (for rollout plays 0 unless set); strict
	// counts unreachable hosts as failed against it, as rollout plays do.
	maxFail *float64
	strict  bool
	// skip are hosts that run no tasks: they finished them before a crash (kpx resume).
	skip map[string]bool
	// ignoreHalt keeps the batch going when the run halts (rollback tasks must finish).
	ignoreHalt bool

	mu          sync.Mutex
	failed      map[string]bool            // failed and not rescued
	unreachable map[string]bool            // could not be reached
	notified    map[string]map[string]bool // handler name or listen topic -> hosts
	anyFailure  bool                       // some host failed a task (the run is "not ok")
	broken      bool                       // any_errors_fatal or max_fail_percentage tripped
	ended       map[string]bool            // meta: end_host
	started     map[string]bool            // hosts that started a task (not facts)
	endBatch    bool                       // meta: end_batch
	endPlay     bool                       // meta: end_play

	// free: the play's strategy is free; announced are the tasks it has announced.
	free      bool
	announced map[*playbooks.Task]bool
}

func newBatchRun(r *Runner, play *playbooks.Play, hosts []string, st *stats) *batchRun {
	return &batchRun{r: r, play: play, hosts: hosts, st: st, phase: PhaseTasks, maxFail: play.MaxFailPercentage,
		failed: map[string]bool{}, unreachable: map[string]bool{}, notified: map[string]map[string]bool{},
		ended: map[string]bool{}, started: map[string]bool{}, skip: map[string]bool{},
		free: play.Strategy == "free", announced: map[*playbooks.Task]bool{}}
}

// taskStarted announces t. Under the free strategy each host goes through the task list
// on its own, and a task is announced once, when the first host starts it.
func (b *batchRun) taskStarted(t *playbooks.Task, handler bool) {
	if b.free {
		b.mu.Lock()
		seen := b.announced[t]
		b.announced[t] = true
		b.mu.Unlock()
		if seen {
			return
		}
	}
	b.r.emit(TaskStarted{Name: t.DisplayName(), Handler: handler})
}

// runFree runs tasks under the free strategy: every host goes through the list on its
// own, as fast as it can, forks hosts at a time. A host's failure is its own.
func (b *batchRun) runFree(ctx context.Context, hosts []string, tasks []*playbooks.Task) {
	var g errgroup.Group
	g.SetLimit(b.r.opts.Forks)
	for _, h := range hosts {
		g.Go(func() error {
			b.runList(ctx, []string{h}, tasks, false)
			return nil
		})
	}
	_ = g.Wait()
}

// gatherTask is the implicit first task of a play that gathers facts.
var gatherTask = &playbooks.Task{Keywords: playbooks.Keywords{Name: "Gathering Facts"}, Action: "gather_facts", Module: "setup", Args: map[string]any{}}

func (b *batchRun) run(ctx context.Context) {
	if hosts := b.gatherHosts(); len(hosts) > 0 {
		b.runTask(ctx, hosts, gatherTask, false, false)
	}
	for _, section := range [][]*playbooks.Task{b.play.PreTasks, b.play.Tasks, b.play.PostTasks} {
		if b.stopped(ctx) {
			return
		}
		if b.free {
			b.runFree(ctx, b.taskHosts(), section)
		} else {
			b.runList(ctx, b.taskHosts(), section, false)
		}
		if b.stopped(ctx) {
			return
		}
		b.flushHandlers(ctx)
	}
}

func (b *batchRun) stopped(ctx context.Context) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.ignoreHalt {
		if mode, _ := b.r.ctl.halting(); mode != "" {
			return true
		}
	}
	return b.broken || b.endBatch || b.endPlay || ctx.Err() != nil || len(b.failed)+len(b.unreachable) >= len(b.hosts)
}

// taskHosts are the live hosts that run the play's tasks: not those that finished them
// before the run was resumed.
func (b *batchRun) taskHosts() []string {
	return slices.DeleteFunc(b.live(), func(h string) bool { return b.skip[h] })
}

// live returns the batch's hosts that have neither failed nor become unreachable.
func (b *batchRun) live() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, h := range b.hosts {
		if !b.failed[h] && !b.unreachable[h] && !b.ended[h] {
			out = append(out, h)
		}
	}
	return out
}

// runList runs tasks in order on hosts. A host that fails leaves the list; the hosts that
// failed are returned. rescuable says an enclosing block will rescue failures.
func (b *batchRun) runList(ctx context.Context, hosts []string, tasks []*playbooks.Task, rescuable bool) []string {
	active := slices.Clone(hosts)
	var failed []string
	for _, t := range tasks {
		if len(active) == 0 || b.stopped(ctx) {
			break
		}
		if t.Block == nil && !t.Selected(b.r.opts.Tags, b.r.opts.SkipTags) {
			continue
		}
		var f []string
		if t.Block != nil {
			f = b.runBlock(ctx, active, t, rescuable)
		} else if t.Module == "meta" {
			f = b.meta(ctx, active, t)
		} else if t.Module == "include_tasks" {
			f = b.runInclude(ctx, active, t, rescuable)
		} else if t.Module == "include_role" {
			f = b.runIncludeRole(ctx, active, t, rescuable)
		} else {
			f = b.runTask(ctx, active, t, rescuable, false)
		}
		failed = append(failed, f...)
		active = slices.DeleteFunc(active, func(h string) bool { return slices.Contains(f, h) })
	}
	return failed
}

// runInclude runs an include_tasks: its conditions decide, host by host, who runs the
// included tasks, which then run like a block of the task list.
func (b *batchRun) runInclude(ctx context.Context, hosts []string, t *playbooks.Task, rescuable bool) []string {
	if t.Loop != nil {
		return b.runIncludeLoop(ctx, hosts, t, rescuable)
	}
	b.taskStarted(t, false)
	outcomes := b.execute(ctx, hosts, t, func(h string, o Outcome) {
		if o.Status != StatusOK && o.Status != StatusChanged {
			b.r.emit(HostResult{Host: h, Status: o.Status, Result: o.Result, Action: t.Module, Ignored: o.Ignored, Delegated: o.Delegated})
		}
	})
	var in, failed []string
	for i, h := range hosts {
		o := outcomes[i]
		if o.Status == StatusOK || o.Status == StatusChanged {
			in = append(in, h)
			b.st.record(h, o, rescuable)
			continue
		}
		b.st.record(h, o, rescuable)
		failed = append(failed, b.account(h, t, o, rescuable)...)
	}
	if len(in) > 0 && len(t.Included) > 0 {
		b.r.emit(Included{File: t.Included[0].Pos.File, Hosts: in})
		failed = append(failed, b.runList(ctx, in, t.Included, rescuable)...)
	}
	return failed
}

// runBlock runs a block: its tasks, then rescue for the hosts that failed, then always for
// every host that entered it and is still reachable.
func (b *batchRun) runBlock(ctx context.Context, hosts []string, t *playbooks.Task, rescuable bool) []string {
	hasRescue := len(t.Block.Rescue) > 0
	failed := b.runList(ctx, hosts, t.Block.Block, rescuable || hasRescue)
	if hasRescue && len(failed) > 0 && !b.stopped(ctx) {
		failed = b.runList(ctx, failed, t.Block.Rescue, rescuable)
	}
	if len(t.Block.Always) > 0 && !b.broken && ctx.Err() == nil {
		var reach []string
		b.mu.Lock()
		for _, h := range hosts {
			if !b.unreachable[h] {
				reach = append(reach, h)
			}
		}
		b.mu.Unlock()
		for _, h := range b.runList(ctx, reach, t.Block.Always, rescuable) {
			if !slices.Contains(failed, h) {
				failed = append(failed, h)
			}
		}
	}
	return failed
}

// runTask runs one task on hosts, bounded by forks, and applies Ansible's rules for what a
// failure means. It returns the hosts that failed or became unreachable.
func (b *batchRun) runTask(ctx context.Context, hosts []string, t *playbooks.Task, rescuable, handler bool) []string {
	b.taskStarted(t, handler)
	all := hosts
	once := t.RunOnce.Value && len(hosts) > 1
	if once {
		hosts = hosts[:1]
	}
	outcomes := b.execute(ctx, hosts, t, func(h string, o Outcome) {
		switch {
		case !o.Looped:
			b.r.emit(HostResult{Host: h, Status: o.Status, Result: o.Result, Action: t.Module, Ignored: o.Ignored, Delegated: o.Delegated})
		case o.Status == StatusFailed || o.Status == StatusUnreachable || o.Status == StatusSkipped:
			b.r.emit(HostResult{Host: h, Status: o.Status, Result: o.Result, Action: t.Module, Ignored: o.Ignored, Delegated: o.Delegated, Looped: true})
		}
	})
	var failed []string
	for i, h := range hosts {
		b.st.record(h, outcomes[i], rescuable)
		failed = append(failed, b.account(h, t, outcomes[i], rescuable)...)
	}
	if once {
		if s, ok := b.r.exec.(ResultSharer); ok {
			s.ShareResult(t, hosts[0], outcomes[0], all[1:])
		}
	}
	fatal := t.AnyErrorsFatal.Value || b.play.AnyErrorsFatal.Value || once
	b.afterTask(failed, fatal && !rescuable)
	return failed
}

// execute runs t on hosts, at most forks at a time, and returns their outcomes in host
// order; done is called with each outcome as soon as its host finishes.
func (b *batchRun) execute(ctx context.Context, hosts []string, t *playbooks.Task, done func(string, Outcome)) []Outcome {
	return b.executeEmit(ctx, hosts, t, b.r.emit, done)
}

// executeEmit is execute with the executor's own events (loop items, retries) passed to
// emit instead of the run's presenters.
func (b *batchRun) executeEmit(ctx context.Context, hosts []string, t *playbooks.Task, emit func(Event), done func(string, Outcome)) []Outcome {
	outcomes := make([]Outcome, len(hosts))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(b.r.opts.Forks)
	phase := b.phase
	if t == gatherTask {
		phase = PhaseFacts
	}
	for i, h := range hosts {
		g.Go(func() error {
			outcomes[i] = b.executeOne(gctx, h, t, phase, emit)
			done(h, outcomes[i])
			return nil
		})
	}
	_ = g.Wait()
	return outcomes
}

// executeOne runs t on h between two journal records: "started" (fsynced before the host
// is touched) and the outcome. A host whose turn comes once the run halts is skipped.
func (b *batchRun) executeOne(ctx context.Context, h string, t *playbooks.Task, phase string, emit func(Event)) Outcome {
	if mode, reason := b.r.ctl.halting(); mode != "" && !b.ignoreHalt {
		return Outcome{Status: StatusSkipped, Result: map[string]any{"changed": false, "skipped": true, "skip_reason": "the run is stopping: " + reason}}
	}
	rec := HostTaskState{Host: h, PlayIndex: b.pi, Wave: b.wave, Phase: phase, Task: t.DisplayName(), State: HostStarted}
	if phase != PhaseFacts {
		b.mu.Lock()
		b.started[h] = true
		b.mu.Unlock()
	}
	b.r.emit(rec)
	if err := b.r.journalError(); err != nil {
		// The journal could not record that the host is about to change: leave it alone.
		return Outcome{Status: StatusSkipped, Result: map[string]any{"changed": false, "skipped": true, "skip_reason": "the run is stopping: " + err.Error()}}
	}
	o := b.r.exec.Execute(ctx, h, t, emit)
	rec.State = string(o.Status)
	b.r.emit(rec)
	return o
}

// account applies an outcome to the batch: unreachable and failed hosts leave (failed ones
// only once no block rescues them), changed hosts notify handlers. It returns host when
// it left the task list.
func (b *batchRun) account(h string, t *playbooks.Task, o Outcome, rescuable bool) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case o.Status == StatusUnreachable && !o.Ignored: // ignore_unreachable keeps the host
		b.unreachable[h] = true
		b.r.out.taskFailed(h, t.DisplayName(), o)
		if b.strict {
			b.r.emit(Warning{Msg: fmt.Sprintf("%s is unreachable: in a rollout play an unreachable host counts as failed (stricter than Ansible)", h)})
		}
		return []string{h}
	case o.Status == StatusFailed && !o.Ignored:
		b.anyFailure = true
		if !rescuable {
			b.failed[h] = true
			b.r.out.taskFailed(h, t.DisplayName(), o)
		}
		return []string{h}
	case o.Status == StatusChanged:
		for _, name := range t.Notify {
			if b.notified[name] == nil {
				b.notified[name] = map[string]bool{}
			}
			b.notified[name][h] = true
		}
	}
	return nil
}

// afterTask applies any_errors_fatal and max_fail_percentage once a task has finished on
// every host, and announces when no host is left.
func (b *batchRun) afterTask(failed []string, fatal bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if fatal && len(failed) > 0 {
		for _, h := range b.hosts {
			if !b.unreachable[h] {
				b.failed[h] = true
			}
		}
		b.broken = true
	}
	if p := b.maxFail; p != nil && !b.broken {
		bad := len(b.failed)
		if b.strict {
			bad += len(b.unreachable)
		}
		if float64(bad)/float64(len(b.hosts)) > *p/100 {
			for _, h := range b.hosts {
				if !b.unreachable[h] {
					b.failed[h] = true
				}
			}
			b.broken = true
			b.r.emit(NoHostsLeft{})
		}
	}
	if b.broken && len(b.failed)+len(b.unreachable) >= len(b.hosts) {
		b.r.emit(NoHostsLeft{})
	}
}

// flushHandlers runs, in the order they are defined, the handlers notified on hosts that
// are still in play.
func (b *batchRun) flushHandlers(ctx context.Context) {
	// A topic (listen) may have several handlers: its notifications are cleared once
	// every handler of the flush has seen them.
	heard := map[string][]string{}
	defer func() {
		b.mu.Lock()
		for topic, hosts := range heard {
			for _, host := range hosts {
				delete(b.notified[topic], host)
			}
		}
		b.mu.Unlock()
	}()
	for _, h := range b.play.Handlers {
		if b.stopped(ctx) {
			return
		}
		var hosts []string
		live := b.live()
		b.mu.Lock()
		for _, host := range live {
			for _, key := range handlerKeys(h) {
				if b.notified[key][host] {
					hosts = append(hosts, host)
					break
				}
			}
		}
		for _, host := range hosts {
			delete(b.notified[h.Name], host)
			if h.Role != nil {
				delete(b.notified[h.DisplayName()], host)
			}
		}
		for _, topic := range h.Listen {
			heard[topic] = append(heard[topic], hosts...)
		}
		b.mu.Unlock()
		if len(hosts) > 0 {
			b.runTask(ctx, hosts, h, false, true)
		}
	}
}

// meta carries out the meta actions that steer the strategy. Like ansible-playbook, it
// takes the hosts one at a time, each under its own banner; hosts whose conditions do not
// hold are shown as skipped but not counted. It returns the hosts that left the play
// (end_host).
func (b *batchRun) meta(ctx context.Context, hosts []string, t *playbooks.Task) []string {
	action, _ := t.Args["_raw_params"].(string)
	var left []string
	flush := false
	for _, h := range hosts {
		b.taskStarted(t, false)
		o := b.r.exec.Execute(ctx, h, t, b.r.emit)
		if o.Status == StatusSkipped {
			b.r.emit(HostResult{Host: h, Status: StatusSkipped, Result: o.Result, Action: "meta"})
			continue
		}
		if o.Status != StatusOK && o.Status != StatusChanged {
			b.r.emit(HostResult{Host: h, Status: o.Status, Result: o.Result, Action: "meta"})
			b.st.record(h, o, false)
			left = append(left, b.account(h, t, o, false)...)
			continue
		}
		b.mu.Lock()
		switch action {
		case "end_host":
			b.ended[h] = true
			left = append(left, h)
		case "end_batch":
			b.endBatch = true
		case "end_play":
			b.endPlay = true
		case "flush_handlers":
			flush = true
		}
		stop := b.endBatch || b.endPlay
		b.mu.Unlock()
		if stop {
			break
		}
	}
	if flush {
		b.flushHandlers(ctx)
	}
	return left
}
