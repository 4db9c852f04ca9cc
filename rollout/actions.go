package rollout

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/kpxdev/kpx/internal/pyvalue"
	"github.com/kpxdev/kpx/internal/yaml11"
	"github.com/kpxdev/kpx/modules"
	"github.com/kpxdev/kpx/playbooks"
	"github.com/kpxdev/kpx/transport"
)

// action renders the task's arguments and carries out its module.
func (e *TaskExecutor) action(ctx context.Context, host, delegate string, t *playbooks.Task, vars map[string]any) (map[string]any, error) {
	rendered, err := e.Templar.RenderValue(map[string]any(t.Args), vars)
	if err != nil {
		return nil, fmt.Errorf("%s", err)
	}
	args := dropOmitted(rendered.(map[string]any))
	switch t.Module {
	case "debug":
		return e.debug(args, vars)
	case "fail":
		msg := "Failed as requested from task"
		if m, ok := args["msg"]; ok {
			msg = pyvalue.Str(m)
		}
		return map[string]any{"failed": true, "changed": false, "msg": msg}, nil
	case "assert":
		return e.assert(t, args, vars)
	case "set_fact":
		return e.setFact(host, args)
	case "pause":
		return pause(ctx, args)
	case "meta":
		return map[string]any{"changed": false, "meta": args["_raw_params"]}, nil
	case "include_tasks":
		if len(t.Included) == 0 && t.Args["_raw_params"] != nil && playbooks.IsTemplate(pyvalue.Str(t.Args["_raw_params"])) {
			return nil, fmt.Errorf("include_tasks with a templated file name is not supported yet")
		}
		return map[string]any{"changed": false, "include": args["_raw_params"], "include_args": map[string]any{}}, nil
	case "include_role":
		return map[string]any{"changed": false}, nil
	}
	mod, ok := e.Modules.Module(t.Module)
	if !ok {
		return nil, fmt.Errorf("module %s cannot run in kpx's engine yet", t.Module)
	}
	target, connVars := host, vars
	if delegate != "" {
		target, connVars = delegate, e.delegateVars(delegate)
	}
	conn, err := e.Connector.Conn(ctx, target, connVars)
	if err != nil {
		return nil, err
	}
	call := modules.Call{Args: args, Check: e.checkMode(t, vars), Become: e.become(t, vars), Find: e.finder(t), Diff: e.diffMode(t, vars), Inventory: host, Digests: &e.digests,
		Render: func(src string) (string, error) { return e.renderFile(src, vars) }}
	if call.Env, err = e.environment(t, vars); err != nil {
		return nil, err
	}
	res, err := mod.Run(ctx, conn, call)
	if err != nil {
		return nil, err
	}
	if f, ok := res["ansible_facts"].(map[string]any); ok {
		e.state(host).addFacts(f) // setup's, and custom modules' (Ansible merges any module's)
	}
	return res, nil
}

// delegateVars are the connection variables of a delegated-to host: its inventory vars, or
// for a host outside the inventory, its name as the address (localhost: the controller).
func (e *TaskExecutor) delegateVars(name string) map[string]any {
	if v := e.Inventory.HostVars(name); v != nil {
		return v
	}
	if name == "localhost" || name == "127.0.0.1" || name == "::1" {
		return map[string]any{"ansible_connection": "local"}
	}
	return map[string]any{"ansible_host": name}
}

func (e *TaskExecutor) checkMode(t *playbooks.Task, vars map[string]any) bool {
	if t.CheckMode.Set {
		b, err := e.flag(t.CheckMode, vars)
		return err == nil && b
	}
	return e.Check
}

// diffMode is the task's diff keyword, else --diff.
func (e *TaskExecutor) diffMode(t *playbooks.Task, vars map[string]any) bool {
	if t.Diff.Set {
		b, err := e.flag(t.Diff, vars)
		return err == nil && b
	}
	return e.Diff
}

