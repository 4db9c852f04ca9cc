package rollout

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/kpxdev/kpx/playbooks"
)

// Options configure a Runner.
type Options struct {
	// Forks bounds how many hosts run a task at once; 0 means 5, Ansible's default.
	Forks int
	// Emit receives every event, one at a time and in order, on a goroutine of its own:
	// a slow Emit delays what it shows, never the run (the journal, by contrast, is
	// written before the engine goes on). Run and RollbackRun return only after Emit
	// has seen every event of the run. nil discards them.
	Emit func(Event)
	// Tags and SkipTags select tasks as --tags and --skip-tags do.
	Tags, SkipTags []string

	// Journal, when set, records every event before Emit sees it, fsynced at every wave
	// and host state change. A journal that cannot be written stops the run.
	Journal Journal
	// Start is the run's RunStarted as the caller knows it (id, playbook, inventory,
	// limit, redacted extra vars); Run fills in the hosts and the time.
	Start RunStarted
	// OnInterrupt is what Interrupt does once the tasks in flight finish:
	// OnInterruptRollback (the default) or OnInterruptStop.
	OnInterrupt string
	// Resume is the journaled state of the run being resumed: finished waves and hosts
	// are skipped, a failed wave not yet rolled back is rolled back.
	Resume *RunState
	// Gathering is Ansible's gathering setting: "implicit" (the default: a play gathers
	// facts unless it says gather_facts: false), "explicit" (only when it says true) or
	// "smart" (implicit, but not again for hosts that have facts already).
	Gathering string
	// Mask, when set, rewrites every string of every event before the journal and Emit
	// see it: it hides secrets (values decrypted from Ansible Vault) from all output.
	Mask func(string) string
}

// HostResolver returns the hosts a play targets, in order.
type HostResolver func(play *playbooks.Play) ([]string, error)

// PlayAware is implemented by executors that need to know the play and batch the next
// tasks belong to (TaskExecutor does: play vars, vars_files, magic variables).
type PlayAware interface {
	PlayStarted(play *playbooks.Play, hosts, batch []string) error
}

// Runner runs playbooks with Ansible's linear strategy: every host of a batch runs a task
// before any host runs the next one. Plays with health: or rollback: run as rollouts:
// each wave is gated by its health checks and rolled back when it fails.
type Runner struct {
	exec  Executor
	hosts HostResolver
	opts  Options
	ctl   *controls
	out   *outcomes

	emitMu     sync.Mutex
	present    *presenterQueue // nil without Options.Emit
	journalErr error
	appended   uint64 // events appended to the journal (emitMu)

	syncMu sync.Mutex
	synced uint64 // events the journal has made durable (syncMu)
}

// NewRunner returns a Runner that carries out tasks with exec on the hosts resolve gives.
func NewRunner(exec Executor, resolve HostResolver, opts Options) *Runner {
	if opts.Forks <= 0 {
		opts.Forks = 5
	}
	if opts.OnInterrupt == "" {
		opts.OnInterrupt = OnInterruptRollback
	}
	r := &Runner{exec: exec, hosts: resolve, opts: opts, ctl: newControls(), out: newOutcomes()}
	if opts.Emit != nil {
		r.present = newPresenterQueue(opts.Emit)
	}
	return r
}

// flushPresenter waits until the presenter has seen every event emitted so far.
func (r *Runner) flushPresenter() {
	if r.present != nil {
		r.present.flush()
	}
}

// emit journals ev and queues it for the presenter. When ev is a state change, emit
// returns only once it is durable (see emitAll).
func (r *Runner) emit(ev Event) { r.emitAll(ev) }

// emitAll journals evs in order, queues them for the presenter and, when any is a state
// change, returns only once the journal has made them durable. Concurrent callers share
// fsyncs (group commit): hosts of a wide batch change state at the same moment, and one
// fsync of the journal covers every line appended before it, so a host waits for at most
// two fsyncs, not for every other host's.
func (r *Runner) emitAll(evs ...Event) {
	mustSync := false
	if r.opts.Mask != nil {
		for i, ev := range evs {
			evs[i] = maskEvent(ev, r.opts.Mask)
		}
	}
	r.emitMu.Lock()
	j := r.opts.Journal
	for _, ev := range evs {
		if j != nil && r.journalErr == nil {
			if err := j.Append(ev); err != nil {
				r.failJournal(err)
			} else {
				r.appended++
			}
		}
		mustSync = mustSync || syncs(ev)
		if r.present != nil {
			r.present.push(ev)
		}
	}
	upTo := r.appended
	r.emitMu.Unlock()
	if mustSync && j != nil {
		r.syncJournal(j, upTo)
	}
}

