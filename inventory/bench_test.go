package inventory

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeBigInventory writes the benchmark inventory (the same shape as
// bench/inventory-gen): hosts hosts spread over groups groups (10 region parents),
// an INI file with an inline ansible_host each, and group_vars for all and every group.
func writeBigInventory(tb testing.TB, dir string, hosts, groups int) string {
	tb.Helper()
	var b strings.Builder
	per := hosts / groups
	for g := 0; g < groups; g++ {
		fmt.Fprintf(&b, "[g%03d]\n", g)
		for i := 0; i < per; i++ {
			n := g*per + i
			fmt.Fprintf(&b, "h%05d ansible_host=10.%d.%d.%d rack=%d\n", n, n/65536, n/256%256, n%256, i%8)
		}
	}
	for r := 0; r < 10; r++ {
		fmt.Fprintf(&b, "[region%d:children]\n", r)
		for g := r; g < groups; g += 10 {
			fmt.Fprintf(&b, "g%03d\n", g)
		}
		fmt.Fprintf(&b, "[region%d:vars]\nregion=r%d\n", r, r)
	}
	if err := os.MkdirAll(filepath.Join(dir, "group_vars"), 0o755); err != nil {
		tb.Fatal(err)
	}
	write := func(name, data string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	write("hosts", b.String())
	write("group_vars/all.yml", "ntp: [ntp1, ntp2]\nenv: prod\nkpx_patch: livepatch_cve\n")
	for g := 0; g < groups; g++ {
		write(fmt.Sprintf("group_vars/g%03d.yml", g), fmt.Sprintf("group_id: %d\nowner: team%d\nmaint: yes\nlimits: {nofile: 65536, nproc: %d}\n", g, g%7, g))
	}
	return filepath.Join(dir, "hosts")
}

// BenchmarkLoad10k loads the 10,000-host, 200-group inventory and renders --list (every
// host's merged vars), what `ansible-inventory --list` does.
func BenchmarkLoad10k(b *testing.B) {
	src := writeBigInventory(b, b.TempDir(), 10000, 200)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		inv, err := Load([]string{src})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := inv.ListJSON(); err != nil {
			b.Fatal(err)
		}
	}
}
