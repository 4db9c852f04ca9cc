package rollout

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/kpxdev/kpx/playbooks"
)

// Options configure a Runner.
type Options struct {
	// Forks bounds how many hosts run a task at once; 0 means 5, Ansible's default.
	Forks int
	// Emit receives every event, one at a time; nil discards them.
	Emit func(Event)
	// Tags and SkipTags select tasks as --tags and --skip-tags do.
	Tags, SkipTags []string
}

// HostResolver returns the hosts a play targets, in order.
type HostResolver func(play *playbooks.Play) ([]string, error)

// PlayAware is implemented by executors that need to know the play and batch the next
// tasks belong to (TaskExecutor does: play vars, vars_files, magic variables).
type PlayAware interface {
	PlayStarted(play *playbooks.Play, hosts, batch []string) error
}

// Runner runs playbooks with Ansible's linear strategy: every host of a batch runs a task
// before any host runs the next one.
type Runner struct {
	exec   Executor
	hosts  HostResolver
	opts   Options
	emitMu sync.Mutex
}

// NewRunner returns a Runner that carries out tasks with exec on the hosts resolve gives.
func NewRunner(exec Executor, resolve HostResolver, opts Options) *Runner {
	if opts.Forks <= 0 {
		opts.Forks = 5
	}
	return &Runner{exec: exec, hosts: resolve, opts: opts}
}

func (r *Runner) emit(ev Event) {
	if r.opts.Emit == nil {
		return
	}
	r.emitMu.Lock()
	defer r.emitMu.Unlock()
	r.opts.Emit(ev)
}

// Run runs every play of pb and returns the recap. Hosts that fail or cannot be reached
// in a play take no part in later plays; a batch in which every host fails, or that trips
// any_errors_fatal or max_fail_percentage, ends the run, as in ansible-playbook.
func (r *Runner) Run(ctx context.Context, pb *playbooks.Playbook) (RunFinished, error) {
	if err := refuseUnsupported(pb); err != nil {
		return RunFinished{}, err
	}
	st := newStats()
	out := map[string]bool{} // failed or unreachable in an earlier play
	for _, play := range pb.Plays {
		hosts, err := r.hosts(play)
		if err != nil {
			return RunFinished{}, err
		}
		var live []string
		for _, h := range hosts {
			if !out[h] {
				live = append(live, h)
			}
		}
		if len(live) == 0 {
			r.emit(PlayStarted{Name: playName(play)})
			r.emit(NoHostsMatched{})
			continue
		}
		if play.Strategy == "free" {
			r.emit(Warning{Msg: fmt.Sprintf("play %q: strategy free runs as linear in kpx: every host finishes a task before any starts the next", playName(play))})
		}
		stop := false
		batches := playbooks.Batches(live, play.Serial)
		for i, batch := range batches {
			if pa, ok := r.exec.(PlayAware); ok {
				if err := pa.PlayStarted(play, live, batch); err != nil {
					return RunFinished{}, fmt.Errorf("play %q: %w", playName(play), err)
				}
			}
			b := newBatchRun(r, play, batch, st)
			r.emit(PlayStarted{Name: playName(play), Batch: batch, Wave: i + 1, Waves: len(batches)})
			b.run(ctx)
			for h := range b.failed {
				out[h] = true
			}
			for h := range b.unreachable {
				out[h] = true
			}
			if b.endPlay {
				break // on to the next play
			}
			if b.broken || len(b.failed)+len(b.unreachable) >= len(batch) || ctx.Err() != nil {
				stop = true
				break
			}
		}
		if stop {
			break
		}
	}
	fin := st.snapshot()
	r.emit(fin)
	return fin, ctx.Err()
}

// refuseUnsupported stops a run, before any host is contacted, when a play asks for what
// this engine does not carry out yet: running a canary rollout without its health gate or
// its rollback would be worse than not running it.
func refuseUnsupported(pb *playbooks.Playbook) error {
	for _, p := range pb.Plays {
		for _, kw := range []struct {
			name string
			set  bool
			pos  playbooks.Pos
		}{{"health", p.Health != nil, posOf(p.Health)}, {"rollback", p.Rollback != nil, posOfRollback(p.Rollback)}} {
			if kw.set {
				return fmt.Errorf("%s: play %q: %s is not carried out by this version of kpx yet; refusing to run the play without it", kw.pos, playName(p), kw.name)
			}
		}
	}
	return nil
}

func posOf(h *playbooks.Health) playbooks.Pos {
	if h == nil {
		return playbooks.Pos{}
	}
	return h.Pos
}

func posOfRollback(r *playbooks.Rollback) playbooks.Pos {
	if r == nil {
		return playbooks.Pos{}
	}
	return r.Pos
}

// playName is what Ansible shows in PLAY [...]: the name, or the host patterns.
func playName(p *playbooks.Play) string {
	if p.Name != "" {
		return p.Name
	}
	return strings.Join(p.Hosts, ",")
}
