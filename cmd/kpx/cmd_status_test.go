package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/kpxdev/kpx/rollout"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestStatusTableGolden: the table's shape for hosts with several patches, none, a
// transition, no livepatch sysfs, and an unreachable host.
func TestStatusTableGolden(t *testing.T) {
	statuses := []rollout.HostStatus{
		{Host: "db01", Reachable: true, Kernel: "6.1.0-18-amd64", LivepatchSysfs: true, Taint: "OEK", Tainted: 45056,
			Patches: []rollout.PatchStatus{{Name: "livepatch_cve_2026_12345", Enabled: true}, {Name: "livepatch_cve_2026_23456", Enabled: true, Transition: true}}},
		{Host: "db02", Reachable: true, Kernel: "5.4.17-2136.300.7.el8uek.x86_64", EffectiveKernel: "5.4.17-2136.307.3.el8uek.x86_64", LivepatchSysfs: true, Patches: []rollout.PatchStatus{}},
		{Host: "db03", Reachable: true, Kernel: "4.19.0-old", Patches: []rollout.PatchStatus{}},
		{Host: "db04", Error: "dial tcp 10.0.0.4:22: connect: connection refused\nsecond line", Patches: []rollout.PatchStatus{}},
	}
	var table, js bytes.Buffer
	if err := writeStatusTable(&table, statuses); err != nil {
		t.Fatal(err)
	}
	if err := writeStatusJSON(&js, statuses); err != nil {
		t.Fatal(err)
	}
	golden(t, "status.txt", table.Bytes())
	golden(t, "status.jsonl", js.Bytes())
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *updateGolden {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run with -update to accept):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}
