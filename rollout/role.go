package rollout

import (
	"context"
	"os"
	"path/filepath"

	"github.com/kpxdev/kpx/playbooks"
)

// runIncludeRole runs an include_role: its banner, no result line for the hosts that take
// it (ansible-playbook prints none and counts none), then the role's tasks for them.
func (b *batchRun) runIncludeRole(ctx context.Context, hosts []string, t *playbooks.Task, rescuable bool) []string {
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
			continue
		}
		b.st.record(h, o, rescuable)
		failed = append(failed, b.account(h, t, o, rescuable)...)
	}
	if len(in) > 0 && len(t.Included) > 0 {
		failed = append(failed, b.runList(ctx, in, t.Included, rescuable)...)
	}
	return failed
}

// handlerKeys are the notifications a handler answers to: its name, for a role's handler
// also "role : name" (as Ansible matches them), and its listen topics.
func handlerKeys(h *playbooks.Task) []string {
	keys := append([]string{h.Name}, h.Listen...)
	if h.Role != nil && h.Name != "" {
		keys = append(keys, h.DisplayName())
	}
	return keys
}

// finder resolves the controller files a task names (copy's src, template's src, ...):
// for a role's task, in the role's files/ or templates/ first, then in the roles it was
// reached through (closest first), as Ansible searches; then as for any task.
func (e *TaskExecutor) finder(t *playbooks.Task) func(kind, name string) (string, error) {
	if t.Role == nil || e.Templar == nil {
		return e.Templar.Find
	}
	return func(kind, name string) (string, error) {
		if kind != "" && !filepath.IsAbs(name) {
			roles := append([]*playbooks.Role{t.Role}, reversed(t.Role.Parents)...)
			for _, r := range roles {
				for _, c := range []string{filepath.Join(r.Path, kind, name), filepath.Join(r.Path, name),
					filepath.Join(r.Path, "tasks", kind, name), filepath.Join(r.Path, "tasks", name)} {
					if _, err := os.Stat(c); err == nil {
						return c, nil
					}
				}
			}
		}
		return e.Templar.Find(kind, name)
	}
}

func reversed(rs []*playbooks.Role) []*playbooks.Role {
	out := make([]*playbooks.Role, len(rs))
	for i, r := range rs {
		out[len(rs)-1-i] = r
	}
	return out
}

// FactsKeeper is implemented by executors that know which hosts have gathered facts
// (TaskExecutor does), for the "smart" gathering setting.
type FactsKeeper interface {
	HasFacts(host string) bool
}

// HasFacts reports whether host has gathered facts in this run.
func (e *TaskExecutor) HasFacts(host string) bool {
	st := e.state(host)
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.facts != nil
}

// gatherHosts are the hosts the play gathers facts on first, as the gathering setting and
// the play's gather_facts decide.
func (b *batchRun) gatherHosts() []string {
	g := b.play.GatherFacts
	explicit := g.Set && (g.Value || g.Expr != "")
	implied := !g.Set || explicit
	switch b.r.opts.Gathering {
	case "explicit":
		if !explicit {
			return nil
		}
	case "smart":
		if !implied {
			return nil
		}
		fk, ok := b.r.exec.(FactsKeeper)
		if !ok {
			break
		}
		var hosts []string
		for _, h := range b.live() {
			if !fk.HasFacts(h) {
				hosts = append(hosts, h)
			}
		}
		return hosts
	default:
		if !implied {
			return nil
		}
	}
	return b.live()
}
