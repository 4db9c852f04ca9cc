package demo

import (
	"context"
	"os"
	"path/filepath"

	"github.com/kpxdev/kpx/internal/simfleet"
	"github.com/kpxdev/kpx/internal/simkernel"
)

// dbHealth stands for a database's own health check on the simulated hosts: healthy,
// unless the host carries simfleet's fail marker.
const dbHealth = `#!/bin/sh
if [ -e "$SIMFLEET_FAIL_MARKER" ]; then
	echo "postgres on $SIMFLEET_HOST: $(cat "$SIMFLEET_FAIL_MARKER")" >&2
	exit 1
fi
echo "postgres on $SIMFLEET_HOST: accepting connections, replication lag 0s"
`

// Kernel is the simulated hosts' kernel release.
const Kernel = "6.1.0-18-amd64"

// Prepare sets up a simulated host of the demo: a simulated kernel (internal/simkernel:
// livepatch sysfs, kernel log, insmod/rmmod) in ~/kernel, and the database's health
// check in ~/bin, both first on PATH.
func Prepare(_ context.Context, h *simfleet.Host) (map[string]string, error) {
	env, err := simkernel.Install(filepath.Join(h.Dir, "kernel"), simkernel.Options{Release: Kernel})
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(h.Dir, "bin")
	if err := os.MkdirAll(bin, 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(bin, "db-health"), []byte(dbHealth), 0o700); err != nil {
		return nil, err
	}
	env["PATH"] = bin + ":" + env["PATH"]
	return env, nil
}

// PatchFile is where the playbook finds the live patch, relative to its directory.
const PatchFile = "files/livepatch-cve-2026-12345.ko"

// WritePatch writes the demo's live patch module into dir/files: a kernel module (ELF
// object) built in Go whose .modinfo names the patch and matches the hosts' kernel.
func WritePatch(dir string) error {
	ko := simkernel.BuildModule("name=livepatch_cve_2026_12345", "livepatch=Y", "license=GPL",
		"description=CVE-2026-12345 fix (kpx demo)", "vermagic="+Kernel+" SMP preempt mod_unload modversions ")
	p := filepath.Join(dir, PatchFile)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	return os.WriteFile(p, ko, 0o600)
}