// syncJournal returns once the first upTo appended events are durable, fsyncing the
// journal unless a sync that began after they were appended already did.
func (r *Runner) syncJournal(j Journal, upTo uint64) {
	r.syncMu.Lock()
	defer r.syncMu.Unlock()
	if r.synced >= upTo {
		return
	}
	r.emitMu.Lock()
	target, broken := r.appended, r.journalErr != nil
	r.emitMu.Unlock()
	if broken {
		return
	}
	if err := j.Sync(); err != nil {
		r.emitMu.Lock()
		r.failJournal(err)
		r.emitMu.Unlock()
		return
	}
	r.synced = target
}

// failJournal records that the journal cannot be written and halts the run: nothing
// more may happen that the journal would not know. Called with emitMu held.
func (r *Runner) failJournal(err error) {
	if r.journalErr != nil {
		return
	}
	r.journalErr = err
	r.ctl.set(func() {
		if r.ctl.halt == "" {
			r.ctl.halt, r.ctl.reason = OnInterruptStop, "the journal cannot be written"
		}
	})
}

// syncs says which events are state changes the journal must make durable at once.
func syncs(ev Event) bool {
	switch ev.(type) {
	case RunStarted, WaveChanged, HostTaskState, RollbackStarted, HostAttention, ControlChanged, RolloutSummary, RunFinished:
		return true
	}
	return false
}

// isRollout says whether a play runs as a rollout (health gate, rollback).
func isRollout(p *playbooks.Play) bool { return p.Health != nil || p.Rollback != nil }

// runCtx is one run of a playbook: the state shared by its plays.
type runCtx struct {
	st       *stats
	out      map[string]bool // failed or unreachable in an earlier play
	stopped  string          // why the run stopped early
	failed   bool            // a rollout failed: exit 2
	resolved [][]string
}

// Run runs every play of pb and returns the recap. Hosts that fail or cannot be reached
// in a play take no part in later plays; a batch in which every host fails, or that trips
// any_errors_fatal or max_fail_percentage, ends the run, as in ansible-playbook. A rollout
// play whose wave fails is rolled back and ends the run.
func (r *Runner) Run(ctx context.Context, pb *playbooks.Playbook) (RunFinished, error) {
	defer r.flushPresenter()
	rc := &runCtx{st: newStats(), out: map[string]bool{}}
	if err := r.start(pb, rc); err != nil {
		return RunFinished{}, err
	}
	r.seedOutcomes()
	for pi, play := range pb.Plays {
		var live []string
		for _, h := range rc.resolved[pi] {
			if !rc.out[h] {
				live = append(live, h)
			}
		}
		if len(live) == 0 {
			r.emit(PlayStarted{Name: playName(play)})
			r.emit(NoHostsMatched{})
			continue
		}
		var err error
		if isRollout(play) {
			err = r.rolloutPlay(ctx, rc, pi, play, live)
		} else {
			err = r.linearPlay(ctx, rc, pi, play, live)
		}
		if err != nil {
			return RunFinished{}, err
		}
		if rc.stopped != "" {
			break
		}
	}
	return r.finish(ctx, rc)
}

// start resolves every play's hosts (before any host is contacted) and records the run.
func (r *Runner) start(pb *playbooks.Playbook, rc *runCtx) error {
	seen := map[string]bool{}
	var all []string
	for _, play := range pb.Plays {
		hosts, err := r.hosts(play)
		if err != nil {
			return err
		}
		rc.resolved = append(rc.resolved, hosts)
		for _, h := range hosts {
			if !seen[h] {
				seen[h] = true
				all = append(all, h)
			}
		}
	}
	ev := r.opts.Start
	if ev.Command == "" {
		ev.Command = "run"
	}
	if ev.Playbook == "" {
		ev.Playbook = pb.Path
	}
	ev.Hosts, ev.Time = all, time.Now().UTC()
	r.emit(ev)
	return r.journalError()
}

func (r *Runner) journalError() error {
	r.emitMu.Lock()
	defer r.emitMu.Unlock()
	if r.journalErr != nil {
		return fmt.Errorf("journal: %w", r.journalErr)
	}
	return nil
}