// become works out a task's privilege escalation as ansible-core 2.14 does. Whether to
// become: the ansible_become variable, else the task's become keyword (inherited from its
// block, role and play), else DefaultBecome (-b, ansible.cfg's become). How: the variables
// ansible_become_method, ansible_become_user, ansible_become_flags (inventory, play or task
// vars) beat the keywords become_method, become_user, become_flags, which beat the command
// line and Ansible's configuration (BecomeDefaults, DefaultBecome), which beat sudo to root.
// nil leaves the connection's own: nothing says whether to become.
func (e *TaskExecutor) become(t *playbooks.Task, vars map[string]any) *transport.Become {
	var on bool
	switch v := vars["ansible_become"]; {
	case v != nil:
		on, _ = pyvalue.Bool(e.becomeValue(pyvalue.Str(v), vars))
	case t.Become.Set:
		b, err := e.flag(t.Become, vars)
		on = err == nil && b
	case e.DefaultBecome != nil:
		on = true
	default:
		return nil
	}
	if !on {
		return &transport.Become{}
	}
	base := e.BecomeDefaults
	if d := e.DefaultBecome; d != nil {
		base.Method = cmp.Or(base.Method, d.Method)
		base.User = cmp.Or(base.User, d.User)
		base.Flags = cmp.Or(base.Flags, d.Flags)
		base.Password = cmp.Or(base.Password, d.Password)
	}
	pick := func(names []string, keyword, def string) string {
		for _, n := range names {
			if v := vars[n]; v != nil {
				return e.becomeValue(pyvalue.Str(v), vars)
			}
		}
		return cmp.Or(e.becomeValue(keyword, vars), def)
	}
	return &transport.Become{
		Method:   cmp.Or(pick([]string{"ansible_become_method"}, t.BecomeMethod, base.Method), "sudo"),
		User:     pick([]string{"ansible_become_user"}, t.BecomeUser, base.User),
		Flags:    pick([]string{"ansible_become_flags"}, t.BecomeFlags, base.Flags),
		Password: pick([]string{"ansible_become_password", "ansible_become_pass"}, "", base.Password),
	}
}

// becomeValue renders a become setting that is a template; one that does not render is
// left as it is, for the connection to refuse.
func (e *TaskExecutor) becomeValue(s string, vars map[string]any) string {
	if !playbooks.IsTemplate(s) {
		return strings.TrimSpace(s)
	}
	v, err := e.Templar.Render(s, vars)
	if err != nil {
		return s
	}
	return strings.TrimSpace(pyvalue.Str(v))
}

// environment renders the task's environment (a list of mappings, merged in order).
func (e *TaskExecutor) environment(t *playbooks.Task, vars map[string]any) (map[string]string, error) {
	if t.Environment == nil {
		return nil, nil
	}
	rendered, err := e.Templar.RenderValue(t.Environment, vars)
	if err != nil {
		return nil, err
	}
	list, ok := rendered.([]any)
	if !ok {
		list = []any{rendered}
	}
	env := map[string]string{}
	for _, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("environment must be a mapping, got %s", pyvalue.TypeName(item))
		}
		for k, v := range m {
			env[k] = pyvalue.Str(v)
		}
	}
	return env, nil
}

func (e *TaskExecutor) debug(args, vars map[string]any) (map[string]any, error) {
	res := map[string]any{"changed": false, "_ansible_verbose_always": true}
	if name, ok := args["var"].(string); ok {
		v, err := e.Templar.Render("{{ "+name+" }}", vars)
		if err != nil {
			v = "VARIABLE IS NOT DEFINED!"
		}
		res[name] = v
		return res, nil
	}
	if m, ok := args["msg"]; ok {
		res["msg"] = m
	} else {
		res["msg"] = "Hello world!"
	}
	return res, nil
}

