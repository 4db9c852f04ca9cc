package playbooks

import (
	"strings"

	"gopkg.in/yaml.v3"
)

// Task is one entry of a task list: a module call, or a block of tasks (Block != nil).
type Task struct {
	Pos Pos
	Keywords

	When          []string // conditions, all of which must hold
	Notify        []string
	DelegateTo    string
	DelegateFacts Flag

	// The module call; empty for a block.
	Action   string         // the module's name as written, e.g. "ansible.builtin.command"
	Module   string         // kpx's name for it, e.g. "command"
	Args     map[string]any // arguments; free-form text is under "_raw_params"
	ArgsPos  Pos
	Register string

	ChangedWhen []string
	FailedWhen  []string
	Until       []string
	Retries     Int
	Delay       Int

	Loop        any    // the loop: a list, or a template giving one
	LoopWith    string // the lookup of a with_<lookup> loop ("items", "dict", ...); empty for loop:
	LoopControl *LoopControl

	Listen []string // handlers: the topics the handler also answers to

	Block *Block

	// Included holds the tasks of an include_tasks whose file name is not templated (or of
	// the role of an include_role): they are validated at load time, though they run only
	// when the include does.
	Included []*Task

	// Role is the role the task comes from; nil for a playbook's own tasks.
	Role *Role
}

// LoopControl is a task's `loop_control`.
type LoopControl struct {
	LoopVar  string
	IndexVar string
	Label    string
	Pause    float64
	Extended Flag
}

// Block groups tasks with rescue and always sections.
type Block struct {
	Block  []*Task
	Rescue []*Task
	Always []*Task
}

// DisplayName is what Ansible prints in TASK [...]: the name, or the action when unnamed,
// after "role : " for a role's task; an include_role is "include_role : role" unless named.
func (t *Task) DisplayName() string {
	if t.Module == "include_role" || t.Module == "import_role" {
		if t.Name != "" {
			return t.Name
		}
		name, _ := t.Args["name"].(string)
		if name == "" {
			name, _ = t.Args["role"].(string)
		}
		return t.Action + " : " + name
	}
	name := t.Name
	if name == "" {
		name = t.Action
	}
	if t.Role != nil {
		return t.Role.Name + " : " + name
	}
	return name
}

// Free-form modules take a command line as their argument text; only a few options may be
// written inline as key=value. Raw-parameter modules accept free-form text at all.
var (
	freeFormModules = words("command shell raw script")
	rawParamModules = union(freeFormModules, words("include_vars include_tasks include_role import_tasks "+
		"import_role add_host group_by set_fact meta"))
	builtinTasks = words("meta include_tasks import_tasks include_role import_role")
)

// canonicalModule maps Ansible's fully qualified built-in names to kpx's short ones.
func canonicalModule(name string) string {
	for _, prefix := range []string{"ansible.builtin.", "ansible.legacy."} {
		if rest, ok := strings.CutPrefix(name, prefix); ok {
			return rest
		}
	}
	return name
}

// taskList reads a list of tasks (tasks, pre_tasks, block, rescue, handlers, ...).
func (l *loader) taskList(n *yaml.Node, what string, handlers bool) ([]*Task, error) {
	n = deref(n)
	if n == nil || (n.Kind == yaml.ScalarNode && (n.Tag == "!!null" || n.Value == "")) {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, l.errAt(n, "%s must be a list of tasks, got a %s", what, kindName(n))
	}
	var out []*Task
	for _, item := range n.Content {
		ts, err := l.task(item, handlers)
		if err != nil {
			return nil, err
		}
		out = append(out, ts...)
	}
	return out, nil
}

// task reads one task list entry. import_tasks entries expand in place, so it may return
// several tasks (as one block carrying the import's keywords).
func (l *loader) task(n *yaml.Node, handler bool) ([]*Task, error) {
	f, err := l.mapping(n, "a task")
	if err != nil {
		return nil, err
	}
	if f.has("block") {
		t, err := l.block(f)
		return []*Task{t}, err
	}
	allowed := taskKeywords
	if handler {
		allowed = handlerKeywords
	}
	t := &Task{Pos: f.pos(""), Role: l.role}
	if t.Keywords, err = l.keywords(f, "task"); err != nil {
		return nil, err
	}
	if err := l.action(f, t, allowed); err != nil {
		return nil, err
	}
	if err := l.taskKeywords(f, t); err != nil {
		return nil, err
	}
	if l.modules != nil && !builtinTasks[t.Module] {
		if err := l.modules.CheckArgs(t.Module, t.Args); err != nil {
			return nil, &ParseError{File: l.file, Line: t.ArgsPos.Line, Col: t.ArgsPos.Col, Msg: t.Action + ": " + err.Error()}
		}
	}
	switch t.Module {
	case "import_tasks":
		return l.importTasks(f, t, handler)
	case "include_tasks":
		return []*Task{t}, l.includeTasks(f, t, handler)
	case "import_role", "include_role":
		return l.importRole(f, t)
	case "meta":
		return []*Task{t}, l.checkMeta(f, t)
	}
	return []*Task{t}, nil
}

