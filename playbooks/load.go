package playbooks

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/kpxdev/kpx/internal/vault"
)

// Playbook is a loaded, validated playbook: its plays in order, imports resolved.
type Playbook struct {
	Path  string
	Plays []*Play
}

// LoadOptions configure Load.
type LoadOptions struct {
	// Modules checks module names and arguments; nil accepts any name (syntax only).
	Modules ModuleChecker
	// RolesPath is where roles are looked for after roles/ beside the playbook (ansible.cfg's
	// roles_path, ANSIBLE_ROLES_PATH); nil means Ansible's default, DefaultRolesPath.
	RolesPath []string
	// RoleLibrary, when set, adds the custom modules of a role's library/ directory to
	// Modules and returns the checker that knows them (it is used from then on).
	RoleLibrary func(dir string) (ModuleChecker, error)
	// Vault decrypts files encrypted whole and inline !vault values, and records what it
	// decrypts as secrets; nil has no password (encrypted content is an error).
	Vault *vault.Vault
}

// Load reads the playbook at path with everything it imports, and validates all of it:
// keywords, module names and arguments, serial, loops, file references. The first problem
// is returned as a *ParseError naming file, line and column; nothing is run.
func Load(path string, opts LoadOptions) (*Playbook, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	l := &loader{file: abs, top: filepath.Dir(abs), modules: opts.Modules, templar: NewTemplar(TemplarOptions{}),
		rolesPath: opts.RolesPath, vault: opts.Vault}
	if l.rolesPath == nil {
		l.rolesPath = DefaultRolesPath
	}
	if opts.Modules != nil && opts.RoleLibrary != nil {
		lm := &libraryModules{checker: opts.Modules, addDir: opts.RoleLibrary}
		l.modules, l.library = lm, lm
	}
	plays, err := l.playbook()
	if err != nil {
		return nil, err
	}
	for _, p := range plays {
		if err := l.checkTemplates(p); err != nil {
			return nil, err
		}
		p.applyInheritance()
	}
	return &Playbook{Path: abs, Plays: plays}, nil
}

type loader struct {
	file    string   // the file being read
	top     string   // the directory of the top playbook
	stack   []string // files being read, outermost first, to refuse import cycles
	modules ModuleChecker
	templar *Templar // for syntax checks only

	rolesPath []string
	library   *libraryModules // nil: roles' library/ directories are not looked at
	roles     *playRoles      // the roles of the play being read
	role      *Role           // the role whose file this is; nil outside roles
	playDir   string          // the directory of the playbook file of the play being read
	vault     *vault.Vault    // decrypts vaulted files and values; nil has no password
}

// child is a loader for a file that the current one refers to.
func (l *loader) child(file string) (*loader, error) {
	for _, f := range l.stack {
		if f == file {
			return nil, fmt.Errorf("import cycle: %s", strings.Join(append(l.stack, l.file, file), " -> "))
		}
	}
	c := *l
	c.file, c.stack = file, append(l.stack[:len(l.stack):len(l.stack)], l.file)
	return &c, nil
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// document reads and parses the loader's file.
func (l *loader) document() (*yaml.Node, error) {
	data, err := os.ReadFile(l.file)
	if err != nil {
		return nil, &ParseError{File: l.file, Msg: err.Error()}
	}
	data, encrypted, err := l.vault.DecryptFile(l.file, data)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		pe := &ParseError{File: l.file, Msg: "YAML syntax error: " + strings.TrimPrefix(err.Error(), "yaml: ")}
		if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
			pe.Line, _ = strconv.Atoi(m[1])
			pe.Msg = "YAML syntax error: " + m[2]
		}
		return nil, pe
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, &ParseError{File: l.file, Msg: "empty file, nothing to do"}
	}
	if err := l.vault.DecryptNodes(l.file, &doc); err != nil {
		return nil, err
	}
	if encrypted {
		noteSecrets(l.vault, doc.Content[0])
	}
	return doc.Content[0], nil
}

// noteSecrets records the values of a file encrypted whole as secrets: every value of a
// vars file (role defaults and vars are mappings), the values under vars: of a playbook
// or task file (a list), whose task and module names are not secrets.
func noteSecrets(v *vault.Vault, root *yaml.Node) {
	if deref(root).Kind == yaml.MappingNode {
		v.AddSecretsUnder(root)
		return
	}
	v.AddSecretsUnder(root, "vars")
}

