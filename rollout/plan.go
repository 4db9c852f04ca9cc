package rollout

import (
	"context"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/kpxdev/kpx/internal/pyvalue"
	"github.com/kpxdev/kpx/playbooks"
)

// Plan is what a run would do: each play's waves and what runs in them. It changes
// nothing and contacts no host; Preflight adds what the hosts say.
type Plan struct {
	Plays []PlanPlay
}

// PlanPlay is one play of a plan.
type PlanPlay struct {
	Name     string
	Rollout  bool       // health: or rollback: make it a canary rollout
	Hosts    []string   // the hosts it targets
	Waves    [][]string // its batches (waves), as serial cuts them
	MaxFail  float64    // max_fail_percentage in force for each wave
	Tasks    []string   // tasks, handlers marked, block contents indented
	Health   *playbooks.Health
	Checks   []string
	Rollback []string
	Scope    string
}

// BuildPlan works out the waves of every play of pb.
func BuildPlan(pb *playbooks.Playbook, resolve HostResolver) (*Plan, error) {
	plan := &Plan{}
	for _, play := range pb.Plays {
		hosts, err := resolve(play)
		if err != nil {
			return nil, err
		}
		pp := PlanPlay{Name: playName(play), Rollout: isRollout(play), Hosts: hosts, Waves: playbooks.Batches(hosts, play.Serial), Health: play.Health}
		if play.MaxFailPercentage != nil {
			pp.MaxFail = *play.MaxFailPercentage
		} else if !pp.Rollout {
			pp.MaxFail = 100
		}
		for _, sec := range [][]*playbooks.Task{play.PreTasks, play.Tasks, play.PostTasks} {
			pp.Tasks = append(pp.Tasks, taskNames(sec, "")...)
		}
		pp.Tasks = append(pp.Tasks, taskNames(play.Handlers, "handler: ")...)
		if play.Health != nil {
			pp.Checks = taskNames(play.Health.Checks, "")
		}
		if play.Rollback != nil {
			pp.Rollback, pp.Scope = taskNames(play.Rollback.Tasks, ""), play.Rollback.Scope
		}
		plan.Plays = append(plan.Plays, pp)
	}
	return plan, nil
}

func taskNames(ts []*playbooks.Task, prefix string) []string {
	var out []string
	for _, t := range ts {
		if t.Block == nil {
			out = append(out, prefix+t.DisplayName())
			continue
		}
		out = append(out, prefix+"block: "+t.Name)
		for _, part := range []struct {
			name  string
			tasks []*playbooks.Task
		}{{"", t.Block.Block}, {"rescue: ", t.Block.Rescue}, {"always: ", t.Block.Always}} {
			out = append(out, taskNames(part.tasks, prefix+"  "+part.name)...)
		}
	}
	return out
}

// PreflightResult is what one host said when asked for its facts.
type PreflightResult struct {
	Host      string
	Reachable bool
	Error     string            // why it could not be reached or asked, if it could not
	Facts     map[string]string // kernel, distribution, ...
	Took      time.Duration
}

// preflightFacts are the facts a plan shows, by their ansible_ names.
var preflightFacts = []string{"ansible_distribution", "ansible_distribution_version", "ansible_kernel", "ansible_architecture"}

// Preflight connects to each host and gathers its facts, forks at a time, changing
// nothing. exec should be in check mode.
func Preflight(ctx context.Context, exec Executor, hosts []string, forks int) []PreflightResult {
	out := make([]PreflightResult, len(hosts))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(forks, 1))
	for i, h := range hosts {
		g.Go(func() error {
			start := time.Now()
			o := exec.Execute(gctx, h, gatherTask, func(Event) {})
			res := PreflightResult{Host: h, Reachable: o.Status != StatusUnreachable, Took: time.Since(start), Facts: map[string]string{}}
			if o.Status == StatusFailed || o.Status == StatusUnreachable {
				res.Error = resultMsg(o.Result)
			}
			facts, _ := o.Result["ansible_facts"].(map[string]any)
			for _, k := range preflightFacts {
				if v, ok := facts[k]; ok {
					res.Facts[k] = pyvalue.Str(v)
				}
			}
			out[i] = res
			return nil
		})
	}
	_ = g.Wait()
	return out
}
