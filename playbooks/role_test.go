package playbooks

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// writeTree writes files (path -> content) under a new directory and returns it.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// roleProject is a small project: base (defaults, vars, handlers), app depending on base
// twice (once with a parameter), dup allowing duplicates.
func roleProject() map[string]string {
	return map[string]string{
		"roles/base/defaults/main.yml":   "d: base-default\nshared: base\n",
		"roles/base/vars/main.yml":       "v: base-vars\n",
		"roles/base/tasks/main.yml":      "- name: base task\n  debug: msg=base\n- ansible.builtin.command: echo hi\n",
		"roles/base/handlers/main.yml":   "- name: restart base\n  debug: msg=restart\n",
		"roles/app/meta/main.yml":        "galaxy_info: {author: x}\ndependencies:\n  - base\n  - role: base\n    flavour: deluxe\n",
		"roles/app/defaults/main.yml":    "shared: app\nport: 80\n",
		"roles/app/tasks/main.yml":       "- name: app task\n  debug: msg=app\n",
		"roles/app/tasks/extra.yml":      "- name: extra task\n  debug: msg=extra\n",
		"roles/app/handlers/main.yml":    "- name: restart app\n  debug: msg=restart\n",
		"roles/dup/meta/main.yml":        "allow_duplicates: true\n",
		"roles/dup/tasks/main.yml":       "- name: dup task\n  debug: msg=dup\n",
		"elsewhere/extra/tasks/main.yml": "- name: from the roles path\n  debug: msg=x\n",
	}
}

// taskNames lists the display names of tasks, blocks flattened, includes' tasks after
// them in brackets.
func taskNames(tasks []*Task) []string {
	var out []string
	for _, t := range tasks {
		switch {
		case t.Block != nil:
			out = append(out, taskNames(t.Block.Block)...)
		case t.Included != nil:
			out = append(out, t.DisplayName()+" ["+strings.Join(taskNames(t.Included), ", ")+"]")
		default:
			out = append(out, t.DisplayName())
		}
	}
	return out
}

func TestRoles(t *testing.T) {
	cases := []struct {
		name     string
		play     string
		tasks    []string
		handlers []string
	}{
		{"dependencies first, a role once per play",
			"  roles: [app, base]\n",
			[]string{"base : base task", "base : ansible.builtin.command", "base : base task", "base : ansible.builtin.command", "app : app task"},
			[]string{"base : restart base", "base : restart base", "app : restart app"}},
		{"different parameters run again, duplicates allowed",
			"  roles:\n    - dup\n    - dup\n    - role: base\n      x: 1\n    - {name: base, x: 1}\n    - base\n",
			[]string{"dup : dup task", "dup : dup task", "base : base task", "base : ansible.builtin.command", "base : base task", "base : ansible.builtin.command"},
			[]string{"base : restart base", "base : restart base"}},
		{"roles before tasks, after pre_tasks",
			"  pre_tasks: [{name: pre, debug: msg=x}]\n  tasks: [{name: task, debug: msg=x}]\n  roles: [dup]\n",
			[]string{"pre", "dup : dup task", "task"}, nil},
		{"import_role and include_role",
			"  tasks:\n    - import_role: {name: app, tasks_from: extra}\n    - ansible.builtin.include_role: {name: app}\n    - name: named\n      include_role: {name: dup}\n",
			[]string{"base : base task", "base : ansible.builtin.command", "base : base task", "base : ansible.builtin.command",
				"app : extra task", "ansible.builtin.include_role : app [app : app task]", "named [dup : dup task]"},
			[]string{"base : restart base", "base : restart base", "app : restart app", "app : restart app"}},
		{"the roles path",
			"  roles: [extra]\n",
			[]string{"extra : from the roles path"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := writeTree(t, roleProject())
			p := filepath.Join(dir, "site.yml")
			if err := os.WriteFile(p, []byte("- hosts: all\n"+c.play), 0o644); err != nil {
				t.Fatal(err)
			}
			pb, err := Load(p, LoadOptions{Modules: testModules(), RolesPath: []string{filepath.Join(dir, "elsewhere")}})
			if err != nil {
				t.Fatal(err)
			}
			play := pb.Plays[0]
			got := taskNames(append(append(append([]*Task(nil), play.PreTasks...), play.Tasks...), play.PostTasks...))
			if !reflect.DeepEqual(got, c.tasks) {
				t.Errorf("tasks\n got  %q\n want %q", got, c.tasks)
			}
			if got := taskNames(play.Handlers); !reflect.DeepEqual(got, c.handlers) {
				t.Errorf("handlers\n got  %q\n want %q", got, c.handlers)
			}
		})
	}
}

