package playbooks

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// DefaultRolesPath is Ansible's default roles_path.
var DefaultRolesPath = []string{"~/.ansible/roles", "/usr/share/ansible/roles", "/etc/ansible/roles"}

// playRoles is what the loader keeps about the roles of the play being loaded.
type playRoles struct {
	ran      map[string]bool // role uses (by identity) whose tasks are already in the play
	handled  map[string]bool // role uses whose handlers are already in the play
	public   []*Role         // Ansible's play.roles: roles: entries, import_role, public include_role
	all      []*Role         // every role use, for the variable layers
	handlers []*Task         // handlers of the roles: entries (they come before the play's)
	late     []*Task         // handlers of import_role and include_role (after the play's)
}

// roleRef is a role as a roles: entry, a dependency or an include names it.
type roleRef struct {
	name   string
	node   *yaml.Node // where it was named
	file   string     // in which file
	kw     Keywords
	when   []string
	params map[string]any
}

func (r *roleRef) errorf(format string, args ...any) *ParseError {
	e := nodeError(r.node, format, args...)
	e.File = r.file
	return e
}

// roleEntryKeywords are the keys of a roles: entry that are not role parameters.
var roleEntryKeywords = union(baseKeywords, words("role when delegate_to delegate_facts"))

// roleRef reads a roles: entry or a dependency: a name, or a mapping with role: (or
// name:), keywords (when, tags, vars, become, ...) and role parameters.
func (l *loader) roleRef(n *yaml.Node) (*roleRef, error) {
	n = deref(n)
	if n.Kind == yaml.ScalarNode {
		if n.Value == "" || isTemplate(n.Value) {
			return nil, l.errAt(n, "a role needs a name without templates")
		}
		return &roleRef{name: n.Value, node: n, file: l.file}, nil
	}
	f, err := l.mapping(n, "a role")
	if err != nil {
		return nil, err
	}
	key := "role"
	if !f.has("role") {
		key = "name"
	}
	name, err := l.str(f, key)
	if err != nil {
		return nil, err
	}
	if name == "" || isTemplate(name) {
		return nil, l.errAt(n, "a role needs a name without templates (role: or name:)")
	}
	ref := &roleRef{name: name, node: f.value[key], file: l.file, params: map[string]any{}}
	kw := &fields{file: f.file, node: f.node, key: map[string]*yaml.Node{}, value: map[string]*yaml.Node{}}
	for _, k := range f.keys {
		switch {
		case k == "role" || k == "name" && key == "name":
		case roleEntryKeywords[k]:
			kw.keys = append(kw.keys, k)
			kw.key[k], kw.value[k] = f.key[k], f.value[k]
		default:
			if ref.params[k], err = l.value(f, k); err != nil {
				return nil, err
			}
		}
	}
	if f.has("delegate_to") {
		return nil, l.errAt(f.key["delegate_to"], "delegate_to on a role is not supported by kpx; delegate its tasks")
	}
	if ref.kw, err = l.keywords(kw, "role"); err != nil {
		return nil, err
	}
	ref.when, err = l.strList(kw, "when", false)
	return ref, err
}

// findRole looks for a role as Ansible does: roles/ beside the playbook (the imported
// playbook for its plays), the roles path, the directory of the role that depends on it,
// the playbook's directory; then the name as a path. It returns the role's name (the last element of a path) and directory.
func (l *loader) findRole(ref *roleRef, basedir string) (string, string, error) {
	base := l.playDir
	if base == "" {
		base = l.top
	}
	search := []string{filepath.Join(base, "roles")}
	search = append(search, l.rolesPath...)
	if basedir != "" {
		search = append(search, basedir)
	}
	search = append(search, base)
	for _, dir := range search {
		p := filepath.Join(expandHome(dir), ref.name)
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			return ref.name, p, nil
		}
	}
	if p, err := filepath.Abs(expandHome(ref.name)); err == nil {
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			return filepath.Base(ref.name), p, nil
		}
	}
	return "", "", ref.errorf("the role '%s' was not found in %s", ref.name, strings.Join(search, ":"))
}

func expandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return home + p[1:]
		}
	}
	return p
}

// roleUse says how a role is used: where its files come from, whether it came from an
// include (import_role/include_role), its parents.
type roleUse struct {
	from            map[string]string // tasks, vars, defaults, handlers: the file to use instead of main
	fromInclude     bool
	allowDuplicates *bool // include_role/import_role's argument; nil for roles: and dependencies
	parents         []*Role
	basedir         string // the directory of the role that depends on this one
	run             bool   // false: load the role for its variables only (a use that does not run)
}

