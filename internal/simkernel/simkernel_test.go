package simkernel

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// koFile writes a minimal relocatable ELF object with the given .modinfo entries.
func koFile(t *testing.T, name string, entries ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, BuildModule(entries...), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func install(t *testing.T, o Options) (*Kernel, map[string]string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "kernel")
	env, err := Install(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	k, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return k, env
}

// sh runs a command line with the simulated kernel's environment.
func sh(t *testing.T, env map[string]string, script string) (string, int) {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func patch(t *testing.T, k *Kernel, name string) *Patch {
	ps, err := k.Patches()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if p.Name == name {
			return &p
		}
	}
	return nil
}

func lpModule(t *testing.T, release string) string {
	return koFile(t, "lp-fix.ko", "name=lp_fix", "livepatch=Y", "license=GPL", "vermagic="+release+" SMP preempt mod_unload modversions ")
}

func TestInsmodTransitionAndTaint(t *testing.T) {
	k, env := install(t, Options{})
	ko := lpModule(t, "6.1.0-18-amd64")
	if out, code := sh(t, env, "uname -r; insmod "+ko); code != 0 || !strings.HasPrefix(out, "6.1.0-18-amd64") {
		t.Fatalf("insmod: %d %s", code, out)
	}
	if p := patch(t, k, "lp_fix"); p == nil || !p.Enabled {
		t.Fatalf("patch after insmod: %+v", p)
	}
	waitFor(t, "transition 0", func() bool { p := patch(t, k, "lp_fix"); return p != nil && !p.Transition })
	taint, _ := k.Tainted()
	if want := 1<<15 | 1<<12 | 1<<13; taint != want {
		t.Errorf("tainted %d, want %d", taint, want)
	}
	if out, code := sh(t, env, "insmod "+ko); code == 0 || !strings.Contains(out, "File exists") {
		t.Errorf("second insmod: %d %s", code, out)
	}
	if out, code := sh(t, env, "rmmod lp_fix"); code == 0 || !strings.Contains(out, "in use") {
		t.Errorf("rmmod of an enabled patch: %d %s", code, out)
	}
	lp := filepath.Join(k.Root, "sys/kernel/livepatch/lp_fix/enabled")
	if out, code := sh(t, env, "kpx-sysfs-write "+lp+" 0"); code != 0 {
		t.Fatalf("disable: %s", out)
	}
	waitFor(t, "patch gone", func() bool { return patch(t, k, "lp_fix") == nil })
	if out, code := sh(t, env, "rmmod lp_fix"); code != 0 || k.Loaded("lp_fix") {
		t.Fatalf("rmmod: %d %s", code, out)
	}
	log, _ := k.Log()
	for _, want := range []string{"tainting kernel with TAINT_LIVEPATCH", "patching complete", "unpatching complete"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}

func TestStallReverseAndBusy(t *testing.T) {
	k, env := install(t, Options{Stall: true})
	ko := lpModule(t, "6.1.0-18-amd64")
	other := koFile(t, "other.ko", "name=other", "livepatch=Y", "vermagic=6.1.0-18-amd64 SMP ")
	sh(t, env, "insmod "+ko)
	waitFor(t, "stall logged", func() bool { l, _ := k.Log(); return strings.Contains(l, "transition stalled") })
	if p := patch(t, k, "lp_fix"); p == nil || !p.Transition {
		t.Fatalf("want a stalled transition, got %+v", p)
	}
	if out, code := sh(t, env, "insmod "+other); code == 0 || !strings.Contains(out, "Device or resource busy") {
		t.Errorf("insmod during a transition: %d %s", code, out)
	}
	st, _ := os.ReadFile(filepath.Join(k.Root, "proc/4242/task/4243/patch_state"))
	if strings.TrimSpace(string(st)) != "0" {
		t.Errorf("blocking task patch_state %q", st)
	}
	lp := filepath.Join(k.Root, "sys/kernel/livepatch/lp_fix/enabled")
	if out, code := sh(t, env, "kpx-sysfs-write "+lp+" 0"); code != 0 {
		t.Fatalf("reverse: %s", out)
	}
	waitFor(t, "reversed", func() bool { return patch(t, k, "lp_fix") == nil })
	if k.Forced("lp_fix") {
		t.Error("forced")
	}
}

func TestNoReenableAfterDisable(t *testing.T) {
	k, env := install(t, Options{TransitionDelay: time.Second})
	ko := lpModule(t, "6.1.0-18-amd64")
	sh(t, env, "insmod "+ko)
	waitFor(t, "enabled", func() bool { p := patch(t, k, "lp_fix"); return p != nil && !p.Transition })
	lp := filepath.Join(k.Root, "sys/kernel/livepatch/lp_fix/enabled")
	if out, code := sh(t, env, "kpx-sysfs-write "+lp+" 1"); code == 0 || !strings.Contains(out, "Invalid argument") {
		t.Errorf("writing 1 to an enabled patch: %d %s", code, out)
	}
	sh(t, env, "kpx-sysfs-write "+lp+" 0")
	if out, code := sh(t, env, "kpx-sysfs-write "+filepath.Join(k.Root, "proc/sys/kernel/tainted")+" 0"); code == 0 {
		t.Errorf("write outside livepatch accepted: %s", out)
	}
}

func TestWrongKernelAndSignature(t *testing.T) {
	k, env := install(t, Options{SigEnforce: true})
	if out, code := sh(t, env, "insmod "+lpModule(t, "6.1.0-21-amd64")); code == 0 || !strings.Contains(out, "Invalid module format") {
		t.Errorf("wrong kernel: %d %s", code, out)
	}
	if out, code := sh(t, env, "insmod "+lpModule(t, "6.1.0-18-amd64")); code == 0 || !strings.Contains(out, "Key was rejected") {
		t.Errorf("unsigned under sig_enforce: %d %s", code, out)
	}
	if ps, _ := k.Patches(); len(ps) != 0 {
		t.Errorf("patches %v", ps)
	}
}

func TestVendorTools(t *testing.T) {
	k, env := install(t, Options{KspliceUpdates: []string{"abc123 CVE-2026-1 fix", "def456 CVE-2026-2 fix"}})
	ko := koFile(t, "kpatch-fix.ko", "name=kpatch_fix", "livepatch=Y", "vermagic=6.1.0-18-amd64 SMP ")
	out, code := sh(t, env, "kpatch load "+ko+" && kpatch install "+ko+" && kpatch list")
	if code != 0 || !strings.Contains(out, "kpatch_fix [enabled]") || !strings.Contains(out, "kpatch-fix (6.1.0-18-amd64)") {
		t.Fatalf("kpatch: %d %s", code, out)
	}
	if out, code := sh(t, env, "kpatch unload kpatch_fix"); code != 0 || k.Loaded("kpatch_fix") {
		t.Fatalf("kpatch unload: %d %s", code, out)
	}
	out, code = sh(t, env, "uptrack-upgrade -y && uptrack-uname -r")
	if code != 0 || !strings.Contains(out, "Installing [abc123]") || !strings.Contains(out, "6.1.0-18-amd64+ksplice.2") {
		t.Fatalf("uptrack: %d %s", code, out)
	}
	if out, code := sh(t, env, "uptrack-remove -y --all >/dev/null && uptrack-show"); code != 0 || strings.Contains(out, "[abc123]") {
		t.Fatalf("uptrack-remove: %d %s", code, out)
	}
	out, code = sh(t, env, "kcarectl --update && kcarectl --uname && kcarectl --status; echo status=$?")
	if !strings.Contains(out, "6.1.0-18-amd64.kc1") || !strings.Contains(out, "status=0") {
		t.Fatalf("kcarectl: %d %s", code, out)
	}
}

func TestKspliceErrors(t *testing.T) {
	_, env := install(t, Options{KspliceError: 17})
	if out, code := sh(t, env, "uptrack-upgrade -y"); code != 17 || !strings.Contains(out, "expired") {
		t.Errorf("uptrack-upgrade: %d %s", code, out)
	}
}
