package modules

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/kpxdev/kpx/transport"
)

// enableLivepatch is state=enabled: preflight, upload, load, wait, and on a stall reverse.
func enableLivepatch(ctx context.Context, h Host, c Call, a livepatchArgs, ko *KernelModule) (Result, error) {
	if strings.HasSuffix(ko.Path, ".gz") {
		return errorf("%s: load a decompressed .ko (the kernel's insmod may not read gzip)", a.src), nil
	}
	sum, err := fileSHA256(ko.Path)
	if err != nil {
		return errorf("%v", err), nil
	}
	raw, bad, err := probeLivepatch(ctx, h, c, a.name)
	if err != nil || bad != nil {
		return derefResult(bad), err
	}
	r := Result{"changed": false, "name": a.name, "state": "enabled", "sha256": sum, "kernel": raw.get("release")}
	reload, warnings, msg := preflightEnable(a, ko, sum, raw)
	if msg != "" {
		r["failed"], r["msg"], r["preflight"] = true, "preflight: "+msg, true
		return r, nil
	}
	if len(warnings) > 0 {
		r["warnings"] = toAny(warnings)
	}
	if p := findPatch(probePatches(raw), a.name); p != nil && p.enabled && !p.transition {
		r["enabled"], r["transition"], r["msg"] = true, false, a.name+" is already enabled with this build"
		return r, nil
	}
	r["changed"] = true
	if c.Check {
		r["msg"] = "would load " + path.Base(ko.Path) + " and enable " + a.name
		return r, nil
	}
	updir, remote, bad, err := uploadPrivately(ctx, h, c, ko.Path, a.name)
	if err != nil || bad != nil {
		return mergeFailure(r, bad), err
	}
	o, err := runKernel(ctx, h, c, map[string]string{
		"name": a.name, "upload": remote, "updir": updir, "sha256": sum, "timeout": strconv.Itoa(a.timeout),
		"force": boolFlag(a.force), "install": boolFlag(a.install), "reload": boolFlag(reload),
	}, livepatchApply)
	if err != nil {
		return nil, err
	}
	return applyResult(r, a, o), nil
}

// preflightEnable decides, before anything is uploaded, whether the module may be loaded
// on this host: kernel release, live patching present, no transition running, signature
// enforcement. It returns whether a disabled copy must be unloaded first, warnings, and
// the reason to refuse ("" when none).
func preflightEnable(a livepatchArgs, ko *KernelModule, sum string, raw rawFacts) (bool, []string, string) {
	release := raw.get("release")
	if ko.Release != release {
		return false, nil, fmt.Sprintf("%s was built for kernel %s, but the host runs %s; nothing was uploaded", path.Base(ko.Path), ko.Release, release)
	}
	if raw.get("sysfs") != "yes" {
		return false, nil, "/sys/kernel/livepatch is missing: this kernel has no live patching (CONFIG_LIVEPATCH)"
	}
	patches := probePatches(raw)
	cur := findPatch(patches, a.name)
	if cur != nil && cur.enabled && !cur.transition && raw.get("sha256") != sum {
		known := raw.get("sha256")
		if known == "" {
			known = "not recorded by kpx"
		}
		return false, nil, fmt.Sprintf("another build of %s is enabled (sha256 %s); remove it first (state: absent)", a.name, known)
	}
	for _, p := range patches {
		if p.transition {
			return false, nil, fmt.Sprintf("live patch %s is in transition; kpx starts no other until it settles", p.name)
		}
	}
	var warnings []string
	if !ko.Signed {
		enforced := ""
		switch {
		case raw.get("sig_enforce") == "Y":
			enforced = "module.sig_enforce=1"
		case raw.get("lockdown") == "integrity" || raw.get("lockdown") == "confidentiality":
			enforced = "lockdown=" + raw.get("lockdown")
		}
		if enforced != "" {
			return false, nil, fmt.Sprintf("%s is unsigned and the host enforces module signatures (%s)", path.Base(ko.Path), enforced)
		}
		warnings = append(warnings, path.Base(ko.Path)+" is unsigned: loading it taints the kernel (E)")
	}
	reload := raw.get("loaded") == "yes" && (cur == nil || !cur.enabled)
	return reload, warnings, ""
}

// applyResult reads the apply script's report into the result.
func applyResult(r Result, a livepatchArgs, o kernelOutput) Result {
	if o.refused() {
		return mergeFailure(r, ptr(kernelFailure("the simulated kernel was refused", o)))
	}
	raw := o.raw
	if raw.get("inserted") != "yes" {
		r["changed"] = raw.get("reloaded") == "yes"
		return mergeFailure(r, ptr(loadFailure(raw, o)))
	}
	if raw.get("stalled") == "yes" {
		r["blocking_tasks"] = blockingTasks(raw)
		r["stalled"] = true
	}
	if raw.get("forced") == "yes" {
		r["forced"] = true
		appendWarning(r, fmt.Sprintf("the transition stalled and was forced (force: true): %s", describeBlockers(raw)))
	}
	if raw.get("stalled") == "yes" && raw.get("forced") != "yes" {
		r["reversed"] = raw.get("reversed") == "yes"
		r["unloaded"] = raw.get("unloaded") == "yes"
		r["enabled"] = false
		msg := fmt.Sprintf("transition of %s to enabled stalled after %ds, blocked by %s; ", a.name, a.timeout, describeBlockers(raw))
		switch {
		case raw.get("reverse_stalled") == "yes":
			msg += "the reversal (0 written to enabled) has not finished either: the host needs attention (the patch was not forced)"
		case raw.get("reversed") == "yes" && raw.get("unloaded") == "yes":
			msg += "the transition was reversed (not forced) and the patch unloaded"
		case raw.get("reversed") == "yes":
			msg += "the transition was reversed (not forced); rmmod failed: " + raw.get("rmmod_error")
		default:
			msg += "reversing it failed: " + raw.get("error")
		}
		r["failed"], r["msg"] = true, msg
		return r
	}
	if e := raw.get("error"); e != "" {
		r["failed"], r["msg"] = true, e
		return r
	}
	r["enabled"], r["transition"] = raw.get("enabled") == "yes", raw.get("transition") == "1"
	r["msg"] = a.name + " enabled"
	if p := raw.get("installed"); p != "" {
		r["installed"] = p
	}
	return r
}