// loadRole loads one use of a role with its dependencies. It returns the role, the block
// of tasks it runs (nil when it does not run again) and its handlers (nil when they are
// already in the play).
func (l *loader) loadRole(ref *roleRef, use roleUse) (*Role, *Task, []*Task, error) {
	name, path, err := l.findRole(ref, use.basedir)
	if err != nil {
		return nil, nil, nil, err
	}
	for _, p := range use.parents {
		if p.Path == path {
			return nil, nil, nil, ref.errorf("a recursion loop was detected with the roles specified: %s depends on itself", name)
		}
	}
	r := &Role{Name: name, Path: path, Pos: Pos{ref.file, ref.node.Line, ref.node.Column}, Params: ref.params,
		EntryVars: ref.kw.Vars, Parents: use.parents}
	if r.Defaults, err = l.roleVarsFile(r, "defaults", use.from["defaults"]); err != nil {
		return nil, nil, nil, err
	}
	if r.Vars, err = l.roleVarsFile(r, "vars", use.from["vars"]); err != nil {
		return nil, nil, nil, err
	}
	deps, err := l.roleMeta(r)
	if err != nil {
		return nil, nil, nil, err
	}
	if use.allowDuplicates != nil {
		r.AllowDuplicates = *use.allowDuplicates
	}
	if err := l.roleLibrary(r); err != nil {
		return nil, nil, nil, err
	}
	key := roleKey(r, ref, use)
	runs := use.run && (!l.roles.ran[key] || r.AllowDuplicates)

	var block []*Task
	var handlers []*Task
	for _, d := range deps {
		dr, dt, dh, err := l.loadRole(d, roleUse{parents: append(append([]*Role(nil), use.parents...), r), basedir: filepath.Dir(path), run: runs})
		if err != nil {
			return nil, nil, nil, err
		}
		r.Deps = append(r.Deps, dr)
		if dt != nil {
			block = append(block, dt)
		}
		handlers = append(handlers, dh...)
	}
	tasks, err := l.roleTasks(r, "tasks", use.from["tasks"], false)
	if err != nil {
		return nil, nil, nil, err
	}
	own, err := l.roleTasks(r, "handlers", use.from["handlers"], true)
	if err != nil {
		return nil, nil, nil, err
	}
	l.roles.all = append(l.roles.all, r)
	if use.run && !l.roles.handled[key] {
		l.roles.handled[key] = true
		handlers = append(handlers, own...)
	}
	if !runs {
		return r, nil, handlers, nil
	}
	l.roles.ran[key] = true
	kw := ref.kw
	kw.Name, kw.Vars = "", nil
	t := &Task{Pos: r.Pos, Keywords: kw, When: ref.when, Block: &Block{Block: append(block, tasks...)}}
	return r, t, handlers, nil
}

// roleKey identifies a role use as Ansible's role cache does: the same role with the same
// parameters, conditions, tags, vars and files is the same role, which runs once per play
// unless it allows duplicates.
func roleKey(r *Role, ref *roleRef, use roleUse) string {
	b, _ := json.Marshal([]any{r.Path, ref.params, ref.when, ref.kw.Tags, ref.kw.Vars, use.from, use.fromInclude})
	return string(b)
}

// roleFile finds a role's file in dir (tasks, handlers, vars, defaults, meta): main.yml,
// main.yaml, main.json or main, or the file named by tasks_from & co. It returns "" when
// there is none, and an error when a named file is missing.
func (l *loader) roleFile(r *Role, dir, from string) (string, error) {
	d := filepath.Join(r.Path, dir)
	if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
		if from != "" {
			return "", fmt.Errorf("could not find specified file in role %s: %s/%s", r.Name, dir, from)
		}
		return "", nil
	}
	main, exts := "main", []string{".yml", ".yaml", ".json", ""}
	if from != "" {
		main, exts = from, []string{"", ".yml", ".yaml", ".json"}
	}
	for _, e := range exts {
		p := filepath.Join(d, main+e)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if from != "" {
		return "", fmt.Errorf("could not find specified file in role %s: %s/%s", r.Name, dir, from)
	}
	return "", nil
}

// roleTasks loads the role's tasks or handlers file; its tasks belong to the role.
func (l *loader) roleTasks(r *Role, dir, from string, handlers bool) ([]*Task, error) {
	p, err := l.roleFile(r, dir, from)
	if err != nil {
		return nil, &ParseError{File: r.Pos.File, Line: r.Pos.Line, Col: r.Pos.Col, Msg: err.Error()}
	}
	if p == "" {
		return nil, nil
	}
	c, err := l.child(p)
	if err != nil {
		return nil, &ParseError{File: r.Pos.File, Line: r.Pos.Line, Col: r.Pos.Col, Msg: err.Error()}
	}
	c.role = r
	root, err := c.document()
	if err != nil {
		if pe, ok := err.(*ParseError); ok && strings.HasPrefix(pe.Msg, "empty file") {
			return nil, nil
		}
		return nil, err
	}
	return c.taskList(root, "the "+dir+" file of role "+r.Name, handlers)
}

