package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const invData = "../../testdata/inventory"

func TestInventoryCommand(t *testing.T) {
	golden := func(name string) string {
		data, err := os.ReadFile(filepath.Join(invData, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	patterns := filepath.Join(invData, "25-patterns", "hosts")
	tests := []struct {
		name      string
		args      []string
		code      int
		stdout    string // exact, when set
		stderrHas []string
	}{
		{name: "list", args: []string{"-i", filepath.Join(invData, "10-group-vars-files", "hosts"), "--list"},
			stdout: golden("10-group-vars-files/list.golden.json")},
		{name: "graph", args: []string{"-i", filepath.Join(invData, "03-children-forward", "hosts"), "--graph"},
			stdout: golden("03-children-forward/graph.golden")},
		{name: "host", args: []string{"-i", filepath.Join(invData, "01-ini-typing", "hosts"), "--host", "h1"},
			stdout: golden("01-ini-typing/host.golden")},
		{name: "list-hosts", args: []string{"-i", patterns, "--list-hosts", "web:!staging"},
			stdout: "web01\nweb03\nweb10\n"},
		{name: "list-hosts limit file", args: []string{"-i", patterns, "--list-hosts", "all", "--limit", "@" + filepath.Join(invData, "25-patterns", "limit.txt")},
			stdout: "web02\ndb2\n"},
		{name: "no match warns, exit 0", args: []string{"-i", patterns, "--list-hosts", "nothing"},
			stdout: "", stderrHas: []string{"Could not match supplied host pattern, ignoring: nothing", "No hosts matched"}},
		{name: "comma list", args: []string{"-i", "a,b:2222,", "--list-hosts", "all"}, stdout: "a\nb\n"},
		{name: "undeclared child is exit 1 with file:line", args: []string{"-i", filepath.Join(invData, "04-undeclared-child", "hosts"), "--list"},
			code: ExitError, stderrHas: []string{"04-undeclared-child/hosts:2:", "undefined group: missing"}},
		{name: "bad host var names the text", args: []string{"-i", filepath.Join(invData, "18-ini-bad-hostvar", "hosts"), "--graph"},
			code: ExitError, stderrHas: []string{"hosts:2:", `"novalue"`}},
		{name: "yaml error has line and column", args: []string{"-i", filepath.Join(invData, "17-yaml-syntax-error", "inv.yml"), "--list"},
			code: ExitError, stderrHas: []string{"inv.yml:"}},
		{name: "missing source", args: []string{"-i", "/nonexistent/inv", "--list"}, code: ExitError, stderrHas: []string{"/nonexistent/inv"}},
		{name: "unknown host", args: []string{"-i", patterns, "--host", "nope"}, code: ExitError, stderrHas: []string{"nope"}},
		{name: "no mode", args: []string{"-i", patterns}, code: ExitError, stderrHas: []string{"exactly one of"}},
		{name: "two modes", args: []string{"-i", patterns, "--list", "--graph"}, code: ExitError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(context.Background(), append([]string{"inventory"}, tt.args...), &out, &errOut)
			if code != tt.code {
				t.Fatalf("exit code %d, want %d; stderr %q", code, tt.code, errOut.String())
			}
			if tt.code == ExitOK && out.String() != tt.stdout && strings.TrimRight(out.String(), "\n") != strings.TrimRight(tt.stdout, "\n") {
				t.Errorf("stdout\n%s\nwant\n%s", out.String(), tt.stdout)
			}
			for _, s := range tt.stderrHas {
				if !strings.Contains(errOut.String(), s) {
					t.Errorf("stderr %q lacks %q", errOut.String(), s)
				}
			}
		})
	}
}
