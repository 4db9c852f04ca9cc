package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kpxdev/kpx/internal/testfleet"
)

// BenchmarkCopy1MiB50Hosts copies a 1 MiB file to 50 OpenSSH hosts (-f 50) with kpx run
// and with ansible-playbook, each iteration to a fresh destination (so every host
// changes). Run with: go test ./cmd/kpx -run '^$' -bench Copy1MiB50Hosts -benchtime 1x
// Results: docs/BENCHMARKS.md.
func BenchmarkCopy1MiB50Hosts(b *testing.B) {
	f := testfleet.Start(b, testfleet.Options{Hosts: 50})
	dir := b.TempDir()
	payload := make([]byte, 1<<20)
	rand.Read(payload)
	if err := os.MkdirAll(filepath.Join(dir, "files"), 0o755); err != nil {
		b.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "files", "blob"), payload, 0o644)
	play := filepath.Join(dir, "copy.yml")
	os.WriteFile(play, []byte(`- hosts: fleet
  gather_facts: false
  tasks:
    - copy:
        src: blob
        dest: "{{ root }}/{{ inventory_hostname }}.blob"
`), 0o644)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	run1 := map[string]func(root string) error{
		"kpx": func(root string) error {
			var out, errOut bytes.Buffer
			if code := run(ctx, []string{"run", "--state-dir", b.TempDir(), "-f", "50", "-i", f.Inventory, "-e", "root=" + root, play}, &out, &errOut); code != 0 {
				return fmt.Errorf("kpx exit %d\n%s%s", code, out.String(), errOut.String())
			}
			return nil
		},
		"ansible": func(root string) error {
			ansible := testfleet.RequireTool(b, "ansible-playbook")
			out, code := testfleet.RunAnsible(ctx, b, f.Dir, ansible, "-f", "50", "-i", f.Inventory, "-e", "root="+root, play)
			if code != 0 {
				return fmt.Errorf("ansible-playbook exit %d\n%s", code, out)
			}
			return nil
		},
	}
	for _, tool := range []string{"kpx", "ansible"} {
		b.Run(tool, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				root := b.TempDir()
				if err := run1[tool](root); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(50*b.N)/b.Elapsed().Seconds(), "hosts/s")
		})
	}
}
