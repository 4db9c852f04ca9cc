package modules

import (
	"bytes"
	"compress/gzip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kpxdev/kpx/internal/testfleet"
)

// buildModule compiles a relocatable ELF object carrying the given .modinfo entries, the
// way the kernel's build lays them out.
func buildModule(t *testing.T, name string, entries ...string) string {
	t.Helper()
	cc := testfleet.RequireTool(t, "cc")
	dir := t.TempDir()
	var src strings.Builder
	for i, e := range entries {
		src.WriteString(`static const char __mod_info_` + string(rune('a'+i)) + `[] __attribute__((section(".modinfo"), used, aligned(1))) = "` + e + `";` + "\n")
	}
	src.WriteString("int init_module(void) { return 0; }\n")
	c := filepath.Join(dir, "mod.c")
	if err := os.WriteFile(c, []byte(src.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	ko := filepath.Join(dir, name)
	if out, err := exec.Command(cc, "-c", "-o", ko, c).CombinedOutput(); err != nil {
		t.Fatalf("cc: %v\n%s", err, out)
	}
	return ko
}

func TestReadKernelModule(t *testing.T) {
	ko := buildModule(t, "livepatch-cve-2026-12345.ko",
		"license=GPL", "livepatch=Y", "depends=", "name=livepatch_cve_2026_12345",
		"vermagic=6.1.0-18-amd64 SMP preempt mod_unload modversions ")
	m, err := ReadKernelModule(ko)
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "livepatch_cve_2026_12345" || m.Release != "6.1.0-18-amd64" || !m.Livepatch || m.License != "GPL" || m.Signed {
		t.Fatalf("got %+v", m)
	}
	if err := m.CheckRelease("db01", "6.1.0-18-amd64"); err != nil {
		t.Error(err)
	}
	err = m.CheckRelease("db02", "6.1.0-21-amd64")
	if err == nil || !strings.Contains(err.Error(), "built for kernel 6.1.0-18-amd64, but db02 runs 6.1.0-21-amd64") {
		t.Errorf("mismatch: %v", err)
	}
}

func TestKernelModuleNameFromFile(t *testing.T) {
	ko := buildModule(t, "kpatch-fix-1.ko", "vermagic=5.14.0-362.el9.x86_64 SMP preempt mod_unload modversions ")
	m, err := ReadKernelModule(ko)
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "kpatch_fix_1" || m.Livepatch {
		t.Errorf("name %q livepatch %v", m.Name, m.Livepatch)
	}
}

func TestKernelModuleSignedAndCompressed(t *testing.T) {
	ko := buildModule(t, "p.ko", "name=p", "vermagic=6.1.0-18-amd64 SMP ")
	data, _ := os.ReadFile(ko)
	signed := append(append(data, make([]byte, 40)...), signatureMagic...)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(signed)
	zw.Close()
	path := filepath.Join(t.TempDir(), "p.ko.gz")
	if err := os.WriteFile(path, gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := ReadKernelModule(path)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Signed || m.Name != "p" {
		t.Errorf("got %+v", m)
	}
}

func TestReadKernelModuleRefusesOthers(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.ko")
	os.WriteFile(text, []byte("not an ELF file"), 0o644)
	noInfo := buildModule(t, "empty.ko")
	noMagic := buildModule(t, "nomagic.ko", "license=GPL")
	xz := filepath.Join(dir, "x.ko.xz")
	os.WriteFile(xz, []byte{0xfd, '7', 'z'}, 0o644)
	for path, want := range map[string]string{
		text:                             "not a kernel module",
		noInfo:                           "no .modinfo section",
		noMagic:                          "has no vermagic",
		xz:                               "xz-compressed modules are not supported",
		filepath.Join(dir, "missing.ko"): "no such file",
	} {
		if _, err := ReadKernelModule(path); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", filepath.Base(path), err, want)
		}
	}
}

func FuzzParseModinfo(f *testing.F) {
	f.Add([]byte("license=GPL\x00vermagic=6.1 SMP \x00name=x\x00"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		for k := range parseModinfo(raw) {
			if k == "" || strings.ContainsAny(k, "=\x00") {
				t.Fatalf("bad key %q", k)
			}
		}
	})
}
