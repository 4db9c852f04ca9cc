package rollout

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"

	"github.com/kpxdev/kpx/internal/pyvalue"
	"github.com/kpxdev/kpx/internal/vault"
	"github.com/kpxdev/kpx/modules"
	"github.com/kpxdev/kpx/playbooks"
	"github.com/kpxdev/kpx/transport"
)

// Connector gives the connection to a host, built from its variables (ansible_host,
// ansible_user, ...). Connections are pooled by the implementation.
type Connector interface {
	Conn(ctx context.Context, host string, vars map[string]any) (modules.Host, error)
}

// TaskExecutor carries out tasks the way Ansible does: variables in Ansible's precedence,
// conditions, loops, retries, registered results, and the module call on the host (or, for
// debug, fail, assert, set_fact and pause, on the controller).
type TaskExecutor struct {
	Templar   *playbooks.Templar
	Inventory Inventory
	Connector Connector
	ExtraVars map[string]any
	Check     bool // --check: modules report what they would change
	Diff      bool // --diff: modules report their changes as before/after
	// Modules finds the module a task runs on hosts: the built-ins, and the custom
	// modules of the playbook's library/ (modules.Catalog.WithLibrary).
	Modules modules.Catalog
	// DefaultBecome applies to tasks that do not say (ansible-playbook's -b, --become-user,
	// -K); nil leaves each host's ansible_become* variables in charge.
	DefaultBecome *transport.Become
	// BecomeDefaults are the become_method, become_user, become_flags and become password of
	// the command line and Ansible's configuration: they apply whenever become is on (by a
	// task's keyword, a variable or DefaultBecome) and no variable or keyword says otherwise.
	BecomeDefaults transport.Become
	// Vault decrypts vars_files encrypted whole and their inline !vault values, and
	// records what it decrypts as secrets; nil has no password.
	Vault *vault.Vault

	mu    sync.Mutex
	hosts map[string]*hostState
	play  *playState

	sharedOnce sync.Once
	groups     map[string]any     // `groups`, built once: the inventory does not change
	hostvars   playbooks.HostVars // `hostvars`, looked up lazily

	digests modules.Digests // controller files' digests, computed once per run
}

// playState is what the executor knows of the play being run.
type playState struct {
	play      *playbooks.Play
	vars      map[string]any
	varsFiles map[string]any
	hosts     []string // all hosts of the play
	batch     []string // hosts of the current batch

	// The magic variables built from hosts and batch, shared by every host's variables
	// (templates do not modify values).
	hostsList, batchList []any
}

// PlayStarted tells the executor which play and batch the next tasks belong to. It loads
// the play's vars_files.
func (e *TaskExecutor) PlayStarted(play *playbooks.Play, hosts, batch []string) error {
	ps := &playState{play: play, vars: play.Vars, hosts: hosts, batch: batch,
		hostsList: toAnyList(hosts), batchList: toAnyList(batch)}
	files, err := e.loadVarsFiles(play)
	if err != nil {
		return err
	}
	ps.varsFiles = files
	e.mu.Lock()
	e.play = ps
	e.mu.Unlock()
	return nil
}

func (e *TaskExecutor) state(host string) *hostState {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.hosts == nil {
		e.hosts = map[string]*hostState{}
	}
	s, ok := e.hosts[host]
	if !ok {
		s = &hostState{}
		e.hosts[host] = s
	}
	return s
}

func (e *TaskExecutor) currentPlay() *playState {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.play == nil {
		return &playState{}
	}
	return e.play
}

// vars composes host's variables for task.
func (e *TaskExecutor) vars(host string, t *playbooks.Task) map[string]any {
	ps := e.currentPlay()
	factLayer, setFacts := e.state(host).layers()
	var roles playbooks.RoleLayers
	if ps.play != nil {
		roles = ps.play.RoleLayers(t)
	}
	magic := e.magic(host, ps)
	if t.Role != nil {
		// As Ansible's: the role's name and directory for its tasks.
		magic["role_name"], magic["ansible_role_name"], magic["role_path"] = t.Role.Name, t.Role.Name, t.Role.Path
	}
	return varLayers{
		roleDefaults: roles.Defaults,
		inventory:    e.Inventory.HostVars(host),
		facts:        factLayer,
		play:         ps.vars,
		varsFiles:    ps.varsFiles,
		roleVars:     roles.Vars,
		task:         t.Vars,
		setFacts:     setFacts,
		roleParams:   roles.Params,
		extra:        e.ExtraVars,
		magic:        magic,
	}.merge()
}

