package playbooks

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeModules is a ModuleChecker with a few built-ins and a library.
type fakeModules struct{ builtin, library map[string]bool }

func (f fakeModules) Known(name string) bool { return f.builtin[name] || f.library[name] }
func (f fakeModules) CheckArgs(string, map[string]any) error {
	return nil
}
func (f fakeModules) IsLibrary(name string) bool { return f.library[name] }

func testModules() fakeModules {
	return fakeModules{
		builtin: words("command shell copy debug set_fact assert livepatch kpatch pause fail"),
		library: words("vendored_thing"),
	}
}

func writePlaybook(t *testing.T, src string) string {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "site.yml")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "more.yml"), []byte("- ansible.legacy.debug: msg=hi\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFQCNResolution(t *testing.T) {
	cases := []struct {
		task   string
		module string // kpx's name for the task's module
	}{
		{"ansible.builtin.command: echo hi", "command"},
		{"ansible.legacy.shell: echo hi", "shell"},
		{"ansible.builtin.copy: {src: a, dest: /b}", "copy"},
		{"ansible.builtin.set_fact: {x: 1}", "set_fact"},
		{"ansible.builtin.debug: msg=hi", "debug"},
		{"ansible.builtin.meta: flush_handlers", "meta"},
		{"ansible.legacy.meta: noop", "meta"},
		{"ansible.builtin.include_tasks: more.yml", "include_tasks"},
		{"livepatch: {name: p, state: absent}", "livepatch"},
		{"ansible.legacy.kpatch: {name: p}", "kpatch"},
		{"action: ansible.builtin.command echo hi", "command"},
		{"local_action: {module: ansible.legacy.debug, msg: hi}", "debug"},
		{"community.general.vendored_thing: {a: 1}", "vendored_thing"},
		{"action: acme.tools.vendored_thing a=1", "vendored_thing"},
	}
	for _, c := range cases {
		t.Run(c.task, func(t *testing.T) {
			p := writePlaybook(t, "- hosts: all\n  tasks:\n    - "+c.task+"\n")
			pb, err := Load(p, LoadOptions{Modules: testModules()})
			if err != nil {
				t.Fatal(err)
			}
			got := pb.Plays[0].Tasks[0]
			if got.Module != c.module {
				t.Errorf("module %q, want %q", got.Module, c.module)
			}
		})
	}
}

func TestFQCNImportTasks(t *testing.T) {
	p := writePlaybook(t, "- hosts: all\n  tasks:\n    - ansible.builtin.import_tasks: more.yml\n")
	pb, err := Load(p, LoadOptions{Modules: testModules()})
	if err != nil {
		t.Fatal(err)
	}
	b := pb.Plays[0].Tasks[0].Block
	if b == nil || len(b.Block) != 1 || b.Block[0].Module != "debug" || b.Block[0].Action != "ansible.legacy.debug" {
		t.Fatalf("import_tasks by FQCN not expanded: %+v", pb.Plays[0].Tasks[0])
	}
}

func TestFQCNErrors(t *testing.T) {
	cases := []struct {
		task string
		want string // the error after the file name
	}{
		{"community.general.ufw: {rule: allow}", `:3:7: couldn't resolve module/action "community.general.ufw": kpx does not load Ansible collections (community.general)`},
		{"name: x\n      community.mysql.mysql_user: {name: a}", `:4:7: couldn't resolve module/action "community.mysql.mysql_user"`},
		{"action: community.general.ufw rule=allow", `:3:15: couldn't resolve module/action "community.general.ufw": kpx does not load`},
		{"ansible.builtin.nosuch: {}", `:3:7: couldn't resolve module/action "ansible.builtin.nosuch": no such module or task keyword`},
		{"ansible.builtin.command: echo\n      community.general.x: {}", `:4:7: couldn't resolve module/action "community.general.x"`},
	}
	for _, c := range cases {
		t.Run(c.task, func(t *testing.T) {
			p := writePlaybook(t, "- hosts: all\n  tasks:\n    - "+c.task+"\n")
			_, err := Load(p, LoadOptions{Modules: testModules()})
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("got %v, want a *ParseError", err)
			}
			if msg := strings.TrimPrefix(pe.Error(), p); !strings.HasPrefix(msg, c.want) {
				t.Errorf("got  %s\nwant %s...", msg, c.want)
			}
		})
	}
}
