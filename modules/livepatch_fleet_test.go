package modules

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kpxdev/kpx/internal/simkernel"
	"github.com/kpxdev/kpx/transport"
)

const simRelease = "6.1.0-18-amd64"

// simHost is one OpenSSH test host carrying a simulated kernel.
type simHost struct {
	*countingHost
	kernel *simkernel.Kernel
	name   string
}

// countingHost counts uploads, to show that a refused module sent nothing.
type countingHost struct {
	Host
	mu      sync.Mutex
	uploads int
}

func (c *countingHost) Upload(ctx context.Context, spec transport.UploadSpec) error {
	c.mu.Lock()
	c.uploads++
	c.mu.Unlock()
	return c.Host.Upload(ctx, spec)
}

// simFleet starts one OpenSSH host per option set, each with its own simulated kernel.
func simFleet(t *testing.T, opts ...simkernel.Options) []*simHost {
	t.Helper()
	f := simkernel.StartFleet(t, opts...)
	var out []*simHost
	for _, h := range f.Hosts {
		cfg := &transport.Config{Name: h.Name, Addr: h.Addr, Port: h.Port, User: f.User.Name,
			IdentityFiles: []string{f.ClientKey}, KnownHostsFiles: []string{f.KnownHosts}, ConnectTimeout: 30 * time.Second}
		conn, err := transport.Dial(context.Background(), cfg, transport.PoolOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		out = append(out, &simHost{countingHost: &countingHost{Host: conn}, kernel: f.Kernels[h.Name], name: h.Name})
	}
	return out
}

// livepatchKo writes a live patch module for release into a temp dir.
func livepatchKo(t *testing.T, file, name, release string, signed bool) string {
	t.Helper()
	data := simkernel.BuildModule("name="+name, "livepatch=Y", "license=GPL", "vermagic="+release+" SMP preempt mod_unload modversions ")
	if signed {
		data = simkernel.Sign(data)
	}
	p := filepath.Join(t.TempDir(), file)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func call(t *testing.T, h Host, module string, args map[string]any, check bool) Result {
	t.Helper()
	if err := Builtin().CheckArgs(module, args); err != nil {
		t.Fatalf("%s %v: %v", module, args, err)
	}
	m, ok := Remote(module)
	if !ok {
		t.Fatalf("no module %s", module)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	r, err := m.Run(ctx, h, Call{Args: args, Check: check})
	if err != nil {
		t.Fatalf("%s: %v", module, err)
	}
	return r
}

func expect(t *testing.T, what string, r Result, changed, failed bool, msgHas ...string) {
	t.Helper()
	if r.Changed() != changed || r.Failed() != failed {
		t.Fatalf("%s: changed=%v failed=%v, want changed=%v failed=%v: %v", what, r.Changed(), r.Failed(), changed, failed, r)
	}
	for _, m := range msgHas {
		if !strings.Contains(str(r["msg"]), m) {
			t.Fatalf("%s: msg %q lacks %q", what, r["msg"], m)
		}
	}
}

func simPatch(t *testing.T, k *simkernel.Kernel, name string) *simkernel.Patch {
	t.Helper()
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

func TestLivepatchLifecycle(t *testing.T) {
	h := simFleet(t, simkernel.Options{})[0]
	ko := livepatchKo(t, "livepatch-cve-2026-12345.ko", "livepatch-cve-2026-12345", simRelease, false)
	const name = "livepatch_cve_2026_12345"
	if err := h.kernel.AppendLog("WARNING: CPU: 0 PID: 1 at boot, before any wave"); err != nil {
		t.Fatal(err)
	}

	r := call(t, h, "livepatch", map[string]any{"src": ko, "state": "enabled"}, true)
	expect(t, "check mode enable", r, true, false, "would load")
	if simPatch(t, h.kernel, name) != nil || h.uploads != 0 {
		t.Fatal("check mode changed the host")
	}

	// Uploads already in the temp directory belong to other runs (a killed demo's, say).
	before := map[string]bool{}
	for _, l := range simkernel.Uploads(os.TempDir()) {
		before[l] = true
	}
	r = call(t, h, "livepatch", map[string]any{"src": ko}, false)
	expect(t, "enable", r, true, false, name+" enabled")
	if p := simPatch(t, h.kernel, name); p == nil || !p.Enabled || p.Transition {
		t.Fatalf("kernel after enable: %+v", p)
	}
	if ws, _ := r["warnings"].([]any); len(ws) != 1 || !strings.Contains(str(ws[0]), "unsigned") {
		t.Errorf("warnings %v", r["warnings"])
	}
	if left := simkernel.Uploads(os.TempDir()); len(left) > 0 {
		for _, l := range left {
			if strings.Contains(l, "kpx-livepatch.") && !before[l] {
				t.Errorf("upload left behind: %s", l)
			}
		}
	}

	r = call(t, h, "livepatch", map[string]any{"src": ko, "state": "enabled"}, false)
	expect(t, "re-run", r, false, false, "already enabled")

	expect(t, "status", call(t, h, "livepatch_status", map[string]any{"name": name, "transition": false}, false), false, false)
	expect(t, "status wrong", call(t, h, "livepatch_status", map[string]any{"name": name, "enabled": false}, false), false, true, "enabled is true, expected false")
	expect(t, "kernel_log clean", call(t, h, "kernel_log", map[string]any{"deny": []any{"Oops", "BUG:", "WARNING:"}}, false), false, false)
	expect(t, "taint", call(t, h, "taint", map[string]any{}, false), false, false)
	r = call(t, h, "taint", map[string]any{"allow": []any{"K"}}, false)
	expect(t, "taint beyond K", r, false, true, "gained taint OE")

	if err := h.kernel.AppendLog("BUG: unable to handle page fault for address: 0000000000001234"); err != nil {
		t.Fatal(err)
	}
	r = call(t, h, "kernel_log", map[string]any{"deny": []any{"Oops", "BUG:", "WARNING:"}}, false)
	expect(t, "kernel_log BUG", r, false, true, "BUG: unable to handle page fault")
	if m, _ := r["matched"].([]any); len(m) != 1 {
		t.Errorf("matched %v (the boot-time WARNING must not count)", r["matched"])
	}

	r = call(t, h, "livepatch", map[string]any{"name": name, "state": "absent"}, true)
	expect(t, "check mode absent", r, true, false, "would make")
	if simPatch(t, h.kernel, name) == nil {
		t.Fatal("check mode removed the patch")
	}
	r = call(t, h, "livepatch", map[string]any{"name": name, "state": "absent"}, false)
	expect(t, "absent", r, true, false)
	if r["verified"] != true || h.kernel.Loaded(name) || simPatch(t, h.kernel, name) != nil {
		t.Fatalf("absent not verified: %v", r)
	}
	expect(t, "absent again", call(t, h, "livepatch", map[string]any{"name": name, "state": "absent"}, false), false, false, "already absent")
}

func TestLivepatchEnableAfterDisable(t *testing.T) {
	h := simFleet(t, simkernel.Options{})[0]
	ko := livepatchKo(t, "lp-fix.ko", "lp_fix", simRelease, false)
	expect(t, "enable", call(t, h, "livepatch", map[string]any{"src": ko}, false), true, false)
	expect(t, "disable", call(t, h, "livepatch", map[string]any{"src": ko, "state": "disabled"}, false), true, false)
	if !h.kernel.Loaded("lp_fix") || simPatch(t, h.kernel, "lp_fix") != nil {
		t.Fatal("disabled: the module should stay loaded, its patch gone")
	}
	expect(t, "disable again", call(t, h, "livepatch", map[string]any{"name": "lp_fix", "state": "disabled"}, false), false, false)
	expect(t, "enable again", call(t, h, "livepatch", map[string]any{"src": ko}, false), true, false)
	if p := simPatch(t, h.kernel, "lp_fix"); p == nil || !p.Enabled {
		t.Fatalf("re-enabled: %+v", p)
	}
}

func TestLivepatchStallReversed(t *testing.T) {
	h := simFleet(t, simkernel.Options{Stall: true})[0]
	ko := livepatchKo(t, "lp-stall.ko", "lp_stall", simRelease, false)
	r := call(t, h, "livepatch", map[string]any{"src": ko, "timeout": 2}, false)
	expect(t, "stalled", r, true, true, "stalled after 2s", "task 4243 (postgres: walwriter, pid 4242)", "reversed (not forced)")
	tasks, _ := r["blocking_tasks"].([]any)
	if len(tasks) != 1 || tasks[0].(map[string]any)["tid"] != 4243 {
		t.Fatalf("blocking tasks %v", r["blocking_tasks"])
	}
	if st, _ := tasks[0].(map[string]any)["stack"].([]any); len(st) == 0 || !strings.Contains(str(st[0]), "ext4_sync_file") {
		t.Errorf("stack %v", tasks[0])
	}
	if h.kernel.Forced("lp_stall") || h.kernel.Loaded("lp_stall") || simPatch(t, h.kernel, "lp_stall") != nil {
		t.Fatal("after a stall the patch must be reversed (not forced) and unloaded")
	}
	log, _ := h.kernel.Log()
	if !strings.Contains(log, "reversing transition from patching to unpatching") || strings.Contains(log, "forcing") {
		t.Errorf("kernel log:\n%s", log)
	}
}

func TestLivepatchForce(t *testing.T) {
	h := simFleet(t, simkernel.Options{Stall: true})[0]
	ko := livepatchKo(t, "lp-force.ko", "lp_force", simRelease, false)
	r := call(t, h, "livepatch", map[string]any{"src": ko, "timeout": 1, "force": true}, false)
	expect(t, "forced", r, true, false)
	if !h.kernel.Forced("lp_force") || r["forced"] != true {
		t.Fatalf("force: true must force: %v", r)
	}
}

func TestLivepatchPreflight(t *testing.T) {
	hosts := simFleet(t, simkernel.Options{}, simkernel.Options{NoLivepatch: true}, simkernel.Options{SigEnforce: true}, simkernel.Options{Stall: true})
	wrong := livepatchKo(t, "lp-wrong.ko", "lp_wrong", "6.1.0-21-amd64", false)
	unsigned := livepatchKo(t, "lp-a.ko", "lp_a", simRelease, false)
	signed := livepatchKo(t, "lp-b.ko", "lp_b", simRelease, true)
	plain := filepath.Join(t.TempDir(), "plain.ko")
	os.WriteFile(plain, simkernel.BuildModule("name=plain", "vermagic="+simRelease+" SMP "), 0o644)

	r := call(t, hosts[0], "livepatch", map[string]any{"src": wrong}, false)
	expect(t, "wrong kernel", r, false, true, "preflight: lp-wrong.ko was built for kernel 6.1.0-21-amd64, but the host runs 6.1.0-18-amd64")
	if hosts[0].uploads != 0 {
		t.Errorf("wrong kernel: %d uploads", hosts[0].uploads)
	}
	expect(t, "not a livepatch", call(t, hosts[0], "livepatch", map[string]any{"src": plain}, false), false, true, "not a kernel live patch")
	expect(t, "no sysfs", call(t, hosts[1], "livepatch", map[string]any{"src": unsigned}, false), false, true, "/sys/kernel/livepatch is missing")
	expect(t, "sig enforced", call(t, hosts[2], "livepatch", map[string]any{"src": unsigned}, false), false, true, "unsigned and the host enforces module signatures (module.sig_enforce=1)")
	expect(t, "signed", call(t, hosts[2], "livepatch", map[string]any{"src": signed}, false), true, false)
	for i, h := range hosts[:3] {
		if i < 2 && h.uploads != 0 {
			t.Errorf("host %d: %d uploads after refusals", i, h.uploads)
		}
	}
	// A patch stalled in transition (loaded by hand) keeps kpx from starting another.
	r = call(t, hosts[3], "shell", map[string]any{"_raw_params": "insmod " + transport.Quote(uploadTo(t, hosts[3], signed))}, false)
	if r.Failed() {
		t.Fatalf("insmod by hand: %v", r)
	}
	r = call(t, hosts[3], "livepatch", map[string]any{"src": unsigned}, false)
	expect(t, "busy", r, false, true, "live patch lp_b is in transition")
	if hosts[3].uploads != 1 {
		t.Errorf("busy: %d uploads, want only the hand-made one", hosts[3].uploads)
	}
}

// uploadTo copies a local file to the host's /tmp for hand-made commands.
func uploadTo(t *testing.T, h Host, local string) string {
	remote := filepath.Join(os.TempDir(), fmt.Sprintf("kpx-test-%d-%s", time.Now().UnixNano(), filepath.Base(local)))
	t.Cleanup(func() { os.Remove(remote) })
	if err := h.Upload(context.Background(), transport.UploadSpec{Local: local, Remote: remote}); err != nil {
		t.Fatal(err)
	}
	return remote
}

func TestSimkernelRefusedWithoutMarker(t *testing.T) {
	h := transport.NewLocal(&transport.Config{Name: "localhost", Local: true})
	m, _ := Remote("livepatch_status")
	r, err := m.Run(context.Background(), h, Call{Args: map[string]any{"name": "x"}, Env: map[string]string{"KPX_SIMKERNEL": t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Failed() || !strings.Contains(str(r["msg"]), "is not a simulated kernel") {
		t.Fatalf("got %v", r)
	}
}

func TestLivepatchArgsRejected(t *testing.T) {
	cases := []struct {
		module string
		args   map[string]any
		want   string
	}{
		{"livepatch", map[string]any{"state": "enabled", "name": "x"}, "state=enabled needs src"},
		{"livepatch", map[string]any{"src": "a.ko", "state": "on"}, "value of state must be one of"},
		{"livepatch", map[string]any{"src": "a.ko", "timeout": 0}, "timeout must be a positive"},
		{"livepatch", map[string]any{"name": "../etc", "state": "absent"}, "not a kernel module name"},
		{"livepatch", map[string]any{"src": "a.ko", "forse": true}, "unsupported parameters"},
		{"livepatch", map[string]any{}, "one of the following is required: src, name"},
		{"kpatch", map[string]any{"name": "x"}, "state=loaded needs src"},
		{"ksplice", map[string]any{"state": "present"}, "state=present needs id"},
		{"kcare", map[string]any{"state": "installed"}, "must be one of"},
		{"livepatch_status", map[string]any{"enabled": true}, "missing required arguments: name"},
		{"taint", map[string]any{"baseline": "x"}, "unable to convert"},
	}
	for _, c := range cases {
		err := Builtin().CheckArgs(c.module, c.args)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %v: %v, want %q", c.module, c.args, err, c.want)
		}
	}
	if err := Builtin().CheckArgs("livepatch", map[string]any{"src": "{{ patch }}", "timeout": "{{ t }}"}); err != nil {
		t.Errorf("templates: %v", err)
	}
}