func (e *TaskExecutor) magic(host string, ps *playState) map[string]any {
	e.sharedOnce.Do(e.buildShared)
	m := e.hostMagic(host)
	m["hostvars"] = e.hostvars
	m["ansible_play_hosts"] = ps.hostsList
	m["ansible_play_hosts_all"] = ps.hostsList
	m["ansible_play_batch"] = ps.batchList
	m["play_hosts"] = ps.batchList
	m["ansible_check_mode"] = e.Check
	m["ansible_diff_mode"] = e.Diff
	m["omit"] = playbooks.Omit
	if ps.play != nil {
		m["ansible_play_name"] = ps.play.Name
		names := toAnyList(ps.play.RoleNames())
		m["role_names"], m["ansible_play_role_names"] = names, names
	}
	return m
}

// hostMagic is the magic variables of host that do not depend on the play: those
// hostvars holds too.
func (e *TaskExecutor) hostMagic(host string) map[string]any {
	short, _, _ := strings.Cut(host, ".")
	return map[string]any{
		"inventory_hostname":       host,
		"inventory_hostname_short": short,
		"groups":                   e.groups,
		"group_names":              toAnyList(e.Inventory.GroupNames(host)),
	}
}

// buildShared builds the variables every host shares: groups and hostvars.
func (e *TaskExecutor) buildShared() {
	groups := e.Inventory.Groups()
	e.groups = toAnyMap(groups)
	e.hostvars = e.Templar.NewHostVars(groups["all"], e.hostVarsOf)
}

// hostVarsOf is what hostvars[host] holds: the host's inventory variables, facts,
// set_fact and registered variables, extra vars and its own magic variables. As in
// Ansible, play and task variables are not part of it.
func (e *TaskExecutor) hostVarsOf(host string) map[string]any {
	factLayer, setFacts := e.state(host).layers()
	return varLayers{
		inventory: e.Inventory.HostVars(host),
		facts:     factLayer,
		setFacts:  setFacts,
		extra:     e.ExtraVars,
		magic:     e.hostMagic(host),
	}.merge()
}

// Execute runs task on host; see Executor.
func (e *TaskExecutor) Execute(ctx context.Context, host string, t *playbooks.Task, emit func(Event)) Outcome {
	vars := e.vars(host, t)
	if t.Loop != nil {
		return e.loop(ctx, host, t, vars, emit)
	}
	return e.once(ctx, host, t, vars, emit)
}

// once runs a task (or one loop item) once its conditions hold.
func (e *TaskExecutor) once(ctx context.Context, host string, t *playbooks.Task, vars map[string]any, emit func(Event)) Outcome {
	for _, cond := range t.When {
		ok, err := e.Templar.Evaluate(cond, vars)
		if err != nil {
			return failed(fmt.Sprintf("The conditional check '%s' failed. The error was: %v", cond, err))
		}
		if !ok {
			// Ansible registers skipped results too: `r is skipped` must see them.
			return e.finish(t, vars, Outcome{Status: StatusSkipped, Result: map[string]any{
				"changed": false, "skipped": true, "skip_reason": "Conditional result was False", "false_condition": cond}})
		}
	}
	o := e.attempts(ctx, host, t, vars, emit)
	return e.finish(t, vars, o)
}

// ShareResult gives the other hosts of a batch what a run_once task produced on one:
// its registered result and the facts it set.
func (e *TaskExecutor) ShareResult(t *playbooks.Task, _ string, o Outcome, to []string) {
	facts, _ := o.Result["ansible_facts"].(map[string]any)
	for _, h := range to {
		st := e.state(h)
		if t.Register != "" {
			st.register(t.Register, o.Result)
		}
		for k, v := range facts {
			st.setFact(k, v)
		}
	}
}

// finish applies ignore_errors and no_log, and registers the result.
func (e *TaskExecutor) finish(t *playbooks.Task, vars map[string]any, o Outcome) Outcome {
	if o.Status == StatusFailed {
		ignore, err := e.flag(t.IgnoreErrors, vars)
		if err != nil {
			return failed(err.Error())
		}
		o.Ignored = ignore
	}
	if o.Status == StatusUnreachable {
		ignore, err := e.flag(t.IgnoreUnreachable, vars)
		if err != nil {
			return failed(err.Error())
		}
		o.Ignored = ignore
	}
	if t.Register != "" {
		e.state(vars["inventory_hostname"].(string)).register(t.Register, o.Result)
	}
	if noLog, _ := e.flag(t.NoLog, vars); noLog {
		o.Result = map[string]any{"censored": "the output has been hidden due to the fact that 'no_log: true' was specified for this result",
			"changed": o.Result["changed"]}
		// A censored loop result has no per-item results left: Ansible reports it as a
		// whole, like a task without a loop.
		o.Looped = false
	}
	return o
}

func (e *TaskExecutor) flag(f playbooks.Flag, vars map[string]any) (bool, error) {
	if f.Expr == "" {
		return f.Value, nil
	}
	return e.Templar.Evaluate(f.Expr, vars)
}