func TestRoleEntryKeywordsAndVariables(t *testing.T) {
	dir := writeTree(t, roleProject())
	p := filepath.Join(dir, "site.yml")
	play := "- hosts: all\n  roles:\n    - role: app\n      when: x is defined\n      tags: [web]\n      become: true\n      vars: {ev: 1}\n      http_port: 8080\n"
	if err := os.WriteFile(p, []byte(play), 0o644); err != nil {
		t.Fatal(err)
	}
	pb, err := Load(p, LoadOptions{Modules: testModules()})
	if err != nil {
		t.Fatal(err)
	}
	pl := pb.Plays[0]
	var appTask *Task
	var walk func([]*Task)
	walk = func(ts []*Task) {
		for _, t := range ts {
			if t.Block != nil {
				walk(t.Block.Block)
			} else if t.Name == "app task" {
				appTask = t
			}
		}
	}
	walk(pl.Tasks)
	if appTask == nil {
		t.Fatal("app task not found")
	}
	if !reflect.DeepEqual(appTask.When, []string{"x is defined"}) || !reflect.DeepEqual(appTask.Tags, []string{"web"}) || !appTask.Become.Value {
		t.Errorf("role keywords not inherited: when %q tags %q become %v", appTask.When, appTask.Tags, appTask.Become)
	}
	if appTask.Vars["ev"] != nil {
		t.Errorf("the entry's vars are role vars, not task vars: %v", appTask.Vars)
	}
	l := pl.RoleLayers(appTask)
	if l.Defaults["shared"] != "app" || l.Defaults["d"] != "base-default" || l.Vars["v"] != "base-vars" || l.Vars["ev"] != 1 || l.Params["http_port"] != 8080 {
		t.Errorf("layers %+v", l)
	}
	if r := appTask.Role; r.Name != "app" || r.Path != filepath.Join(dir, "roles/app") {
		t.Errorf("role %s at %s", r.Name, r.Path)
	}
	if got := pl.RoleNames(); !reflect.DeepEqual(got, []string{"app"}) {
		t.Errorf("role names %q", got)
	}
	// A play task sees every role's defaults and vars (Ansible's play-wide role variables).
	if l := pl.RoleLayers(&Task{}); l.Defaults["port"] != 80 || l.Vars["v"] != "base-vars" || l.Params != nil {
		t.Errorf("play-wide layers %+v", l)
	}
}

func TestRoleErrors(t *testing.T) {
	cases := []struct {
		name, play string
		files      map[string]string
		want       string // after the file name
	}{
		{"missing role", "  roles:\n    - nosuch\n", nil, "site.yml:3:7: the role 'nosuch' was not found in "},
		{"missing role in a mapping", "  roles:\n    - role: nosuch\n      x: 1\n", nil, "site.yml:3:13: the role 'nosuch' was not found"},
		{"missing dependency", "  roles: [bad]\n", map[string]string{"roles/bad/meta/main.yml": "dependencies:\n  - role: gone\n"},
			"roles/bad/meta/main.yml:2:11: the role 'gone' was not found"},
		{"bad task in a role", "  roles: [bad]\n", map[string]string{"roles/bad/tasks/main.yml": "- name: x\n  community.general.ufw: {rule: allow}\n"},
			`roles/bad/tasks/main.yml:2:3: couldn't resolve module/action "community.general.ufw"`},
		{"recursion", "  roles: [a]\n", map[string]string{"roles/a/meta/main.yml": "dependencies: [b]\n", "roles/b/meta/main.yml": "dependencies: [a]\n"},
			"roles/b/meta/main.yml:1:16: a recursion loop was detected"},
		{"bad meta", "  roles: [bad]\n", map[string]string{"roles/bad/meta/main.yml": "dependencies: nope\n"},
			"roles/bad/meta/main.yml:1:15: dependencies must be a list of roles"},
		{"vars not a mapping", "  roles: [bad]\n", map[string]string{"roles/bad/vars/main.yml": "- a\n"},
			"roles/bad/vars/main.yml:1:1: the vars file of role bad must contain a mapping of variables"},
		{"tasks_from missing", "  tasks:\n    - import_role: {name: dup, tasks_from: nope}\n", nil,
			"site.yml:3:20: could not find specified file in role dup: tasks/nope"},
		{"include_role option", "  tasks:\n    - include_role: {name: dup, bogus: 1}\n", nil,
			"site.yml:3:21: invalid options for include_role: bogus"},
		{"include_role without name", "  tasks:\n    - include_role: {tasks_from: x}\n", nil,
			"site.yml:3:21: 'name' is a required field for include_role"},
		{"templated role", "  roles: ['{{ r }}']\n", nil, "site.yml:2:11: a role needs a name without templates"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			files := roleProject()
			for k, v := range c.files {
				files[k] = v
			}
			dir := writeTree(t, files)
			p := filepath.Join(dir, "site.yml")
			if err := os.WriteFile(p, []byte("- hosts: all\n"+c.play), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(p, LoadOptions{Modules: testModules()})
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("got %v, want a *ParseError", err)
			}
			if msg := strings.TrimPrefix(pe.Error(), dir+"/"); !strings.HasPrefix(msg, c.want) {
				t.Errorf("got  %s\nwant %s...", msg, c.want)
			}
		})
	}
}

func TestRoleLibrary(t *testing.T) {
	files := roleProject()
	files["roles/lib/library/vendored"] = "#!/bin/sh\necho '{}'\n"
	files["roles/lib/tasks/main.yml"] = "- acme.tools.vendored: {a: 1}\n- vendored: {}\n"
	dir := writeTree(t, files)
	p := filepath.Join(dir, "site.yml")
	if err := os.WriteFile(p, []byte("- hosts: all\n  roles: [lib]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var added []string
	mods := testModules()
	_, err := Load(p, LoadOptions{Modules: mods, RoleLibrary: func(d string) (ModuleChecker, error) {
		added = append(added, d)
		lib := map[string]bool{"vendored": true}
		for k := range mods.library {
			lib[k] = true
		}
		return fakeModules{builtin: mods.builtin, library: lib}, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{filepath.Join(dir, "roles/lib/library")}; !reflect.DeepEqual(added, want) {
		t.Errorf("library dirs %q, want %q", added, want)
	}
}
