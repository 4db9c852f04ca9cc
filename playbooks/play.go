package playbooks

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Play is one play of a playbook.
type Play struct {
	Pos Pos
	Keywords

	Hosts             []string // host patterns, as written
	GatherFacts       Flag     // unset means gather, as Ansible's default
	Serial            Serial
	MaxFailPercentage *float64 // nil when unset
	Order             string   // inventory (default), reverse_inventory, sorted, reverse_sorted, shuffle
	Strategy          string   // linear (default) or free
	ForceHandlers     Flag
	VarsFiles         [][]string // each entry: candidate files, the first that exists is used

	PreTasks  []*Task
	Tasks     []*Task
	PostTasks []*Task
	Handlers  []*Task

	Health   *Health   // kpx: checks after each wave
	Rollback *Rollback // kpx: what undoes a failed wave

	// Set by import_playbook: conditions that apply to every task of the play.
	ImportWhen []string

	// Roles are the play's roles whose variables every task sees (Ansible's play.roles:
	// the roles: entries, import_role and public include_role), in order. Their tasks
	// are at the start of Tasks, their handlers in Handlers.
	Roles      []*Role
	roleLayers RoleLayers
}

var (
	validOrders     = words("inventory reverse_inventory sorted reverse_sorted shuffle")
	validStrategies = words("linear free")
)

func (l *loader) play(n *yaml.Node) (*Play, error) {
	f, err := l.mapping(n, "a play")
	if err != nil {
		return nil, err
	}
	if err := l.checkKeys(f, playKeywords, "Play"); err != nil {
		return nil, err
	}
	p := &Play{Pos: f.pos("")}
	if p.Keywords, err = l.keywords(f, "play"); err != nil {
		return nil, err
	}
	if err := l.playHeader(f, p); err != nil {
		return nil, err
	}
	// Read in the order the play runs, so that a role that already ran is not run again.
	l.roles = &playRoles{ran: map[string]bool{}, handled: map[string]bool{}}
	l.playDir = l.dir() // roles are looked for beside the (imported) playbook of the play
	var roleTasks []*Task
	for _, part := range []struct {
		key     string
		dst     *[]*Task
		handler bool
	}{{"pre_tasks", &p.PreTasks, false}, {"roles", &roleTasks, false}, {"tasks", &p.Tasks, false},
		{"post_tasks", &p.PostTasks, false}, {"handlers", &p.Handlers, true}} {
		n, ok := f.value[part.key]
		switch {
		case !ok:
		case part.key == "roles":
			if roleTasks, err = l.playRolesSection(n); err != nil {
				return nil, err
			}
		default:
			if *part.dst, err = l.taskList(n, part.key, part.handler); err != nil {
				return nil, err
			}
		}
	}
	p.Tasks = append(roleTasks, p.Tasks...)
	p.Handlers = append(append(l.roles.handlers, p.Handlers...), l.roles.late...)
	p.Roles = l.roles.public
	p.computeRoleLayers(l.roles.all)
	if p.Health, err = l.health(f); err != nil {
		return nil, err
	}
	if p.Rollback, err = l.rollback(f); err != nil {
		return nil, err
	}
	return p, nil
}

// playHeader reads the keywords that say where and how the play runs.
func (l *loader) playHeader(f *fields, p *Play) error {
	var err error
	if !f.has("hosts") {
		return l.errAt(f.node, "the field 'hosts' is required but was not set")
	}
	if p.Hosts, err = l.strList(f, "hosts", false); err != nil {
		return err
	}
	if len(p.Hosts) == 0 || strings.TrimSpace(strings.Join(p.Hosts, "")) == "" {
		return l.errAt(f.value["hosts"], "hosts list cannot be empty; give a host pattern such as 'all'")
	}
	if p.GatherFacts, err = l.flag(f, "gather_facts"); err != nil {
		return err
	}
	if p.ForceHandlers, err = l.flag(f, "force_handlers"); err != nil {
		return err
	}
	if n, ok := f.value["serial"]; ok {
		if err := p.Serial.UnmarshalYAML(n); err != nil {
			return l.placed(err)
		}
	}
	if err := l.maxFail(f, p); err != nil {
		return err
	}
	if p.Order, err = l.str(f, "order"); err != nil {
		return err
	}
	if p.Order != "" && !validOrders[p.Order] {
		return l.errAt(f.value["order"], "order %q is not one of %s", p.Order, strings.Join(sortedKeys(validOrders), ", "))
	}
	if p.Strategy, err = l.str(f, "strategy"); err != nil {
		return err
	}
	if p.Strategy != "" && !validStrategies[p.Strategy] {
		return l.errAt(f.value["strategy"], "strategy %q is not supported; kpx runs linear and free", p.Strategy)
	}
	return l.varsFiles(f, p)
}

// maxFail reads max_fail_percentage: a number, or a string such as "30%".
func (l *loader) maxFail(f *fields, p *Play) error {
	v, err := l.value(f, "max_fail_percentage")
	if err != nil || v == nil {
		return err
	}
	var pct float64
	switch v := v.(type) {
	case int:
		pct = float64(v)
	case float64:
		pct = v
	case string:
		pct, err = strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), "%"), 64)
		if err != nil {
			return l.errAt(f.value["max_fail_percentage"], "max_fail_percentage %q is not a percentage", v)
		}
	default:
		return l.errAt(f.value["max_fail_percentage"], "max_fail_percentage must be a number")
	}
	if pct < 0 || pct > 100 {
		return l.errAt(f.value["max_fail_percentage"], "max_fail_percentage %v is outside 0..100", pct)
	}
	p.MaxFailPercentage = &pct
	return nil
}

// varsFiles reads vars_files and checks that files named without templates exist, so that
// a typo stops the run before any host is touched.
func (l *loader) varsFiles(f *fields, p *Play) error {
	n, ok := f.value["vars_files"]
	if !ok {
		return nil
	}
	n = deref(n)
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = n.Content
	}
	for _, it := range items {
		it = deref(it)
		alts := []*yaml.Node{it}
		if it.Kind == yaml.SequenceNode {
			alts = it.Content
		}
		var names []string
		found := false
		for _, a := range alts {
			a = deref(a)
			if a.Kind != yaml.ScalarNode {
				return l.errAt(a, "vars_files: each entry must be a file name or a list of them")
			}
			names = append(names, a.Value)
			if isTemplate(a.Value) || l.exists(a.Value) {
				found = true
			}
		}
		if !found {
			return l.errAt(it, "vars_files: %s not found (relative to %s)", strings.Join(names, ", "), l.dir())
		}
		p.VarsFiles = append(p.VarsFiles, names)
	}
	return nil
}

func (l *loader) dir() string { return filepath.Dir(l.file) }

func (l *loader) resolve(name string) string {
	if filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(l.dir(), name)
}

func (l *loader) exists(name string) bool {
	_, err := os.Stat(l.resolve(name))
	return err == nil
}

// placed fills in the file of an error raised below the loader (serial parsing).
func (l *loader) placed(err error) error {
	if pe, ok := err.(*ParseError); ok && pe.File == "" {
		pe.File = l.file
	}
	return err
}