// finish emits the summary and the recap.
func (r *Runner) finish(ctx context.Context, rc *runCtx) (RunFinished, error) {
	if rc.stopped == "" {
		if mode, reason := r.ctl.halting(); mode != "" {
			rc.stopped = reason
		}
	}
	r.emit(r.out.snapshot(r.opts.Start.RunID, rc.stopped))
	fin := rc.st.snapshot()
	fin.RolloutFailed = rc.failed
	r.emit(fin)
	if err := r.journalError(); err != nil {
		return fin, err
	}
	return fin, ctx.Err()
}

// seedOutcomes gives the summary of a resumed run what the journal says happened before.
func (r *Runner) seedOutcomes() {
	if r.opts.Resume == nil {
		return
	}
	for i := 0; i < len(r.opts.Resume.Plays); i++ {
		p, ok := r.opts.Resume.Plays[i]
		if !ok {
			continue
		}
		for _, h := range p.HostsInOrder() {
			r.out.update(h.Host, func(ho *HostOutcome) {
				ho.Wave = h.Wave
				ho.Applied = ho.Applied || h.Applied
				ho.RolledBack = ho.RolledBack || h.RolledBack
			})
		}
	}
}

// linearPlay runs a play as ansible-playbook does, batch after batch.
func (r *Runner) linearPlay(ctx context.Context, rc *runCtx, pi int, play *playbooks.Play, live []string) error {
	prior := r.priorPlay(pi)
	if prior != nil {
		live = withoutApplied(live, prior)
		if len(live) == 0 {
			return nil
		}
	}
	batches := playbooks.Batches(live, play.Serial)
	for i, batch := range batches {
		if i > 0 {
			r.ctl.waitWhilePaused(ctx)
		}
		if mode, reason := r.ctl.halting(); mode != "" {
			rc.stopped = reason
			return nil
		}
		if pa, ok := r.exec.(PlayAware); ok {
			if err := pa.PlayStarted(play, live, batch); err != nil {
				return fmt.Errorf("play %q: %w", playName(play), err)
			}
		}
		b := newBatchRun(r, play, batch, rc.st)
		b.pi, b.wave = pi, i+1
		r.emit(PlayStarted{Name: playName(play), Batch: batch, Wave: i + 1, Waves: len(batches)})
		b.run(ctx)
		b.recordApplied()
		for h := range b.failed {
			rc.out[h] = true
		}
		for h := range b.unreachable {
			rc.out[h] = true
		}
		if b.endPlay {
			return nil // on to the next play
		}
		if b.broken || len(b.failed)+len(b.unreachable) >= len(batch) || ctx.Err() != nil {
			rc.stopped = "every host of a batch failed"
			if ctx.Err() != nil {
				rc.stopped = "interrupted"
			}
			return nil
		}
	}
	return nil
}

// recordApplied journals the hosts that finished the batch's tasks without failing.
func (b *batchRun) recordApplied() {
	if mode, _ := b.r.ctl.halting(); mode != "" {
		return // the batch did not run to its end
	}
	var applied []Event
	for _, h := range b.live() {
		if b.skip[h] {
			continue
		}
		applied = append(applied, HostTaskState{Host: h, PlayIndex: b.pi, Wave: b.wave, Phase: PhaseTasks, State: HostApplied})
	}
	b.r.emitAll(applied...) // one fsync for the whole batch
	for _, ev := range applied {
		b.r.out.update(ev.(HostTaskState).Host, func(ho *HostOutcome) { ho.Applied = true })
	}
}

func (r *Runner) priorPlay(pi int) *PlayRecord {
	if r.opts.Resume == nil {
		return nil
	}
	return r.opts.Resume.Plays[pi]
}

func withoutApplied(hosts []string, prior *PlayRecord) []string {
	var out []string
	for _, h := range hosts {
		if rec := prior.Hosts[h]; rec == nil || !rec.Applied {
			out = append(out, h)
		}
	}
	return out
}

// ErrNothingToResume: the journaled run has nothing left to do.
var ErrNothingToResume = errors.New("nothing to resume")

// playName is what Ansible shows in PLAY [...]: the name, or the host patterns.
func playName(p *playbooks.Play) string {
	if p.Name != "" {
		return p.Name
	}
	return strings.Join(p.Hosts, ",")
}
