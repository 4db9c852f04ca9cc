package modules

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// controllerActions are carried out by the engine itself: a library module of the same
// name does not replace them (Ansible's action plugins win there too).
var controllerActions = map[string]bool{"debug": true, "fail": true, "assert": true, "set_fact": true,
	"meta": true, "pause": true, "include_tasks": true, "import_tasks": true}

// WithLibrary returns a copy of c with the custom modules found in dirs (the playbook's
// library/, then -M and ANSIBLE_LIBRARY paths), as Ansible finds them: a file named
// after the module, with or without an extension; the first directory that has one
// wins, and a library module replaces a built-in module of the same name. Directories
// that do not exist are skipped.
func (c Catalog) WithLibrary(dirs ...string) (Catalog, error) {
	out := Catalog{}
	for k, v := range c {
		out[k] = v
	}
	seen := map[string]bool{}
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
		for _, e := range entries {
			name := e.Name()
			if e.IsDir() || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "__") || ignoredModuleFile(name) {
				continue
			}
			p := filepath.Join(dir, name)
			for _, n := range []string{name, strings.TrimSuffix(name, filepath.Ext(name))} {
				if seen[n] || controllerActions[n] {
					continue
				}
				seen[n] = true
				out[n] = Spec{AnyArgs: true, FreeForm: true, Library: p}
			}
		}
	}
	return out, nil
}

// ignoredModuleFile: Ansible's plugin loader skips these extensions.
func ignoredModuleFile(name string) bool {
	switch filepath.Ext(name) {
	case ".pyc", ".pyo", ".swp", ".bak", ".md", ".txt", ".rst", ".yml", ".yaml", ".json", ".ini":
		return true
	}
	return strings.HasSuffix(name, "~")
}

// Module returns what runs the named module on hosts: a custom module of the catalog's
// library, or a built-in one.
func (c Catalog) Module(name string) (Module, bool) {
	if s, ok := c[name]; ok && s.Library != "" {
		return Custom{Name: name, Path: s.Library}, true
	}
	return Remote(name)
}

// IsLibrary reports whether name is a custom module of the catalog's library directories
// (the playbook loader resolves collection names copied into library/ with it).
func (c Catalog) IsLibrary(name string) bool {
	return c[name].Library != ""
}

// WithRoleLibrary returns a copy of c with the custom modules of a role's library/
// directory. A module the catalog already has from a library directory keeps its file
// (the playbook's library/ is searched first); a built-in module is replaced.
func (c Catalog) WithRoleLibrary(dir string) (Catalog, error) {
	found, err := Catalog{}.WithLibrary(dir)
	if err != nil {
		return nil, err
	}
	out := Catalog{}
	for k, v := range c {
		out[k] = v
	}
	for k, v := range found {
		if !out.IsLibrary(k) {
			out[k] = v
		}
	}
	return out, nil
}
