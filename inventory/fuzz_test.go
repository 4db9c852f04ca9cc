package inventory

import (
	"os"
	"path/filepath"
	"testing"
)

func addScenarioSeeds(f *testing.F, pattern string) {
	files, _ := filepath.Glob(filepath.Join(scenarioRoot, "*", pattern))
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
}

// FuzzParseINI: the INI parser never panics, and what it accepts can be printed.
func FuzzParseINI(f *testing.F) {
	addScenarioSeeds(f, "hosts")
	f.Add([]byte("h[01:03] a=1\n[g:children]\nx\n[x]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		inv := newInventory()
		if err := parseINI(inv, "fuzz.ini", data); err != nil {
			return
		}
		inv.files = newVarsFiles()
		inv.reconcile()
		if _, err := inv.ListJSON(); err != nil {
			t.Fatal(err)
		}
		_ = inv.Graph()
	})
}

// FuzzLoadYAML: the YAML loader never panics, and what it accepts can be printed.
func FuzzLoadYAML(f *testing.F) {
	addScenarioSeeds(f, "*.yml")
	addScenarioSeeds(f, "*.yaml")
	f.Add([]byte("all:\n  hosts:\n    a[1:3]:\n  children:\n    g: {vars: {x: yes}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		inv := newInventory()
		if err := parseYAML(inv, "fuzz.yml", data); err != nil {
			return
		}
		inv.files = newVarsFiles()
		inv.reconcile()
		if _, err := inv.ListJSON(); err != nil {
			t.Fatal(err)
		}
		_ = inv.Graph()
	})
}

// FuzzParsePattern: splitting and matching any pattern never panics.
func FuzzParsePattern(f *testing.F) {
	for _, s := range []string{"all", "web:&db:!x", "web[1:]", "~(a|b)", "w?b*[!1]", "g[-1],h", "a[0:0]", "@x"} {
		f.Add(s)
	}
	inv := newInventory()
	if err := parseINI(inv, "seed", []byte("a1\nweb[1:3]\n[g]\nx\n[db:children]\ng\n")); err != nil {
		f.Fatal(err)
	}
	inv.reconcile()
	f.Fuzz(func(t *testing.T, p string) {
		_, _, _ = inv.Match(p)
	})
}