// attempts runs the action, retrying while `until` does not hold.
func (e *TaskExecutor) attempts(ctx context.Context, host string, t *playbooks.Task, vars map[string]any, emit func(Event)) Outcome {
	if len(t.Until) == 0 {
		return e.attempt(ctx, host, t, vars)
	}
	retries, delay := 3, 5
	if t.Retries.Set {
		retries = e.intValue(t.Retries, vars, 3)
	}
	if t.Delay.Set {
		delay = e.intValue(t.Delay, vars, 5)
	}
	var o Outcome
	for n := 1; ; n++ {
		o = e.attempt(ctx, host, t, vars)
		if o.Status == StatusUnreachable {
			return o
		}
		o.Result["attempts"] = n
		done := o.Status != StatusFailed
		if done {
			scoped := withRegistered(vars, t.Register, o.Result)
			for _, cond := range t.Until {
				ok, err := e.Templar.Evaluate(cond, scoped)
				if err != nil {
					return failed(err.Error())
				}
				done = done && ok
			}
		}
		if done {
			return o
		}
		if n > retries {
			o.Status = StatusFailed
			o.Result["failed"] = true
			return o
		}
		emit(TaskRetry{Host: host, Task: t.DisplayName(), Left: retries + 1 - n})
		if err := sleep(ctx, delay); err != nil {
			return failed(err.Error())
		}
	}
}

func (e *TaskExecutor) intValue(i playbooks.Int, vars map[string]any, def int) int {
	if i.Expr == "" {
		return i.Value
	}
	v, err := e.Templar.Render(i.Expr, vars)
	if err != nil {
		return def
	}
	if n, ok := v.(int); ok {
		return n
	}
	return def
}

// attempt runs the action once and applies changed_when and failed_when.
func (e *TaskExecutor) attempt(ctx context.Context, host string, t *playbooks.Task, vars map[string]any) Outcome {
	delegate, err := e.delegate(t, vars)
	if err != nil {
		return failed(err.Error())
	}
	o := e.attemptOn(ctx, host, delegate, t, vars)
	o.Delegated = delegate
	if delegate != "" && o.Result != nil {
		// Ansible's result names the delegate's address, which its output shows.
		addr := delegate
		if a, ok := e.delegateVars(delegate)["ansible_host"].(string); ok && a != "" {
			addr = a
		}
		o.Result["_ansible_delegated_vars"] = map[string]any{"ansible_host": addr}
	}
	return o
}

// delegate renders delegate_to: the host the task runs on instead, or "".
func (e *TaskExecutor) delegate(t *playbooks.Task, vars map[string]any) (string, error) {
	if t.DelegateTo == "" {
		return "", nil
	}
	v, err := e.Templar.Render(t.DelegateTo, vars)
	if err != nil {
		return "", fmt.Errorf("delegate_to: %v", err)
	}
	return pyvalue.Str(v), nil
}

func (e *TaskExecutor) attemptOn(ctx context.Context, host, delegate string, t *playbooks.Task, vars map[string]any) Outcome {
	res, err := e.action(ctx, host, delegate, t, vars)
	if err != nil {
		var ue *transport.UnreachableError
		if errors.As(err, &ue) {
			return Outcome{Status: StatusUnreachable, Result: map[string]any{"changed": false, "unreachable": true, "msg": err.Error()}}
		}
		return failed(err.Error())
	}
	scoped := withRegistered(vars, t.Register, res)
	if len(t.ChangedWhen) > 0 {
		changed, err := e.all(t.ChangedWhen, scoped)
		if err != nil {
			return failed(err.Error())
		}
		res["changed"] = changed
	}
	if len(t.FailedWhen) > 0 {
		f, err := e.all(t.FailedWhen, scoped)
		if err != nil {
			return failed(err.Error())
		}
		res["failed_when_result"] = f
		res["failed"] = f
	}
	return outcomeOf(res)
}

func (e *TaskExecutor) all(conds []string, vars map[string]any) (bool, error) {
	for _, c := range conds {
		ok, err := e.Templar.Evaluate(c, vars)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

func outcomeOf(res map[string]any) Outcome {
	if f, _ := res["failed"].(bool); f {
		return Outcome{Status: StatusFailed, Result: res}
	}
	if s, _ := res["skipped"].(bool); s {
		return Outcome{Status: StatusSkipped, Result: res}
	}
	if c, _ := res["changed"].(bool); c {
		return Outcome{Status: StatusChanged, Result: res}
	}
	return Outcome{Status: StatusOK, Result: res}
}

func failed(msg string) Outcome {
	return Outcome{Status: StatusFailed, Result: map[string]any{"failed": true, "changed": false, "msg": msg}}
}

// withRegistered adds the result under the task's register name, so that changed_when,
// failed_when and until can read it.
func withRegistered(vars map[string]any, name string, res map[string]any) map[string]any {
	if name == "" {
		return vars
	}
	scoped := maps.Clone(vars)
	scoped[name] = res
	return scoped
}

func toAnyList(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func toAnyMap(m map[string][]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = toAnyList(v)
	}
	return out
}