func (l *loader) playbook() ([]*Play, error) {
	root, err := l.document()
	if err != nil {
		return nil, err
	}
	root = deref(root)
	if root.Kind != yaml.SequenceNode {
		return nil, l.errAt(root, "a playbook must be a list of plays, got a %s", kindName(root))
	}
	var plays []*Play
	for _, item := range root.Content {
		f, err := l.mapping(item, "a play")
		if err != nil {
			return nil, err
		}
		if key := importKey(f); key != "" {
			imported, err := l.importPlaybook(f, key)
			if err != nil {
				return nil, err
			}
			plays = append(plays, imported...)
			continue
		}
		p, err := l.play(item)
		if err != nil {
			return nil, err
		}
		plays = append(plays, p)
	}
	return plays, nil
}

func importKey(f *fields) string {
	for _, k := range []string{"import_playbook", "ansible.builtin.import_playbook", "ansible.legacy.import_playbook"} {
		if f.has(k) {
			return k
		}
	}
	return ""
}

// importPlaybook splices in the plays of another playbook. Its vars, tags and when apply to
// every imported play.
func (l *loader) importPlaybook(f *fields, key string) ([]*Play, error) {
	if err := l.checkKeys(f, words(key+" name vars tags when"), "import_playbook"); err != nil {
		return nil, err
	}
	name, err := l.str(f, key)
	if err != nil {
		return nil, err
	}
	if name == "" || isTemplate(name) {
		return nil, l.errAt(f.value[key], "import_playbook needs a file name without templates")
	}
	k, err := l.keywords(f, "import_playbook")
	if err != nil {
		return nil, err
	}
	when, err := l.strList(f, "when", false)
	if err != nil {
		return nil, err
	}
	c, err := l.child(l.resolve(name))
	if err != nil {
		return nil, l.errAt(f.value[key], "%v", err)
	}
	plays, err := c.playbook()
	if err != nil {
		return nil, err
	}
	for _, p := range plays {
		p.Tags = append(append([]string(nil), k.Tags...), p.Tags...)
		p.ImportWhen = append(append([]string(nil), when...), p.ImportWhen...)
		if len(k.Vars) > 0 {
			merged := map[string]any{}
			for n, v := range k.Vars {
				merged[n] = v
			}
			for n, v := range p.Vars {
				merged[n] = v
			}
			p.Vars = merged
		}
	}
	return plays, nil
}

// taskFile reads a file holding a list of tasks.
func (l *loader) taskFile(handlers bool) ([]*Task, error) {
	root, err := l.document()
	if err != nil {
		return nil, err
	}
	return l.taskList(root, "a task file", handlers)
}

// taskFileName finds the file an import_tasks/include_tasks names, looking beside the
// current file first, then beside the playbook.
func (l *loader) taskFileName(t *Task) (string, bool) {
	name, _ := t.Args[rawParamsKey].(string)
	if f, ok := t.Args["file"].(string); ok && name == "" {
		name = f
	}
	name = strings.TrimSpace(name)
	if name == "" || isTemplate(name) {
		return name, false
	}
	if filepath.IsAbs(name) {
		return name, true
	}
	for _, dir := range []string{l.dir(), l.top} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p, true
		}
	}
	return filepath.Join(l.dir(), name), true
}

// importTasks expands an import_tasks in place: a block of the imported tasks, carrying the
// import's keywords (when, tags, vars, become, ...).
func (l *loader) importTasks(f *fields, t *Task, handlers bool) ([]*Task, error) {
	if t.Loop != nil {
		return nil, l.errAt(f.node, "you cannot use loops on import_tasks; use include_tasks instead")
	}
	path, static := l.taskFileName(t)
	if !static {
		return nil, l.errAt(f.value[t.Action], "import_tasks needs a file name without templates (%q); use include_tasks for a dynamic one", path)
	}
	tasks, err := l.loadTaskFile(f, t, path, handlers)
	if err != nil {
		return nil, err
	}
	b := *t
	b.Action, b.Module, b.Args = "", "", nil
	b.Block = &Block{Block: tasks}
	return []*Task{&b}, nil
}

// includeTasks validates the file of an include_tasks now when its name is fixed; it runs
// when the include does.
func (l *loader) includeTasks(f *fields, t *Task, handlers bool) error {
	path, static := l.taskFileName(t)
	if path == "" {
		return l.errAt(f.value[t.Action], "include_tasks needs a file name")
	}
	if !static {
		return nil
	}
	var err error
	t.Included, err = l.loadTaskFile(f, t, path, handlers)
	return err
}

func (l *loader) loadTaskFile(f *fields, t *Task, path string, handlers bool) ([]*Task, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, l.errAt(f.value[t.Action], "%s: %s not found", t.Action, path)
	}
	c, err := l.child(path)
	if err != nil {
		return nil, l.errAt(f.value[t.Action], "%v", err)
	}
	return c.taskFile(handlers)
}
