package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/kpxdev/kpx/modules"
)

// moduleCatalog is kpx's built-in modules plus the custom modules of the playbook's
// library/ directory, -M directories and ANSIBLE_LIBRARY, in Ansible's order.
func moduleCatalog(o runOptions) (modules.Catalog, error) {
	dirs := []string{filepath.Join(filepath.Dir(o.playbook), "library")}
	for _, p := range append(append([]string(nil), o.modulePath...), os.Getenv("ANSIBLE_LIBRARY")) {
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
