package vmfleet

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Kernel is an installed Debian kernel: its image and modules, and the headers to build
// modules against.
type Kernel struct {
	Release string // `uname -r` inside the VMs, e.g. 6.1.0-57-amd64
	Image   string // /boot/vmlinuz-RELEASE
	Modules string // /lib/modules/RELEASE
	Headers string // /usr/src/linux-headers-RELEASE
}

// FindKernel returns the kernel named by release, or when release is "" the newest
// installed one with an image, modules and headers (scripts/e2e-deps installs one).
func FindKernel(release string) (*Kernel, error) {
	if release != "" {
		k := kernelFor(release)
		if err := k.check(); err != nil {
			return nil, err
		}
		return k, nil
	}
	imgs, _ := filepath.Glob("/boot/vmlinuz-*")
	sort.Strings(imgs)
	for i := len(imgs) - 1; i >= 0; i-- {
		k := kernelFor(strings.TrimPrefix(imgs[i], "/boot/vmlinuz-"))
		if k.check() == nil {
			return k, nil
		}
	}
	return nil, fmt.Errorf("no kernel with image, modules and headers installed (run scripts/e2e-deps)")
}

func kernelFor(release string) *Kernel {
	return &Kernel{Release: release, Image: "/boot/vmlinuz-" + release,
		Modules: "/lib/modules/" + release, Headers: "/usr/src/linux-headers-" + release}
}

func (k *Kernel) check() error {
	for _, p := range []string{k.Image, filepath.Join(k.Modules, "modules.dep"), filepath.Join(k.Headers, "Makefile")} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("kernel %s: %w (run scripts/e2e-deps)", k.Release, err)
		}
	}
	return nil
}

// ModuleFiles returns the files (relative to k.Modules) to insmod, in order, for the named
// modules and everything they depend on; built-in modules are left out.
func (k *Kernel) ModuleFiles(names ...string) ([]string, error) {
	deps, err := readModulesDep(filepath.Join(k.Modules, "modules.dep"))
	if err != nil {
		return nil, err
	}
	builtin, _ := readModuleNames(filepath.Join(k.Modules, "modules.builtin"))
	byName := map[string]string{}
	for f := range deps {
		byName[moduleName(f)] = f
	}
	var order []string
	seen := map[string]bool{}
	var visit func(f string)
	visit = func(f string) {
		if seen[f] {
			return
		}
		seen[f] = true
		for _, d := range deps[f] {
			visit(d)
		}
		order = append(order, f)
	}
	for _, n := range names {
		n = strings.ReplaceAll(n, "-", "_")
		if builtin[n] {
			continue
		}
		f, ok := byName[n]
		if !ok {
			return nil, fmt.Errorf("kernel %s: no module %s in modules.dep", k.Release, n)
		}
		visit(f)
	}
	return order, nil
}

// moduleName is a module's name from its path: kernel/drivers/net/e1000/e1000.ko.xz -> e1000.
func moduleName(f string) string {
	b := filepath.Base(f)
	if i := strings.Index(b, ".ko"); i >= 0 {
		b = b[:i]
	}
	return strings.ReplaceAll(b, "-", "_")
}

// readModulesDep reads modules.dep: "file: dep dep ...".
func readModulesDep(p string) (map[string][]string, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string][]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		file, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		out[file] = strings.Fields(rest)
	}
	return out, sc.Err()
}

// readModuleNames reads modules.builtin: one path a line.
func readModuleNames(p string) (map[string]bool, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out[moduleName(l)] = true
		}
	}
	return out, nil
}