// roleVarsFile loads defaults/ or vars/: a mapping of variables. main may be a directory
// of files, merged in name order.
func (l *loader) roleVarsFile(r *Role, dir, from string) (map[string]any, error) {
	files := []string{}
	if from == "" {
		if d := filepath.Join(r.Path, dir, "main"); isDir(d) {
			entries, _ := os.ReadDir(d)
			for _, e := range entries {
				if !e.IsDir() && yamlExt(e.Name()) {
					files = append(files, filepath.Join(d, e.Name()))
				}
			}
			sort.Strings(files)
		}
	}
	if len(files) == 0 {
		p, err := l.roleFile(r, dir, from)
		if err != nil {
			return nil, &ParseError{File: r.Pos.File, Line: r.Pos.Line, Col: r.Pos.Col, Msg: err.Error()}
		}
		if p != "" {
			files = []string{p}
		}
	}
	out := map[string]any{}
	for _, p := range files {
		m, err := l.varsMapping(p, fmt.Sprintf("the %s file of role %s", dir, r.Name))
		if err != nil {
			return nil, err
		}
		for k, v := range m {
			out[k] = v
		}
	}
	return out, nil
}

// varsMapping reads a file holding a mapping of variables (empty: none).
func (l *loader) varsMapping(path, what string) (map[string]any, error) {
	c := l.sibling(path)
	root, err := c.document()
	if err != nil {
		if pe, ok := err.(*ParseError); ok && strings.HasPrefix(pe.Msg, "empty file") {
			return nil, nil
		}
		return nil, err
	}
	root = deref(root)
	if root.Kind == yaml.ScalarNode && (root.Tag == "!!null" || root.Value == "") {
		return nil, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, c.errAt(root, "%s must contain a mapping of variables, got a %s", what, kindName(root))
	}
	f := &fields{file: path, node: root, value: map[string]*yaml.Node{"": root}}
	v, err := c.value(f, "")
	if err != nil {
		return nil, err
	}
	m, _ := v.(map[string]any)
	for k := range m {
		if !identifierRE.MatchString(k) {
			return nil, c.errAt(root, "%s: %q is not a valid variable name", what, k)
		}
	}
	return m, nil
}

// roleMeta reads meta/main.yml: the role's dependencies and allow_duplicates.
func (l *loader) roleMeta(r *Role) ([]*roleRef, error) {
	p, _ := l.roleFile(r, "meta", "")
	if p == "" {
		return nil, nil
	}
	c := l.sibling(p)
	root, err := c.document()
	if err != nil {
		if pe, ok := err.(*ParseError); ok && strings.HasPrefix(pe.Msg, "empty file") {
			return nil, nil
		}
		return nil, err
	}
	if root = deref(root); root.Kind == yaml.ScalarNode && (root.Tag == "!!null" || root.Value == "") {
		return nil, nil
	}
	f, err := c.mapping(root, "meta/main.yml")
	if err != nil {
		return nil, err
	}
	if err := c.checkKeys(f, words("dependencies allow_duplicates galaxy_info collections argument_specs"), "RoleMetadata"); err != nil {
		return nil, err
	}
	dup, err := c.flag(f, "allow_duplicates")
	if err != nil {
		return nil, err
	}
	if dup.Expr != "" {
		return nil, c.errAt(f.value["allow_duplicates"], "allow_duplicates must be true or false")
	}
	r.AllowDuplicates = dup.Value
	n, ok := f.value["dependencies"]
	if !ok {
		return nil, nil
	}
	n = deref(n)
	if n.Kind == yaml.ScalarNode && (n.Tag == "!!null" || n.Value == "") {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, c.errAt(n, "dependencies must be a list of roles, got a %s", kindName(n))
	}
	var refs []*roleRef
	for _, item := range n.Content {
		ref, err := c.roleRef(item)
		if err != nil {
			return nil, err
		}
		refs = append(refs, ref)
	}
	return refs, nil
}

