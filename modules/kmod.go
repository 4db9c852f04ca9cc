package modules

import (
	"bytes"
	"compress/gzip"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// KernelModule is what kpx reads from a kernel module file (.ko) before it goes anywhere
// near a host: enough to refuse a patch built for another kernel, and to name it.
type KernelModule struct {
	Path      string
	Name      string // the module's name as the kernel knows it ("-" becomes "_")
	Vermagic  string // e.g. "6.1.0-18-amd64 SMP preempt mod_unload modversions "
	Release   string // the kernel release the module was built for: vermagic's first word
	Livepatch bool   // livepatch=Y: a kernel live patch
	License   string
	Depends   []string
	Signed    bool // a module signature is appended
	Info      map[string][]string
}

// signatureMagic ends a signed kernel module.
const signatureMagic = "~Module signature appended~\n"

// ReadKernelModule reads the .modinfo section of a kernel module, plain or gzip-compressed.
func ReadKernelModule(path string) (*KernelModule, error) {
	data, err := readModuleFile(path)
	if err != nil {
		return nil, err
	}
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: not a kernel module: %v", path, err)
	}
	defer f.Close()
	if f.Type != elf.ET_REL {
		return nil, fmt.Errorf("%s: not a kernel module: ELF type %s, want a relocatable object", path, f.Type)
	}
	sec := f.Section(".modinfo")
	if sec == nil {
		return nil, fmt.Errorf("%s: not a kernel module: no .modinfo section", path)
	}
	raw, err := sec.Data()
	if err != nil {
		return nil, fmt.Errorf("%s: reading .modinfo: %v", path, err)
	}
	m := &KernelModule{Path: path, Info: parseModinfo(raw), Signed: bytes.HasSuffix(data, []byte(signatureMagic))}
	m.Vermagic = m.first("vermagic")
	if m.Vermagic == "" {
		return nil, fmt.Errorf("%s: kernel module has no vermagic", path)
	}
	m.Release = strings.Fields(m.Vermagic)[0]
	m.Name = m.first("name")
	if m.Name == "" {
		m.Name = moduleNameFromFile(path)
	}
	m.Name = strings.ReplaceAll(m.Name, "-", "_")
	m.Livepatch = m.first("livepatch") == "Y"
	m.License = m.first("license")
	if d := m.first("depends"); d != "" {
		m.Depends = strings.Split(d, ",")
	}
	return m, nil
}

func (m *KernelModule) first(key string) string {
	if v := m.Info[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// CheckRelease refuses a module built for another kernel than release (the host's
// `uname -r`). The kernel itself may accept such a module under CONFIG_MODVERSIONS, so the
// check is kpx's to make.
func (m *KernelModule) CheckRelease(host, release string) error {
	if m.Release != release {
		return fmt.Errorf("%s was built for kernel %s, but %s runs %s", filepath.Base(m.Path), m.Release, host, release)
	}
	return nil
}

// parseModinfo splits .modinfo's NUL-separated key=value strings.
func parseModinfo(raw []byte) map[string][]string {
	info := map[string][]string{}
	for _, entry := range bytes.Split(raw, []byte{0}) {
		if k, v, ok := strings.Cut(string(entry), "="); ok && k != "" {
			info[k] = append(info[k], v)
		}
	}
	return info
}

func moduleNameFromFile(path string) string {
	base := filepath.Base(path)
	for _, ext := range []string{".gz", ".xz", ".zst"} {
		base = strings.TrimSuffix(base, ext)
	}
	return strings.TrimSuffix(base, ".ko")
}

// maxModuleSize bounds what is read into memory; live patches are kilobytes to a few MB.
const maxModuleSize = 256 << 20

func readModuleFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = f
	switch filepath.Ext(path) {
	case ".gz":
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		r = zr
	case ".xz", ".zst":
		return nil, fmt.Errorf("%s: %s-compressed modules are not supported; decompress it first", path, filepath.Ext(path)[1:])
	}
	data, err := io.ReadAll(io.LimitReader(r, maxModuleSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if len(data) > maxModuleSize {
		return nil, errors.New(path + ": larger than 256 MiB; not a kernel module")
	}
	return data, nil
}