func (e *TaskExecutor) assert(t *playbooks.Task, args, vars map[string]any) (map[string]any, error) {
	var that []any
	switch v := t.Args["that"].(type) {
	case []any:
		that = v
	default:
		that = []any{v}
	}
	for _, c := range that {
		cond := pyvalue.Str(c)
		ok, err := e.Templar.Evaluate(cond, vars)
		if err != nil {
			return nil, fmt.Errorf("the conditional check '%s' failed: %v", cond, err)
		}
		if !ok {
			msg := "Assertion failed"
			if m, ok := args["fail_msg"]; ok {
				msg = pyvalue.Str(m)
			} else if m, ok := args["msg"]; ok {
				msg = pyvalue.Str(m)
			}
			return map[string]any{"failed": true, "changed": false, "assertion": cond, "evaluated_to": false, "msg": msg}, nil
		}
	}
	msg := "All assertions passed"
	if m, ok := args["success_msg"]; ok {
		msg = pyvalue.Str(m)
	}
	res := map[string]any{"changed": false, "msg": msg}
	if quiet, _ := pyvalue.Bool(args["quiet"]); !quiet {
		res["_ansible_verbose_always"] = true
	}
	return res, nil
}

func (e *TaskExecutor) setFact(host string, args map[string]any) (map[string]any, error) {
	facts := map[string]any{}
	st := e.state(host)
	for k, v := range args {
		if k == "cacheable" {
			continue
		}
		st.setFact(k, v)
		facts[k] = v
	}
	return map[string]any{"changed": false, "ansible_facts": facts}, nil
}

func pause(ctx context.Context, args map[string]any) (map[string]any, error) {
	secs := 0.0
	if s, ok := args["seconds"]; ok {
		secs, _ = strconv.ParseFloat(pyvalue.Str(s), 64)
	} else if m, ok := args["minutes"]; ok {
		mins, _ := strconv.ParseFloat(pyvalue.Str(m), 64)
		secs = mins * 60
	} else {
		return map[string]any{"failed": true, "changed": false,
			"msg": "pause without seconds or minutes waits for a keypress; kpx runs unattended"}, nil
	}
	start := time.Now()
	if err := sleepFor(ctx, time.Duration(secs*float64(time.Second))); err != nil {
		return nil, err
	}
	return map[string]any{"changed": false, "delta": int(time.Since(start).Seconds()), "echo": true, "user_input": "",
		"start": start.Format("2006-01-02 15:04:05.000000"), "stop": time.Now().Format("2006-01-02 15:04:05.000000")}, nil
}

func sleep(ctx context.Context, seconds int) error {
	return sleepFor(ctx, time.Duration(seconds)*time.Second)
}

