package playbooks

import (
	"fmt"
	"strings"
)

// Module names as Ansible projects write them. `ansible.builtin.X` and `ansible.legacy.X`
// are kpx's built-in X (canonicalModule); kpx's own modules (livepatch, kpatch, ...) go by
// their short names. Any other fully qualified name belongs to a collection, which kpx
// does not load: it is refused at load time unless a custom module of that name (or of its
// last part, for a collection module copied into library/) is found in a library
// directory.

// LibraryChecker is what a ModuleChecker may also tell: whether a name is a custom module
// found in a library directory (library/ beside the playbook or in a role, -M,
// ANSIBLE_LIBRARY).
type LibraryChecker interface {
	IsLibrary(name string) bool
}

// resolveModule returns kpx's name for the module a task names, and whether there is one.
func (l *loader) resolveModule(name string) (string, bool) {
	short := canonicalModule(name)
	if builtinTasks[short] || l.modules == nil || l.modules.Known(short) {
		return short, true
	}
	if !isCollectionName(name) {
		return short, false
	}
	lib, ok := l.modules.(LibraryChecker)
	if !ok {
		return name, false
	}
	last := name[strings.LastIndexByte(name, '.')+1:]
	for _, n := range []string{name, last} {
		if lib.IsLibrary(n) {
			return n, true
		}
	}
	return name, false
}

// isCollectionName reports whether name is a collection's fully qualified name
// (namespace.collection.module) other than ansible.builtin and ansible.legacy.
func isCollectionName(name string) bool {
	parts := strings.Split(name, ".")
	if len(parts) < 3 || canonicalModule(name) != name {
		return false
	}
	for _, p := range parts {
		if !identifierRE.MatchString(p) {
			return false
		}
	}
	return true
}

// collectionError explains why a collection's module cannot be used.
func (l *loader) collectionError(name string) string {
	last := name[strings.LastIndexByte(name, '.')+1:]
	coll := strings.TrimSuffix(name, "."+last)
	return fmt.Sprintf("couldn't resolve module/action %q: kpx does not load Ansible collections (%s); "+
		"it knows ansible.builtin.* and ansible.legacy.* names, its own modules by their short names, "+
		"and custom modules in library/ (none named %q or %q)", name, coll, name, last)
}

// libraryModules is the loader's ModuleChecker when roles may bring library/ modules:
// every loader of one Load shares it, so a role's modules are known from then on.
type libraryModules struct {
	checker ModuleChecker
	addDir  func(dir string) (ModuleChecker, error)
}

func (m *libraryModules) Known(name string) bool { return m.checker.Known(name) }

func (m *libraryModules) CheckArgs(name string, args map[string]any) error {
	return m.checker.CheckArgs(name, args)
}

func (m *libraryModules) IsLibrary(name string) bool {
	lc, ok := m.checker.(LibraryChecker)
	return ok && lc.IsLibrary(name)
}

func (m *libraryModules) add(dir string) error {
	c, err := m.addDir(dir)
	if err != nil {
		return err
	}
	m.checker = c
	return nil
}
