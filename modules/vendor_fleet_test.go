package modules

import (
	"strings"
	"testing"

	"github.com/kpxdev/kpx/internal/simkernel"
)

func TestKpatchModule(t *testing.T) {
	h := simFleet(t, simkernel.Options{})[0]
	ko := livepatchKo(t, "kpatch-fix.ko", "kpatch_fix", simRelease, false)
	expect(t, "check", call(t, h, "kpatch", map[string]any{"src": ko}, true), true, false, "would run: kpatch load kpatch-fix.ko")
	if h.kernel.Loaded("kpatch_fix") {
		t.Fatal("check mode loaded")
	}
	r := call(t, h, "kpatch", map[string]any{"src": ko}, false)
	expect(t, "load", r, true, false, "transition complete")
	if l := r["kpatch"].(map[string]any)["loaded"].(map[string]any); l["kpatch_fix"] != true {
		t.Fatalf("kpatch list after load: %v", r["kpatch"])
	}
	expect(t, "load again", call(t, h, "kpatch", map[string]any{"src": ko}, false), false, false, "already loaded")
	expect(t, "install", call(t, h, "kpatch", map[string]any{"src": ko, "state": "installed"}, false), true, false)
	expect(t, "install again", call(t, h, "kpatch", map[string]any{"src": ko, "state": "installed"}, false), false, false)
	expect(t, "unload", call(t, h, "kpatch", map[string]any{"name": "kpatch_fix", "state": "unloaded"}, false), true, false)
	expect(t, "uninstall", call(t, h, "kpatch", map[string]any{"name": "kpatch_fix", "state": "uninstalled"}, false), true, false)
	if h.kernel.Loaded("kpatch_fix") {
		t.Fatal("still loaded")
	}
	wrong := livepatchKo(t, "kpatch-wrong.ko", "kpatch_wrong", "5.14.0-1.el9.x86_64", false)
	expect(t, "wrong kernel", call(t, h, "kpatch", map[string]any{"src": wrong}, false), false, true, "built for kernel 5.14.0-1.el9.x86_64, but the host runs "+simRelease)
}

func TestKpatchStall(t *testing.T) {
	h := simFleet(t, simkernel.Options{Stall: true, KpatchTimeout: 1})[0]
	ko := livepatchKo(t, "kpatch-stall.ko", "kpatch_stall", simRelease, false)
	r := call(t, h, "kpatch", map[string]any{"src": ko}, false)
	expect(t, "stall", r, true, true, "transition stalled")
	if h.kernel.Loaded("kpatch_stall") || h.kernel.Forced("kpatch_stall") {
		t.Fatal("kpatch must reverse and unload a stalled patch")
	}
}

func TestParseKpatchList(t *testing.T) {
	l := parseKpatchList("Loaded patch modules:\nkpatch_a [enabled]\nlivepatch_b [disabled]\n\nInstalled patch modules:\nkpatch-a (5.14.0-362.el9.x86_64)\n")
	if !l.Loaded["kpatch_a"] || l.Loaded["livepatch_b"] || l.Installed["kpatch-a"] != "5.14.0-362.el9.x86_64" {
		t.Fatalf("%+v", l)
	}
}

func FuzzParseKpatchList(f *testing.F) {
	f.Add("Loaded patch modules:\nx [enabled]\n\nInstalled patch modules:\ny (1)\n")
	f.Fuzz(func(t *testing.T, s string) {
		l := parseKpatchList(s)
		for k := range l.Loaded {
			if k == "" || strings.ContainsAny(k, " \n") {
				t.Fatalf("bad name %q", k)
			}
		}
	})
}

func FuzzParseUptrackShow(f *testing.F) {
	f.Add("Installed updates:\n[abc] fix\n\nEffective kernel version is 1")
	f.Fuzz(func(t *testing.T, s string) {
		for _, u := range parseUptrackShow(s) {
			if u.(map[string]any)["id"] == "" {
				t.Fatal("empty id")
			}
		}
	})
}

func TestKspliceModule(t *testing.T) {
	hosts := simFleet(t, simkernel.Options{KspliceUpdates: []string{"a1b2c3d4 CVE-2026-1111 fix", "e5f6a7b8 CVE-2026-2222 fix"}},
		simkernel.Options{KspliceError: 17})
	h := hosts[0]
	expect(t, "check", call(t, h, "ksplice", map[string]any{}, true), true, false, "would run: uptrack-upgrade -y")
	r := call(t, h, "ksplice", map[string]any{"state": "latest"}, false)
	expect(t, "upgrade", r, true, false)
	if r["effective_kernel"] != simRelease+"+ksplice.2" || len(r["installed"].([]any)) != 2 {
		t.Fatalf("after upgrade: %v", r)
	}
	expect(t, "upgrade again", call(t, h, "ksplice", map[string]any{}, false), false, false)
	expect(t, "remove one", call(t, h, "ksplice", map[string]any{"state": "absent", "id": "a1b2c3d4"}, false), true, false)
	expect(t, "install one", call(t, h, "ksplice", map[string]any{"state": "present", "id": "a1b2c3d4"}, false), true, false)
	expect(t, "remove all", call(t, h, "ksplice", map[string]any{"state": "absent", "id": "all"}, false), true, false)
	expect(t, "expired", call(t, hosts[1], "ksplice", map[string]any{}, false), false, true, "subscription has expired (exit 17)")
}

func TestKcareModule(t *testing.T) {
	hosts := simFleet(t, simkernel.Options{KcareLevel: 7}, simkernel.Options{KcareError: 3})
	h := hosts[0]
	r := call(t, h, "kcare", map[string]any{}, false)
	expect(t, "update", r, true, false, "Kernel is safe")
	if r["effective_kernel"] != simRelease+".kc7" {
		t.Fatalf("effective kernel %v", r["effective_kernel"])
	}
	expect(t, "update again", call(t, h, "kcare", map[string]any{}, false), false, false, "up to date")
	expect(t, "unload check", call(t, h, "kcare", map[string]any{"state": "absent"}, true), true, false)
	expect(t, "unload", call(t, h, "kcare", map[string]any{"state": "absent"}, false), true, false)
	expect(t, "unload again", call(t, h, "kcare", map[string]any{"state": "absent"}, false), false, false)
	expect(t, "unsupported", call(t, hosts[1], "kcare", map[string]any{}, false), false, true, "unsupported kernel")
}

func TestLivepatchFacts(t *testing.T) {
	h := simFleet(t, simkernel.Options{Release: "5.14.0-362.el9.x86_64", Tainted: 1 << 9})[0]
	ko := livepatchKo(t, "lp-facts.ko", "lp_facts", "5.14.0-362.el9.x86_64", false)
	expect(t, "enable", call(t, h, "livepatch", map[string]any{"src": ko}, false), true, false)
	f := call(t, h, "setup", map[string]any{}, false)["ansible_facts"].(map[string]any)
	if f["ansible_kernel"] != "5.14.0-362.el9.x86_64" || f["kpx_taint_letters"] != "WOEK" || f["kpx_livepatch_sysfs"] != true {
		t.Fatalf("facts: kernel %v letters %v sysfs %v", f["ansible_kernel"], f["kpx_taint_letters"], f["kpx_livepatch_sysfs"])
	}
	lps := f["kpx_livepatches"].([]any)
	if len(lps) != 1 || lps[0].(map[string]any)["name"] != "lp_facts" || lps[0].(map[string]any)["enabled"] != true {
		t.Fatalf("kpx_livepatches %v", lps)
	}
}
