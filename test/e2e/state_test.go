//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/kpxdev/kpx/internal/vmfleet"
)

const (
	patchName = "kpx_e2e_cmdline"
	marker    = "kpx-livepatch-e2e: cmdline_proc_show replaced by kpx_e2e_cmdline"
	taintK    = 1 << 15 // TAINT_LIVEPATCH
)

// vmState is what a VM's kernel says about the test patch, read over the fleet's own SSH
// connection (not kpx's), from the kernel's real files.
type vmState struct {
	cmdline   string
	sysfs     bool   // /sys/kernel/livepatch/kpx_e2e_cmdline exists
	enabled   string // its enabled attribute
	module    bool   // /sys/module/kpx_e2e_cmdline exists (the module is loaded)
	tainted   int
	leftovers string // kpx upload directories left in /tmp
}

const stateScript = `cat /proc/cmdline
echo "sysfs=$([ -d /sys/kernel/livepatch/` + patchName + ` ] && echo yes || echo no)"
echo "enabled=$(cat /sys/kernel/livepatch/` + patchName + `/enabled 2>/dev/null)"
echo "module=$([ -d /sys/module/` + patchName + ` ] && echo yes || echo no)"
echo "tainted=$(cat /proc/sys/kernel/tainted)"
echo "leftovers=$(ls -d /tmp/kpx-livepatch.* 2>/dev/null | tr '\n' ' ')"
`

func readState(ctx context.Context, vm *vmfleet.VM) (vmState, error) {
	out, err := vm.Run(ctx, stateScript)
	if err != nil {
		return vmState{}, err
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 6 {
		return vmState{}, fmt.Errorf("%s: unexpected state output %q", vm.Name, out)
	}
	s := vmState{cmdline: lines[0]}
	for _, l := range lines[1:] {
		k, v, _ := strings.Cut(l, "=")
		switch k {
		case "sysfs":
			s.sysfs = v == "yes"
		case "enabled":
			s.enabled = v
		case "module":
			s.module = v == "yes"
		case "tainted":
			s.tainted, _ = strconv.Atoi(v)
		case "leftovers":
			s.leftovers = strings.TrimSpace(v)
		}
	}
	return s, nil
}

// wantPatched checks that the VM runs the patch: marker in /proc/cmdline, sysfs entry
// enabled, module loaded, taint K.
func (e *env) wantPatched(ctx context.Context, names ...string) {
	e.t.Helper()
	for _, n := range names {
		s, err := readState(ctx, e.fleet.VM(n))
		if err != nil {
			e.t.Fatal(err)
		}
		if s.cmdline != marker || !s.sysfs || s.enabled != "1" || !s.module || s.tainted&taintK == 0 {
			e.t.Errorf("%s is not patched: %+v", n, s)
		}
		if s.leftovers != "" {
			e.t.Errorf("%s: kpx left upload directories behind: %s", n, s.leftovers)
		}
	}
}

// wantOriginal checks that the VM runs its original kernel code: its own command line
// in /proc/cmdline, no sysfs entry, module not loaded.
func (e *env) wantOriginal(ctx context.Context, names ...string) {
	e.t.Helper()
	for _, n := range names {
		s, err := readState(ctx, e.fleet.VM(n))
		if err != nil {
			e.t.Fatal(err)
		}
		if !strings.Contains(s.cmdline, "kpx_vm="+n) || s.sysfs || s.module {
			e.t.Errorf("%s is not in its original state: %+v", n, s)
		}
		if s.leftovers != "" {
			e.t.Errorf("%s: kpx left upload directories behind: %s", n, s.leftovers)
		}
	}
}

func noPython(ctx context.Context, t *testing.T, f *vmfleet.Fleet) {
	t.Helper()
	for _, vm := range f.VMs {
		out, err := vm.Run(ctx, `for p in python3 python python2 perl; do command -v $p; done; ls /usr/bin/python* /usr/lib/python* 2>/dev/null; true`)
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimSpace(out) != "" {
			t.Errorf("%s has an interpreter; the e2e targets must have only busybox: %s", vm.Name, out)
		}
	}
}