func (l *loader) block(f *fields) (*Task, error) {
	if err := l.checkKeys(f, blockKeywords, "Block"); err != nil {
		return nil, err
	}
	t := &Task{Pos: f.pos(""), Block: &Block{}, Role: l.role}
	var err error
	if t.Keywords, err = l.keywords(f, "block"); err != nil {
		return nil, err
	}
	if err := l.sharedTaskKeywords(f, t); err != nil {
		return nil, err
	}
	for _, part := range []struct {
		key string
		dst *[]*Task
	}{{"block", &t.Block.Block}, {"rescue", &t.Block.Rescue}, {"always", &t.Block.Always}} {
		if n, ok := f.value[part.key]; ok {
			if *part.dst, err = l.taskList(n, part.key, false); err != nil {
				return nil, err
			}
		}
	}
	return t, nil
}

// sharedTaskKeywords reads what blocks and tasks both have: when, notify, delegate_to.
func (l *loader) sharedTaskKeywords(f *fields, t *Task) error {
	var err error
	if t.When, err = l.strList(f, "when", false); err != nil {
		return err
	}
	if t.Notify, err = l.strList(f, "notify", false); err != nil {
		return err
	}
	if f.has("delegate_to") { // local_action has set it already otherwise
		if t.DelegateTo, err = l.str(f, "delegate_to"); err != nil {
			return err
		}
	}
	t.DelegateFacts, err = l.flag(f, "delegate_facts")
	return err
}

func (l *loader) taskKeywords(f *fields, t *Task) error {
	if err := l.sharedTaskKeywords(f, t); err != nil {
		return err
	}
	var err error
	if t.Register, err = l.str(f, "register"); err != nil {
		return err
	}
	if t.Register != "" && !identifierRE.MatchString(t.Register) {
		return l.errAt(f.value["register"], "register: %q is not a valid variable name", t.Register)
	}
	for key, dst := range map[string]*[]string{"changed_when": &t.ChangedWhen, "failed_when": &t.FailedWhen, "until": &t.Until, "listen": &t.Listen} {
		if *dst, err = l.strList(f, key, false); err != nil {
			return err
		}
	}
	if t.Retries, err = l.integer(f, "retries"); err != nil {
		return err
	}
	if t.Delay, err = l.integer(f, "delay"); err != nil {
		return err
	}
	if err := l.loop(f, t); err != nil {
		return err
	}
	return l.loopControl(f, t)
}

func (l *loader) loop(f *fields, t *Task) error {
	var seen string
	for _, k := range f.keys {
		lookup, isWith := strings.CutPrefix(k, "with_")
		if k != "loop" && !isWith {
			continue
		}
		if seen != "" {
			return l.errAt(f.key[k], "duplicate loop in task: %s and %s", seen, k)
		}
		seen = k
		if isWith {
			t.LoopWith = lookup
		}
		var err error
		if t.Loop, err = l.value(f, k); err != nil {
			return err
		}
	}
	return nil
}

func (l *loader) loopControl(f *fields, t *Task) error {
	n, ok := f.value["loop_control"]
	if !ok {
		return nil
	}
	lf, err := l.mapping(n, "loop_control")
	if err != nil {
		return err
	}
	if err := l.checkKeys(lf, words("loop_var index_var label pause extended extended_allitems"), "LoopControl"); err != nil {
		return err
	}
	lc := &LoopControl{LoopVar: "item"}
	if v, _ := l.str(lf, "loop_var"); v != "" {
		lc.LoopVar = v
	}
	if lc.IndexVar, err = l.str(lf, "index_var"); err != nil {
		return err
	}
	if lc.Label, err = l.str(lf, "label"); err != nil {
		return err
	}
	if p, err := l.value(lf, "pause"); err != nil {
		return err
	} else if p != nil {
		switch p := p.(type) {
		case int:
			lc.Pause = float64(p)
		case float64:
			lc.Pause = p
		default:
			return l.errAt(lf.value["pause"], "loop_control.pause must be a number of seconds")
		}
	}
	if lc.Extended, err = l.flag(lf, "extended"); err != nil {
		return err
	}
	t.LoopControl = lc
	return nil
}

// metaActions are the meta actions kpx carries out. refresh_inventory does nothing: kpx's
// inventories are static. clear_facts, clear_host_errors and reset_connection are refused
// at load time rather than ignored.
var (
	metaActions     = words("flush_handlers refresh_inventory noop end_play end_host end_batch")
	unsupportedMeta = words("clear_facts clear_host_errors reset_connection")
)

func (l *loader) checkMeta(f *fields, t *Task) error {
	a, _ := t.Args[rawParamsKey].(string)
	if unsupportedMeta[a] {
		return l.errAt(f.value[t.Action], "meta: %s is not supported by kpx; supported are %s", a, strings.Join(sortedKeys(metaActions), ", "))
	}
	if !metaActions[a] && !isTemplate(a) {
		return l.errAt(f.value[t.Action], "meta: %q is not a meta action; valid ones are %s", a, strings.Join(sortedKeys(metaActions), ", "))
	}
	return nil
}
