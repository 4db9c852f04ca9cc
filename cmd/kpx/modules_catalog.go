package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/kpxdev/kpx/modules"
	"github.com/kpxdev/kpx/playbooks"
)

// moduleCatalog is kpx's built-in modules plus the custom modules of the playbook's
// library/ directory, -M directories and ANSIBLE_LIBRARY (or ansible.cfg's library), in
// Ansible's order.
func moduleCatalog(o runOptions) (modules.Catalog, error) {
	dirs := []string{filepath.Join(filepath.Dir(o.playbook), "library")}
	paths := append([]string(nil), o.modulePath...)
	if o.cfg != nil {
		paths = append(paths, configLibrary(o)...) // ANSIBLE_LIBRARY, else ansible.cfg's library
	} else {
		paths = append(paths, os.Getenv("ANSIBLE_LIBRARY"))
	}
	for _, p := range paths {
		for _, d := range filepath.SplitList(p) {
			if d != "" {
				dirs = append(dirs, d)
			}
		}
	}
	c, err := modules.Builtin().WithLibrary(dirs...)
	if err != nil {
		return nil, fmt.Errorf("custom modules: %w", err)
	}
	return c, nil
}

// withRoles completes opts for a run's playbook: roles looked for in the configured roles
// path, and the modules of the roles' library/ directories added to *catalog (which the
// executor then runs them from).
func withRoles(opts playbooks.LoadOptions, o runOptions, catalog *modules.Catalog) playbooks.LoadOptions {
	opts.RolesPath = configRolesPath(o)
	opts.RoleLibrary = func(dir string) (playbooks.ModuleChecker, error) {
		c, err := catalog.WithRoleLibrary(dir)
		if err != nil {
			return nil, fmt.Errorf("custom modules: %w", err)
		}
		*catalog = c
		return c, nil
	}
	return opts
}
