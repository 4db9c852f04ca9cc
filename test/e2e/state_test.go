//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
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

// hostStatus is one line of `kpx status --json`.
type hostStatus struct {
	Host      string `json:"host"`
	Reachable bool   `json:"reachable"`
	Error     string `json:"error"`
	Kernel    string `json:"kernel"`
	Patches   []struct {
		Name       string `json:"name"`
		Enabled    bool   `json:"enabled"`
		Transition bool   `json:"transition"`
	} `json:"patches"`
	Taint string `json:"taint"`
}

// wantStatus checks what `kpx status` says against the VMs' real state: the VMs in
// patched run the patch (enabled, no transition, taint K), every other VM has none.
func (e *env) wantStatus(ctx context.Context, patched ...string) {
	e.t.Helper()
	if out, err := exec.CommandContext(ctx, e.bin, "status", "--help").CombinedOutput(); err != nil {
		e.t.Skipf("this kpx has no status command: %s", bytes.TrimSpace(out))
	}
	cmd := exec.CommandContext(ctx, e.bin, "status", "-i", "inventory.ini", "--json")
	cmd.Dir = e.play
	out, err := cmd.Output()
	if err != nil {
		e.t.Fatalf("kpx status: %v\n%s", err, out)
	}
	seen := map[string]bool{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var s hostStatus
		if err := dec.Decode(&s); err != nil {
			e.t.Fatalf("kpx status --json: %v\n%s", err, out)
		}
		seen[s.Host] = true
		if !s.Reachable || s.Error != "" || s.Kernel != e.fleet.Kernel.Release {
			e.t.Errorf("kpx status: %s: reachable %v, error %q, kernel %q (want %s)", s.Host, s.Reachable, s.Error, s.Kernel, e.fleet.Kernel.Release)
		}
		want := slices.Contains(patched, s.Host)
		has := len(s.Patches) == 1 && s.Patches[0].Name == patchName && s.Patches[0].Enabled && !s.Patches[0].Transition
		if want != has || (!want && len(s.Patches) != 0) {
			e.t.Errorf("kpx status: %s: patches %+v, want %s patched: %v", s.Host, s.Patches, patchName, want)
		}
		if want && !strings.Contains(s.Taint, "K") {
			e.t.Errorf("kpx status: %s: taint %q, want K", s.Host, s.Taint)
		}
	}
	for _, vm := range e.fleet.VMs {
		if !seen[vm.Name] {
			e.t.Errorf("kpx status did not show %s:\n%s", vm.Name, out)
		}
	}
}
