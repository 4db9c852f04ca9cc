//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kpxdev/kpx/internal/vmfleet"
	"github.com/kpxdev/kpx/rollout"
)

// TestRealKernels boots three VMs and runs kpx's live patch rollouts on them, in order:
// a module built for another kernel refused in preflight, a canary rollout that patches
// every VM, removal, then a rollout whose second wave fails a health check on one VM and
// is rolled back while the first wave stays patched.
func TestRealKernels(t *testing.T) {
	began := time.Now()
	dir := t.TempDir()
	var fleet *vmfleet.Fleet
	t.Cleanup(func() { // runs after the fleet's own Stop (cleanups run last-in first-out)
		if fleet == nil {
			return
		}
		for _, vm := range fleet.VMs {
			if vm.Running() {
				t.Errorf("%s: qemu still running after the fleet stopped", vm.Name)
			}
		}
	})
	kernel, err := vmfleet.FindKernel(os.Getenv("KPX_E2E_KERNEL"))
	if err != nil {
		t.Fatal(err)
	}
	play := filepath.Join(dir, "play")
	files := filepath.Join(play, "files")
	if err := os.MkdirAll(files, 0o755); err != nil {
		t.Fatal(err)
	}
	copyDir(t, "../../testdata/e2e", play)
	// kpx and the live patch build while the VMs boot.
	var kpx string
	built := make(chan error, 1)
	go func() {
		var err error
		if kpx, err = buildKpx(dir); err == nil {
			err = buildPatches(kernel, files)
		}
		built <- err
	}()
	fleet = vmfleet.Start(t, vmfleet.Options{VMs: 3, Release: kernel.Release, Dir: filepath.Join(dir, "fleet"), BootWait: bootWait(t)})
	t.Logf("3 VMs (Linux %s) answered SSH %s after qemu started", fleet.Kernel.Release, fleet.Booted.Round(time.Millisecond))
	if err := <-built; err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(play, "inventory.ini"), mustRead(t, fleet.Inventory), 0o644); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, fleet: fleet, bin: kpx, play: play, runs: new(int)}
	names := fleet.Names()

	t.Run("busybox only", func(t *testing.T) {
		noPython(stepContext(t), t, fleet)
	})
	t.Run("vermagic of another release refused in preflight", func(t *testing.T) {
		e := e.sub(t)
		ctx := stepContext(t)
		r := e.kpx(ctx, "run", "rollout.yml", "-i", "inventory.ini", "-e", "patch=other-release.ko")
		if r.code != 2 {
			t.Errorf("exit %d, want 2 (host failed)", r.code)
		}
		if !strings.Contains(r.out, "preflight") || !strings.Contains(r.out, "but the host runs "+fleet.Kernel.Release) {
			t.Errorf("output does not say the preflight refused the release:\n%s", r.out)
		}
		e.wantOriginal(ctx, names...)
		t.Run("kpx status", func(t *testing.T) { e.sub(t).wantStatus(ctx) })
	})
	t.Run("canary rollout patches every VM", func(t *testing.T) {
		e := e.sub(t)
		ctx := stepContext(t)
		r := e.kpx(ctx, "run", "rollout.yml", "-i", "inventory.ini")
		if r.code != 0 {
			t.Fatalf("exit %d, want 0", r.code)
		}
		e.wantWaves(r, wave{[]string{"vm01"}, rollout.WavePromoted}, wave{[]string{"vm02", "vm03"}, rollout.WavePromoted})
		e.wantChecksPassed(r, 5*len(names))
		e.wantPatched(ctx, names...)
		t.Run("kpx status", func(t *testing.T) { e.sub(t).wantStatus(ctx, names...) })
	})
	t.Run("remove restores every VM", func(t *testing.T) {
		e := e.sub(t)
		ctx := stepContext(t)
		if r := e.kpx(ctx, "run", "remove.yml", "-i", "inventory.ini"); r.code != 0 {
			t.Fatalf("exit %d, want 0", r.code)
		}
		e.wantOriginal(ctx, names...)
		t.Run("kpx status", func(t *testing.T) { e.sub(t).wantStatus(ctx) })
	})
	t.Run("failing health check rolls back wave 2", func(t *testing.T) {
		e := e.sub(t)
		ctx := stepContext(t)
		if _, err := fleet.VM("vm03").Run(ctx, "touch /root/kpx-e2e-unhealthy"); err != nil {
			t.Fatal(err)
		}
		defer fleet.VM("vm03").Run(ctx, "rm -f /root/kpx-e2e-unhealthy")
		r := e.kpx(ctx, "run", "rollout.yml", "-i", "inventory.ini")
		if r.code != 2 {
			t.Errorf("exit %d, want 2 (host failed)", r.code)
		}
		e.wantWaves(r, wave{[]string{"vm01"}, rollout.WavePromoted}, wave{[]string{"vm02", "vm03"}, rollout.WaveRolledBack})
		e.wantPatched(ctx, "vm01")
		e.wantOriginal(ctx, "vm02", "vm03")
		t.Run("kpx status", func(t *testing.T) { e.sub(t).wantStatus(ctx, "vm01") })
	})
	t.Logf("end-to-end: %d kpx runs on %d VMs, %s in all (boot included)", *e.runs, len(names), time.Since(began).Round(time.Second))
}

// bootWait is how long the VMs may take to boot: KPX_E2E_BOOT_WAIT (a Go duration), else
// 15 minutes (an emulated machine boots in seconds when idle, but a busy 2-core CI machine
// can starve it for minutes).
func bootWait(t *testing.T) time.Duration {
	if v := os.Getenv("KPX_E2E_BOOT_WAIT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("KPX_E2E_BOOT_WAIT: %v", err)
		}
		return d
	}
	return 15 * time.Minute
}

func (e *env) sub(t *testing.T) *env { c := *e; c.t = t; return &c }

type wave struct {
	hosts []string
	state rollout.WaveState
}

// wantWaves checks the waves the run journaled: their hosts and final states.
func (e *env) wantWaves(r kpxRun, want ...wave) {
	e.t.Helper()
	got := r.waves()
	if len(got) != len(want) {
		e.t.Errorf("%d waves journaled, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i+1]
		if !slices.Equal(g.Hosts, w.hosts) || g.State != w.state {
			e.t.Errorf("wave %d: hosts %v ended %s, want %v ended %s (reason %q)", i+1, g.Hosts, g.State, w.hosts, w.state, g.Reason)
		}
	}
}

// wantChecksPassed checks that n health checks passed (their final attempt).
func (e *env) wantChecksPassed(r kpxRun, n int) {
	e.t.Helper()
	passed := 0
	for _, ev := range r.events {
		if c, ok := ev.(rollout.CheckResult); ok && c.Final {
			if !c.Passed {
				e.t.Errorf("check %q failed on %s: %v", c.Check, c.Host, c.Result)
			}
			passed++
		}
	}
	if passed != n {
		e.t.Errorf("%d health checks ran to a final result, want %d", passed, n)
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