func sleepFor(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// dropOmitted removes arguments whose value is the omit placeholder.
func dropOmitted(args map[string]any) map[string]any {
	for k, v := range args {
		if playbooks.IsOmit(v) {
			delete(args, k)
		}
	}
	return args
}

// loop runs the task once per item, reporting each, and aggregates the results as Ansible
// does under "results".
func (e *TaskExecutor) loop(ctx context.Context, host string, t *playbooks.Task, vars map[string]any, emit func(Event)) Outcome {
	items, err := e.loopItems(t, vars)
	if err != nil {
		return failed(err.Error())
	}
	loopVar, label := "item", ""
	if lc := t.LoopControl; lc != nil {
		loopVar, label = lc.LoopVar, lc.Label
	}
	var results []any
	changed, anyFailed, allSkipped := false, false, true
	for i, item := range items {
		iv := maps.Clone(vars)
		iv[loopVar] = item
		if t.LoopControl != nil && t.LoopControl.IndexVar != "" {
			iv[t.LoopControl.IndexVar] = i
		}
		o := e.once(ctx, host, withoutRegister(t), iv, emit)
		_, censored := o.Result["censored"]
		if !censored {
			o.Result[loopVar] = item
			o.Result["ansible_loop_var"] = loopVar
		}
		hr := HostResult{Host: host, Status: o.Status, Result: o.Result, Action: t.Module, Item: item, HasItem: true, Ignored: o.Ignored, Delegated: o.Delegated}
		if censored {
			hr.Item, hr.Label = nil, "None" // no_log hides the item too, as Ansible does
		} else if label != "" {
			if l, err := e.Templar.Render(label, iv); err == nil {
				hr.Label = pyvalue.Str(l)
			}
		}
		emit(hr)
		results = append(results, o.Result)
		changed = changed || o.Status == StatusChanged
		anyFailed = anyFailed || o.Status == StatusFailed
		allSkipped = allSkipped && o.Status == StatusSkipped
	}
	res := map[string]any{"changed": changed, "results": results, "msg": "All items completed"}
	o := Outcome{Status: StatusOK, Result: res, Looped: true}
	switch {
	case anyFailed:
		res["failed"], res["msg"] = true, "One or more items failed"
		o.Status = StatusFailed
	case len(items) > 0 && allSkipped:
		res["skipped"] = true
		o.Status = StatusSkipped
	case changed:
		o.Status = StatusChanged
	}
	return e.finish(t, vars, o)
}

// withoutRegister is t for one loop item: the aggregate, not each item, is registered.
func withoutRegister(t *playbooks.Task) *playbooks.Task {
	c := *t
	c.Register = ""
	return &c
}

func (e *TaskExecutor) loopItems(t *playbooks.Task, vars map[string]any) ([]any, error) {
	v, err := e.Templar.RenderValue(t.Loop, vars)
	if err != nil {
		return nil, err
	}
	switch t.LoopWith {
	case "", "items", "list":
		if list, ok := v.([]any); ok {
			if t.LoopWith == "items" {
				return flattenOnce(list), nil
			}
			return list, nil
		}
		return nil, fmt.Errorf("loop needs a list, got %s", pyvalue.TypeName(v))
	case "dict":
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("with_dict needs a mapping, got %s", pyvalue.TypeName(v))
		}
		var out []any
		for _, k := range sortedMapKeys(m) {
			out = append(out, map[string]any{"key": k, "value": m[k]})
		}
		return out, nil
	}
	return nil, fmt.Errorf("with_%s loops are not supported; use loop", t.LoopWith)
}

func flattenOnce(list []any) []any {
	var out []any
	for _, x := range list {
		if l, ok := x.([]any); ok {
			out = append(out, l...)
		} else {
			out = append(out, x)
		}
	}
	return out
}

func sortedMapKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// loadVarsFiles reads a play's vars_files: for each entry, the first of its candidates
// that exists, named with the play's vars and the extra vars.
func (e *TaskExecutor) loadVarsFiles(play *playbooks.Play) (map[string]any, error) {
	out := map[string]any{}
	base := maps.Clone(play.Vars)
	if base == nil {
		base = map[string]any{}
	}
	maps.Copy(base, e.ExtraVars)
	for _, alts := range play.VarsFiles {
		var loaded bool
		for _, name := range alts {
			v, err := e.Templar.Render(name, base)
			if err != nil {
				continue
			}
			path := pyvalue.Str(v)
			if !filepath.IsAbs(path) {
				path = filepath.Join(filepath.Dir(play.Pos.File), path)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				continue
			}
			data, encrypted, err := e.Vault.DecryptFile(path, data)
			if err != nil {
				return nil, err
			}
			var doc yaml.Node
			if err := yaml.Unmarshal(data, &doc); err != nil {
				return nil, fmt.Errorf("vars_files %s: %v", path, err)
			}
			if err := e.Vault.DecryptNodes(path, &doc); err != nil {
				return nil, err
			}
			val, err := yaml11.Decode(&doc)
			if err != nil {
				return nil, fmt.Errorf("vars_files %s: %v", path, err)
			}
			if encrypted {
				e.Vault.AddSecretsIn(val)
			}
			m, ok := val.(map[string]any)
			if !ok && val != nil {
				return nil, fmt.Errorf("vars_files %s: must hold a mapping of variables", path)
			}
			maps.Copy(out, m)
			loaded = true
			break
		}
		if !loaded {
			return nil, fmt.Errorf("vars_files: none of %v could be read", alts)
		}
	}
	return out, nil
}
