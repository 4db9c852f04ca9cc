package playbooks

import "maps"

// Role is one use of an Ansible role in a play: a `roles:` entry, a meta/main.yml
// dependency, or an import_role/include_role. Its tasks and handlers carry a pointer to
// it; the engine takes their role variables from it, in Ansible's precedence: role
// defaults below everything, role vars (vars/main.yml and the entry's `vars:`) above play
// vars and vars_files, role parameters above set_fact and registered variables.
type Role struct {
	Name   string         // as Ansible shows it before task names ("web : restart nginx")
	Path   string         // the role's directory: role_path
	Pos    Pos            // where the role was named
	Params map[string]any // role parameters: the entry's keys that are not keywords

	EntryVars map[string]any // the entry's `vars:`
	Vars      map[string]any // vars/main.yml (or vars_from)
	Defaults  map[string]any // defaults/main.yml (or defaults_from)

	// Deps are the roles of meta/main.yml's dependencies, in order, including those that
	// do not run again (they still lend their variables, as in Ansible).
	Deps []*Role
	// Parents is the chain of roles this one was reached through as a dependency,
	// outermost first.
	Parents []*Role
	// AllowDuplicates is meta/main.yml's allow_duplicates (include_role/import_role
	// default to true, as in Ansible).
	AllowDuplicates bool

	// What the engine merges, computed once the play is loaded: play-wide role defaults
	// and vars (Ansible exposes those of every role of the play) under this role's own.
	layers RoleLayers
}

// RoleLayers are the three variable layers roles contribute for a task.
type RoleLayers struct {
	Defaults, Vars, Params map[string]any
}

// RoleLayers returns the role variable layers for a task of play p: the play-wide role
// defaults and vars, and for a task of a role, its own on top, and its parameters.
func (p *Play) RoleLayers(t *Task) RoleLayers {
	if t != nil && t.Role != nil && t.Role.layers.Defaults != nil {
		return t.Role.layers
	}
	return p.roleLayers
}

// allDeps is Ansible's get_all_dependencies: each dependency after its own, recursively.
func (r *Role) allDeps() []*Role {
	var out []*Role
	for _, d := range r.Deps {
		out = append(out, d.allDeps()...)
		out = append(out, d)
	}
	return out
}

// defaultVars is Ansible's Role.get_default_vars(dep_chain).
func (r *Role) defaultVars(chain []*Role) map[string]any {
	out := map[string]any{}
	for _, d := range r.allDeps() {
		maps.Copy(out, d.defaultVars(nil))
	}
	for _, p := range chain {
		maps.Copy(out, p.Defaults)
	}
	maps.Copy(out, r.Defaults)
	return out
}

// roleVars is Ansible's Role.get_vars(dep_chain, include_params=False).
func (r *Role) roleVars(chain []*Role) map[string]any {
	out := map[string]any{}
	for _, p := range chain {
		maps.Copy(out, p.EntryVars)
		maps.Copy(out, p.Vars)
	}
	for _, d := range r.allDeps() {
		maps.Copy(out, d.roleVars(nil))
	}
	maps.Copy(out, r.EntryVars)
	maps.Copy(out, r.Vars)
	return out
}

// roleParams is Ansible's Role.get_role_params(dep_chain).
func (r *Role) roleParams() map[string]any {
	out := map[string]any{}
	for _, p := range r.Parents {
		maps.Copy(out, p.Params)
	}
	maps.Copy(out, r.Params)
	return out
}

// computeRoleLayers fills in the play-wide layers and each role's own, once every role of
// the play is known (an import_role late in the play still lends its variables to every
// task, as in Ansible).
func (p *Play) computeRoleLayers(all []*Role) {
	defs, vars := map[string]any{}, map[string]any{}
	for _, r := range p.Roles {
		maps.Copy(defs, r.defaultVars(nil))
		maps.Copy(vars, r.roleVars(nil))
	}
	p.roleLayers = RoleLayers{Defaults: defs, Vars: vars, Params: nil}
	for _, r := range all {
		d, v := maps.Clone(defs), maps.Clone(vars)
		maps.Copy(d, r.defaultVars(r.Parents))
		maps.Copy(v, r.roleVars(r.Parents))
		r.layers = RoleLayers{Defaults: d, Vars: v, Params: r.roleParams()}
	}
}

// RoleNames are the names of the play's roles, as the role_names magic variable lists
// them.
func (p *Play) RoleNames() []string {
	var out []string
	for _, r := range p.Roles {
		out = append(out, r.Name)
	}
	return out
}
