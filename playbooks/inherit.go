package playbooks

// inheritance: a task's keywords come from itself, else its enclosing blocks, else its play,
// as Ansible's attribute inheritance gives them. Conditions and environments add up
// (parent first); tags add up; vars merge with the closer scope winning. The loader
// applies it once, so consumers read effective values straight from each task.

// scope is what a task inherits: the enclosing keywords and conditions.
type scope struct {
	kw          Keywords
	when        []string
	delegateTo  string
	environment []any
}

func (p *Play) applyInheritance() {
	base := scope{kw: p.Keywords, when: p.ImportWhen}
	base.kw.Name = ""
	base.kw.Vars = nil // play vars have their own, lower place in variable precedence
	base.environment = envList(p.Environment)
	for _, list := range [][]*Task{p.PreTasks, p.Tasks, p.PostTasks, p.Handlers} {
		inheritList(base, list)
	}
	if p.Health != nil {
		inheritList(base, p.Health.Checks)
	}
	if p.Rollback != nil {
		inheritList(base, p.Rollback.Tasks)
	}
}

func inheritList(s scope, tasks []*Task) {
	for _, t := range tasks {
		inheritTask(s, t)
	}
}

func inheritTask(s scope, t *Task) {
	t.When = append(append([]string(nil), s.when...), t.When...)
	t.Tags = unionStrings(s.kw.Tags, t.Tags)
	t.Vars = mergeVars(s.kw.Vars, t.Vars)
	env := append(append([]any(nil), s.environment...), envList(t.Environment)...)
	if len(env) > 0 {
		t.Environment = env
	}
	if t.DelegateTo == "" {
		t.DelegateTo = s.delegateTo
	}
	inheritKeywords(&t.Keywords, s.kw)

	child := scope{kw: t.Keywords, when: t.When, delegateTo: t.DelegateTo, environment: env}
	child.kw.Name = ""
	if t.Block != nil {
		inheritList(child, t.Block.Block)
		inheritList(child, t.Block.Rescue)
		inheritList(child, t.Block.Always)
	}
	// A dynamic include's own keywords (when, tags, become, ...) apply to the include alone;
	// its tasks inherit from where the include stands (Ansible's `apply:` is not supported),
	// but for its vars, which its tasks see.
	inc := s
	inc.kw.Vars = t.Vars
	inheritList(inc, t.Included)
}

// inheritKeywords fills the keywords t leaves unset from parent.
func inheritKeywords(t *Keywords, parent Keywords) {
	for _, f := range []struct{ dst, src *Flag }{
		{&t.Become, &parent.Become}, {&t.IgnoreErrors, &parent.IgnoreErrors}, {&t.IgnoreUnreachable, &parent.IgnoreUnreachable},
		{&t.NoLog, &parent.NoLog}, {&t.RunOnce, &parent.RunOnce}, {&t.CheckMode, &parent.CheckMode}, {&t.Diff, &parent.Diff},
		{&t.AnyErrorsFatal, &parent.AnyErrorsFatal},
	} {
		if !f.dst.Set {
			*f.dst = *f.src
		}
	}
	for _, s := range []struct{ dst, src *string }{
		{&t.BecomeUser, &parent.BecomeUser}, {&t.BecomeMethod, &parent.BecomeMethod}, {&t.BecomeFlags, &parent.BecomeFlags},
		{&t.BecomeExe, &parent.BecomeExe}, {&t.RemoteUser, &parent.RemoteUser}, {&t.Connection, &parent.Connection},
	} {
		if *s.dst == "" {
			*s.dst = *s.src
		}
	}
	for _, i := range []struct{ dst, src *Int }{{&t.Port, &parent.Port}, {&t.Throttle, &parent.Throttle}, {&t.Timeout, &parent.Timeout}} {
		if !i.dst.Set {
			*i.dst = *i.src
		}
	}
	if len(t.Collections) == 0 {
		t.Collections = parent.Collections
	}
}

func envList(v any) []any {
	switch v := v.(type) {
	case nil:
		return nil
	case []any:
		return v
	default:
		return []any{v}
	}
}

func unionStrings(a, b []string) []string {
	if len(a) == 0 {
		return b
	}
	out := append([]string(nil), a...)
	for _, s := range b {
		found := false
		for _, x := range out {
			if x == s {
				found = true
				break
			}
		}
		if !found {
			out = append(out, s)
		}
	}
	return out
}

func mergeVars(parent, own map[string]any) map[string]any {
	if len(parent) == 0 {
		return own
	}
	out := make(map[string]any, len(parent)+len(own))
	for k, v := range parent {
		out[k] = v
	}
	for k, v := range own {
		out[k] = v
	}
	return out
}