// roleLibrary makes the modules of the role's library/ known, as Ansible adds them to its
// module search path.
func (l *loader) roleLibrary(r *Role) error {
	dir := filepath.Join(r.Path, "library")
	if !isDir(dir) || l.library == nil {
		return nil
	}
	return l.library.add(dir)
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

func yamlExt(name string) bool {
	switch filepath.Ext(name) {
	case ".yml", ".yaml", ".json", "":
		return !strings.HasPrefix(name, ".")
	}
	return false
}

// playRolesSection reads a play's roles: and returns the blocks they run, in order.
func (l *loader) playRolesSection(n *yaml.Node) ([]*Task, error) {
	n = deref(n)
	if n.Kind == yaml.ScalarNode && (n.Tag == "!!null" || n.Value == "") {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, l.errAt(n, "roles must be a list of roles, got a %s", kindName(n))
	}
	var out []*Task
	for _, item := range n.Content {
		ref, err := l.roleRef(item)
		if err != nil {
			return nil, err
		}
		r, t, h, err := l.loadRole(ref, roleUse{run: true})
		if err != nil {
			return nil, err
		}
		l.roles.public = append(l.roles.public, r)
		l.roles.handlers = append(l.roles.handlers, h...)
		if t != nil {
			out = append(out, t)
		}
	}
	return out, nil
}

// includeRoleArgs are the arguments import_role and include_role take.
var includeRoleArgs = words("name role tasks_from vars_from defaults_from handlers_from allow_duplicates public apply rolespec_validate")

// importRole expands an import_role or include_role whose role is named without templates:
// import_role in place as a block carrying the task's keywords, include_role as the
// include's tasks (run when the include does).
func (l *loader) importRole(f *fields, t *Task) ([]*Task, error) {
	static := t.Module == "import_role"
	at := f.value[t.Action]
	for k := range t.Args {
		if !includeRoleArgs[k] {
			return nil, l.errAt(at, "invalid options for %s: %s", t.Action, k)
		}
	}
	if static && t.Args["public"] != nil {
		return nil, l.errAt(at, "invalid options for %s: public", t.Action)
	}
	if t.Args["apply"] != nil {
		return nil, l.errAt(at, "%s: apply is not supported by kpx", t.Action)
	}
	if t.Loop != nil && static {
		return nil, l.errAt(f.node, "you cannot use loops on import_role; use include_role instead")
	}
	if t.Loop != nil {
		return nil, l.errAt(f.node, "include_role with a loop is not supported by kpx")
	}
	name, _ := t.Args["name"].(string)
	if name == "" {
		name, _ = t.Args["role"].(string)
	}
	if name == "" {
		return nil, l.errAt(at, "'name' is a required field for %s", t.Action)
	}
	if isTemplate(name) {
		return nil, l.errAt(at, "%s: a role named with a template (%s) is not supported by kpx", t.Action, name)
	}
	use := roleUse{from: map[string]string{}, fromInclude: true, run: true}
	for _, k := range []string{"tasks", "vars", "defaults", "handlers"} {
		if v, ok := t.Args[k+"_from"]; ok {
			s, isStr := v.(string)
			if !isStr || isTemplate(s) {
				return nil, l.errAt(at, "%s: %s_from must be a file name without templates", t.Action, k)
			}
			use.from[k] = filepath.Base(s)
		}
	}
	dup := true
	if v, ok := t.Args["allow_duplicates"]; ok {
		b, isBool := v.(bool)
		if !isBool {
			return nil, l.errAt(at, "%s: allow_duplicates must be true or false", t.Action)
		}
		dup = b
	}
	use.allowDuplicates = &dup
	if l.role != nil {
		use.parents = append(append([]*Role(nil), l.role.Parents...), l.role)
	}
	// An include's vars are the role's entry vars (as Ansible's include_role passes them),
	// and, the include being the parent of the role's tasks, their task vars too.
	ref := &roleRef{name: name, node: at, file: l.file, params: map[string]any{}, kw: Keywords{Vars: t.Vars}}
	r, block, handlers, err := l.loadRole(ref, use)
	if err != nil {
		return nil, err
	}
	public, _ := t.Args["public"].(bool)
	if static || public {
		l.roles.public = append(l.roles.public, r)
	}
	l.roles.late = append(l.roles.late, handlers...)
	var tasks []*Task
	if block != nil {
		tasks = block.Block.Block
	}
	if !static {
		t.Included = tasks
		if t.Included == nil {
			t.Included = []*Task{} // the role does not run again: nothing to include
		}
		return []*Task{t}, nil
	}
	b := *t
	b.Action, b.Module, b.Args = "", "", nil
	b.Block = &Block{Block: tasks}
	return []*Task{&b}, nil
}

// sibling is a loader for a role's data file (vars, defaults, meta): the same settings
// (the vault among them), another file.
func (l *loader) sibling(file string) *loader {
	c := *l
	c.file = file
	return &c
}