func loadFailure(raw rawFacts, o kernelOutput) Result {
	if e := raw.get("error"); e != "" {
		return errorf("%s", e)
	}
	return kernelFailure("loading the live patch failed", o)
}

// blockingTasks lists the tasks that held a transition back, with their stacks.
func blockingTasks(raw rawFacts) []any {
	stacks := map[string]string{}
	for _, s := range raw["stack"] {
		tid, st, _ := strings.Cut(s, " ")
		stacks[tid] = strings.TrimSuffix(st, ";")
	}
	out := []any{}
	for _, b := range raw["blocker"] {
		f := strings.SplitN(b, " ", 3)
		if len(f) < 2 {
			continue
		}
		t := map[string]any{"pid": atoi(f[0]), "tid": atoi(f[1]), "comm": ""}
		if len(f) == 3 {
			t["comm"] = f[2]
		}
		if st, ok := stacks[f[1]]; ok {
			t["stack"] = toAny(strings.Split(st, ";"))
		}
		out = append(out, t)
	}
	return out
}

func describeBlockers(raw rawFacts) string {
	var parts []string
	for _, b := range raw["blocker"] {
		f := strings.SplitN(b, " ", 3)
		if len(f) == 3 {
			parts = append(parts, fmt.Sprintf("task %s (%s, pid %s)", f[1], f[2], f[0]))
		} else if len(f) >= 2 {
			parts = append(parts, "task "+f[1])
		}
	}
	if len(parts) == 0 {
		return "no task kpx could name"
	}
	return strings.Join(parts, ", ")
}

func appendWarning(r Result, w string) {
	ws, _ := r["warnings"].([]any)
	r["warnings"] = append(ws, w)
}

func mergeFailure(r Result, bad *Result) Result {
	if bad == nil {
		return r
	}
	for k, v := range *bad {
		if k == "changed" {
			continue
		}
		r[k] = v
	}
	return r
}

func derefResult(r *Result) Result {
	if r == nil {
		return nil
	}
	return *r
}

func ptr(r Result) *Result { return &r }

func boolFlag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// removeLivepatch is state=disabled and state=absent.
func removeLivepatch(ctx context.Context, h Host, c Call, a livepatchArgs) (Result, error) {
	raw, bad, err := probeLivepatch(ctx, h, c, a.name)
	if err != nil || bad != nil {
		return derefResult(bad), err
	}
	r := Result{"changed": false, "name": a.name, "state": a.state, "kernel": raw.get("release")}
	cur := findPatch(probePatches(raw), a.name)
	loaded := raw.get("loaded") == "yes"
	need := cur != nil && (cur.enabled || cur.transition) || a.state == "absent" && loaded
	if !need {
		r["enabled"], r["msg"] = false, a.name+" is already "+a.state
		return r, nil
	}
	r["changed"] = true
	if c.Check {
		r["msg"] = "would make " + a.name + " " + a.state
		return r, nil
	}
	o, err := runKernel(ctx, h, c, map[string]string{"name": a.name, "state": a.state, "timeout": strconv.Itoa(a.timeout)}, livepatchRemove)
	if err != nil {
		return nil, err
	}
	if o.refused() {
		return mergeFailure(r, ptr(kernelFailure("the simulated kernel was refused", o))), nil
	}
	if o.raw.get("stalled") == "yes" {
		r["blocking_tasks"], r["reversed"] = blockingTasks(o.raw), o.raw.get("reversed") == "yes"
		r["failed"], r["msg"] = true, fmt.Sprintf("disabling %s stalled after %ds, blocked by %s; the transition was reversed (not forced) and the patch stays enabled",
			a.name, a.timeout, describeBlockers(o.raw))
		return r, nil
	}
	if e := o.raw.get("error"); e != "" || o.status != 0 {
		return mergeFailure(r, ptr(loadFailureOr(o, "removing the live patch failed"))), nil
	}
	r["enabled"] = false
	r["msg"] = a.name + " " + a.state
	if a.state == "absent" {
		r["verified"] = o.raw.get("verified") == "yes"
	}
	return r, nil
}

func loadFailureOr(o kernelOutput, what string) Result {
	if e := o.raw.get("error"); e != "" {
		return errorf("%s", e)
	}
	return kernelFailure(what, o)
}

// isUnreachable reports whether err means the host could not be reached at all.
func isUnreachable(err error) bool {
	var u *transport.UnreachableError
	return errors.As(err, &u)
}
