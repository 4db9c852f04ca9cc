package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kpxdev/kpx/internal/simkernel"
	"github.com/kpxdev/kpx/rollout"
)

const cvePatch = "livepatch_cve_2026_12345"

// TestLivepatchCanaryRollout runs testdata/livepatch/canary.yml on five OpenSSH hosts
// with simulated kernels. host03's kernel logs a BUG once a patch settles, so wave 2
// (host02, host03) fails its kernel_log check and is rolled back; wave 1 keeps the patch
// and wave 3 never starts. `kpx status` then shows exactly that.
func TestLivepatchCanaryRollout(t *testing.T) {
	opts := make([]simkernel.Options, 5)
	opts[2].OnLoadLog = "BUG: unable to handle page fault for address: ffffffffc0a01234"
	f := simkernel.StartFleetBecome(t, opts...)
	dir := t.TempDir()
	body, err := os.ReadFile("../../testdata/livepatch/canary.yml")
	if err != nil {
		t.Fatal(err)
	}
	play := filepath.Join(dir, "canary.yml")
	os.WriteFile(play, body, 0o644)
	os.MkdirAll(filepath.Join(dir, "files"), 0o755)
	ko := simkernel.BuildModule("name=livepatch_cve_2026_12345", "livepatch=Y", "license=GPL",
		"vermagic=6.1.0-18-amd64 SMP preempt mod_unload modversions ")
	os.WriteFile(filepath.Join(dir, "files", "livepatch-cve-2026-12345.ko"), ko, 0o644)

	c := &rolloutCase{stateDir: t.TempDir(), play: play}
	code, out, entries := c.run(t, testCtx(t), "run", "-i", f.Inventory, play)
	if code != ExitHostFailed {
		t.Errorf("exit %d, want %d", code, ExitHostFailed)
	}
	enabled := func(h string) bool {
		ps, _ := f.Kernels[h].Patches()
		return len(ps) == 1 && ps[0].Name == cvePatch && ps[0].Enabled && !ps[0].Transition
	}
	for h, want := range map[string]bool{"host01": true, "host02": false, "host03": false, "host04": false, "host05": false} {
		if enabled(h) != want {
			t.Errorf("%s: patch enabled %v, want %v", h, enabled(h), want)
		}
		if !want && f.Kernels[h].Loaded(cvePatch) {
			t.Errorf("%s: module still loaded after the rollback", h)
		}
	}
	for _, h := range []string{"host04", "host05"} {
		if taint, _ := f.Kernels[h].Tainted(); taint != 0 {
			t.Errorf("wave 3 host %s was touched: tainted %d", h, taint)
		}
	}
	rb := eventsOf[rollout.RollbackStarted](entries)
	if len(rb) != 1 || rb[0].Wave != 2 || !slices.Equal(rb[0].Hosts, []string{"host02", "host03"}) {
		t.Errorf("rollbacks %+v, want wave 2 on host02, host03", rb)
	}
	if h := summaryOf(t, entries)["host03"]; !strings.Contains(h.Failed, "BUG: unable to handle page fault") || !h.RolledBack {
		t.Errorf("host03 outcome %+v: want the kernel_log check's BUG line named, rolled back", h)
	}
	if !strings.Contains(out, "changed: [host01]") || !strings.Contains(out, "FAILED - RETRYING: [host03]: kernel_log") {
		t.Errorf("the load and the failing check are not in the output")
	}

	// kpx status: plain and JSON.
	var plain, errOut bytes.Buffer
	if code := run(testCtx(t), []string{"status", "-b", "-i", f.Inventory}, &plain, &errOut); code != ExitOK {
		t.Fatalf("kpx status: exit %d\n%s%s", code, plain.String(), errOut.String())
	}
	t.Logf("kpx status:\n%s", plain.String())
	lines := strings.Split(strings.TrimSpace(plain.String()), "\n")
	if len(lines) != 6 || !strings.HasPrefix(lines[0], "HOST") {
		t.Fatalf("status table:\n%s", plain.String())
	}
	if f1 := strings.Fields(lines[1]); !slices.Equal(f1, []string{"host01", "6.1.0-18-amd64", "-", cvePatch, "yes", "no", "OEK", "ok"}) {
		t.Errorf("host01 row %q", f1)
	}
	if f3 := strings.Fields(lines[3]); !slices.Equal(f3, []string{"host03", "6.1.0-18-amd64", "-", "-", "-", "-", "OEK", "ok"}) {
		t.Errorf("host03 row %q (rolled back: no patch, the taint stays)", f3)
	}
	if f5 := strings.Fields(lines[5]); !slices.Equal(f5, []string{"host05", "6.1.0-18-amd64", "-", "-", "-", "-", "-", "ok"}) {
		t.Errorf("host05 row %q", f5)
	}
	var js bytes.Buffer
	if code := run(testCtx(t), []string{"status", "-b", "-i", f.Inventory, "--json", "host01"}, &js, &errOut); code != ExitOK {
		t.Fatalf("kpx status --json: exit %d %s", code, errOut.String())
	}
	var st rollout.HostStatus
	if err := json.Unmarshal(js.Bytes(), &st); err != nil {
		t.Fatalf("%v: %s", err, js.String())
	}
	if st.Host != "host01" || !st.Reachable || len(st.Patches) != 1 || st.Patches[0] != (rollout.PatchStatus{Name: cvePatch, Enabled: true}) || st.Taint != "OEK" {
		t.Errorf("status --json %+v", st)
	}
}
