package playbooks

import (
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Health is kpx's `health:` play keyword: checks run on a wave's hosts after its tasks and
// handlers, once the bake time has passed.
type Health struct {
	Pos     Pos
	Bake    time.Duration // soak time before the first check
	Retries int           // how often a check may fail before it counts
	Delay   time.Duration // between retries
	Timeout time.Duration // for all checks of a wave; 0 means none
	Checks  []*Task
}

// Rollback is kpx's `rollback:` play keyword: what undoes a failed wave.
type Rollback struct {
	Pos   Pos
	Scope string // "wave" (default): the failed wave's hosts; "all": every host the run changed
	Tasks []*Task
}

func (l *loader) health(pf *fields) (*Health, error) {
	n, ok := pf.value["health"]
	if !ok {
		return nil, nil
	}
	f, err := l.mapping(n, "health")
	if err != nil {
		return nil, err
	}
	if err := l.checkKeys(f, words("bake retries delay timeout checks"), "health section"); err != nil {
		return nil, err
	}
	h := &Health{Pos: pf.pos("health")}
	for key, dst := range map[string]*time.Duration{"bake": &h.Bake, "delay": &h.Delay, "timeout": &h.Timeout} {
		if *dst, err = l.duration(f, key); err != nil {
			return nil, err
		}
	}
	r, err := l.integer(f, "retries")
	if err != nil {
		return nil, err
	}
	if r.Expr != "" || r.Value < 0 {
		return nil, l.errAt(f.value["retries"], "health.retries must be a number of retries, 0 or more")
	}
	h.Retries = r.Value
	if !f.has("checks") {
		return nil, l.errAt(f.node, "health needs checks: a list of tasks run on each wave's hosts")
	}
	if h.Checks, err = l.taskList(f.value["checks"], "health.checks", false); err != nil {
		return nil, err
	}
	if len(h.Checks) == 0 {
		return nil, l.errAt(f.value["checks"], "health.checks is empty")
	}
	return h, nil
}

func (l *loader) rollback(pf *fields) (*Rollback, error) {
	n, ok := pf.value["rollback"]
	if !ok {
		return nil, nil
	}
	f, err := l.mapping(n, "rollback")
	if err != nil {
		return nil, err
	}
	if err := l.checkKeys(f, words("scope tasks"), "rollback section"); err != nil {
		return nil, err
	}
	r := &Rollback{Pos: pf.pos("rollback"), Scope: "wave"}
	if s, err := l.str(f, "scope"); err != nil {
		return nil, err
	} else if s != "" {
		r.Scope = s
	}
	if r.Scope != "wave" && r.Scope != "all" {
		return nil, l.errAt(f.value["scope"], "rollback.scope %q must be wave or all", r.Scope)
	}
	if !f.has("tasks") {
		return nil, l.errAt(f.node, "rollback needs tasks: what undoes a wave")
	}
	if r.Tasks, err = l.taskList(f.value["tasks"], "rollback.tasks", false); err != nil {
		return nil, err
	}
	return r, nil
}

// duration reads "2m", "10s", "1h30m", or a bare number of seconds.
func (l *loader) duration(f *fields, key string) (time.Duration, error) {
	n, ok := f.value[key]
	if !ok {
		return 0, nil
	}
	n = deref(n)
	if n.Kind == yaml.ScalarNode {
		s := strings.TrimSpace(n.Value)
		if secs, err := strconv.ParseFloat(s, 64); err == nil && secs >= 0 {
			return time.Duration(secs * float64(time.Second)), nil
		}
		if d, err := time.ParseDuration(s); err == nil && d >= 0 {
			return d, nil
		}
	}
	return 0, l.errAt(n, "%s: %q is not a duration such as 90s, 2m or 1h30m", key, n.Value)
}
