package modules

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kpxdev/kpx/playbooks"
)

func TestCatalogCheckArgs(t *testing.T) {
	c := Builtin()
	tests := []struct {
		module string
		args   map[string]any
		err    string // substring; empty means valid
	}{
		{"command", map[string]any{"_raw_params": "uname -r"}, ""},
		{"command", map[string]any{"argv": []any{"ls", "-l"}, "chdir": "/tmp"}, ""},
		{"command", map[string]any{}, "one of the following is required: free_form, cmd, argv"},
		{"command", map[string]any{"_raw_params": "ls", "cmd": "ls"}, "mutually exclusive: free_form|cmd|argv"},
		{"command", map[string]any{"_raw_params": "ls", "chdr": "/tmp"}, "unsupported parameters for (command) module: chdr"},
		{"command", map[string]any{"cmd": "ls", "strip_empty_ends": "maybe"}, `"strip_empty_ends" is of type str`},
		{"command", map[string]any{"cmd": "ls", "strip_empty_ends": "{{ x }}"}, ""},
		{"shell", map[string]any{"cmd": "ls | wc -l", "executable": "/bin/bash"}, ""},
		{"shell", map[string]any{"argv": []any{"ls"}}, "unsupported parameters for (shell) module: argv"},
		{"raw", map[string]any{}, "one of the following is required: free_form"},
		{"debug", map[string]any{"msg": []any{"a", "b"}}, ""},
		{"debug", map[string]any{"msg": "a", "var": "b"}, "mutually exclusive: msg|var"},
		{"debug", map[string]any{"verbosity": "two"}, `"verbosity" is of type str`},
		{"debug", map[string]any{"verbosity": "2"}, ""},
		{"debug", map[string]any{"_raw_params": "hi"}, "free-form text"},
		{"assert", map[string]any{"that": []any{"x == 1"}, "msg": "bad"}, ""},
		{"assert", map[string]any{"that": "x == 1", "msg": "bad", "fail_msg": "worse"}, "given twice"},
		{"assert", map[string]any{"msg": "bad"}, "missing required arguments: that"},
		{"set_fact", map[string]any{"anything": 1, "cacheable": true}, ""},
		{"pause", map[string]any{"seconds": 5, "minutes": 1}, "mutually exclusive: minutes|seconds"},
		{"setup", map[string]any{"gather_subset": "!all,min"}, ""},
		{"setup", map[string]any{"gather_subset": map[string]any{"a": 1}}, `"gather_subset" is of type dict`},
		{"copy", map[string]any{"dest": "/x"}, `one of the following is required: src, content`},
		{"no_such_module", map[string]any{}, `no module named "no_such_module"`},
	}
	for _, tc := range tests {
		err := c.CheckArgs(tc.module, tc.args)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s %v: unexpected error %v", tc.module, tc.args, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s %v: error %v, want one containing %q", tc.module, tc.args, err, tc.err)
		}
	}
}

func TestChoices(t *testing.T) {
	s := Spec{Args: map[string]Arg{"state": {Type: Str, Choices: []string{"present", "absent"}}}}
	if err := s.Check("x", map[string]any{"state": "present"}); err != nil {
		t.Error(err)
	}
	err := s.Check("x", map[string]any{"state": "gone"})
	if err == nil || err.Error() != "value of state must be one of: present, absent, got: gone" {
		t.Errorf("got %v", err)
	}
}

// TestLoaderReportsArgumentErrors wires the catalog into the playbook loader: a bad
// argument deep in a playbook stops the load with the task's file, line and column.
func TestLoaderReportsArgumentErrors(t *testing.T) {
	dir := t.TempDir()
	play := `- hosts: all
  tasks:
    - name: fine
      command: uname -r
    - name: typo
      debug:
        mgs: hello
`
	path := filepath.Join(dir, "site.yml")
	if err := os.WriteFile(path, []byte(play), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := playbooks.Load(path, playbooks.LoadOptions{Modules: Builtin()})
	var pe *playbooks.ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("got %v, want a *playbooks.ParseError", err)
	}
	if pe.Line != 6 || pe.Col != 7 || !strings.Contains(pe.Msg, "unsupported parameters for (debug) module: mgs") {
		t.Fatalf("got %v", pe)
	}

	unknown := strings.Replace(play, "debug:", "debgu:", 1)
	if err := os.WriteFile(path, []byte(unknown), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = playbooks.Load(path, playbooks.LoadOptions{Modules: Builtin()})
	if !errors.As(err, &pe) || pe.Line != 6 || !strings.Contains(pe.Msg, `couldn't resolve module/action "debgu"`) {
		t.Fatalf("unknown module: got %v", err)
	}
}

func TestRemoteModulesHaveSpecs(t *testing.T) {
	c := Builtin()
	for _, name := range []string{"command", "shell", "raw", "setup"} {
		if _, ok := Remote(name); !ok {
			t.Errorf("Remote(%q) missing", name)
		}
		if !c.Known(name) {
			t.Errorf("%q has an implementation but no spec", name)
		}
	}
	if _, ok := Remote("debug"); ok {
		t.Error("debug runs on the controller, not on hosts")
	}
}
