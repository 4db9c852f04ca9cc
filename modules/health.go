package modules

import (
	"context"
	"fmt"
	"strings"
)

// LivepatchStatus is the livepatch_status check: the named patch is (or is not) enabled
// and (not) in transition.
var LivepatchStatus Module = Func(func(ctx context.Context, h Host, c Call) (Result, error) {
	name := strings.ReplaceAll(str(c.Args["name"]), "-", "_")
	wantEnabled, wantTransition := true, false
	if b, ok := AnsibleBool(c.Args["enabled"]); ok && c.Args["enabled"] != nil {
		wantEnabled = b
	}
	if b, ok := AnsibleBool(c.Args["transition"]); ok && c.Args["transition"] != nil {
		wantTransition = b
	}
	raw, bad, err := probeLivepatch(ctx, h, c, name)
	if err != nil || bad != nil {
		return derefResult(bad), err
	}
	r := Result{"changed": false, "name": name, "kernel": raw.get("release")}
	p := findPatch(probePatches(raw), name)
	enabled, transition := p != nil && p.enabled, p != nil && p.transition
	r["enabled"], r["transition"], r["present"] = enabled, transition, p != nil
	var problems []string
	if enabled != wantEnabled {
		problems = append(problems, fmt.Sprintf("enabled is %v, expected %v", enabled, wantEnabled))
	}
	if transition != wantTransition {
		problems = append(problems, fmt.Sprintf("transition is %v, expected %v", transition, wantTransition))
	}
	if len(problems) > 0 {
		r["failed"], r["msg"] = true, "live patch "+name+": "+strings.Join(problems, "; ")
		return r, nil
	}
	r["msg"] = "live patch " + name + " is as expected"
	return r, nil
})

// defaultDeny are the kernel log patterns kernel_log refuses when none are given.
var defaultDeny = []string{"Oops", "BUG:", "WARNING:", "Call Trace", "livepatch: failed"}

// kernelLogScript prints the kernel log lines after the cursor (the argument since, else
// the baseline recorded when kpx last changed the kernel), or records a new baseline.
const kernelLogScript = `
dmesg >/dev/null 2>&1 || { echo "cannot read the kernel log with dmesg (dmesg_restrict? run the check with become)" >&2; exit 1; }
if [ "$mark" = 1 ]; then kpx_baseline || exit 1; p cursor "$(sed -n 's/^log_cursor=//p' "$kpx_state/baseline")"; exit 0; fi
cursor=$since
[ -n "$cursor" ] || cursor=$(sed -n 's/^log_cursor=//p' "$kpx_state/baseline" 2>/dev/null)
[ -f "$kpx_state/baseline" ] || [ -n "$since" ] || { p baseline none; exit 0; }
p cursor "$cursor"
p now "$(kpx_log_cursor)"
dmesg 2>/dev/null | awk -v c="$cursor" 'match($0, /^\[ *[0-9.]+\]/) { t = substr($0, RSTART + 1, RLENGTH - 2) + 0; if (c == "" || t > c + 0) print "line=" $0 }' | tail -n 2000
`

// KernelLog is the kernel_log check: no kernel log line written since the wave began
// matches a deny pattern. With mark: true it records where the wave begins instead.
var KernelLog Module = Func(func(ctx context.Context, h Host, c Call) (Result, error) {
	mark, _ := AnsibleBool(c.Args["mark"])
	deny := strList(c.Args["deny"])
	if s, ok := c.Args["deny"].(string); ok {
		deny = strings.Split(s, ",")
	}
	if c.Args["deny"] == nil {
		deny = defaultDeny
	}
	o, err := runKernel(ctx, h, c, map[string]string{"mark": boolFlag(mark), "since": str(c.Args["since"])}, kernelLogScript)
	if err != nil {
		return nil, err
	}
	if o.status != 0 {
		return kernelFailure("reading the kernel log failed", o), nil
	}
	if mark {
		return Result{"changed": false, "cursor": o.raw.get("cursor"), "msg": "kernel log position recorded"}, nil
	}
	r := Result{"changed": false, "cursor": o.raw.get("cursor"), "deny": toAny(deny)}
	if o.raw.get("baseline") == "none" {
		r["new_lines"], r["msg"] = 0, "no baseline on this host (kpx has not changed its kernel): no new lines to check"
		r["warnings"] = []any{"kernel_log: no baseline recorded on this host; use mark: true at the start of a wave"}
		return r, nil
	}
	lines := o.raw["line"]
	var matched []any
	for _, l := range lines {
		for _, d := range deny {
			if d != "" && strings.Contains(l, d) {
				matched = append(matched, l)
				break
			}
		}
	}
	r["new_lines"] = len(lines)
	if len(matched) > 0 {
		r["matched"], r["failed"] = matched, true
		r["msg"] = fmt.Sprintf("%d new kernel log line(s) match a deny pattern: %s", len(matched), matched[0])
		return r, nil
	}
	r["matched"], r["msg"] = []any{}, fmt.Sprintf("%d new kernel log line(s), none denied", len(lines))
	return r, nil
})

const taintScript = `
p tainted "$(cat "$kpx_proc/sys/kernel/tainted" 2>/dev/null)"
p baseline "$(sed -n 's/^tainted=//p' "$kpx_state/baseline" 2>/dev/null)"
`

// Taint is the taint check: no taint bit has appeared since the wave began beyond the
// allowed ones (K live patch, O out-of-tree, E unsigned by default).
var Taint Module = Func(func(ctx context.Context, h Host, c Call) (Result, error) {
	allow := strList(c.Args["allow"])
	if s, ok := c.Args["allow"].(string); ok {
		allow = strings.Split(s, ",")
	}
	if c.Args["allow"] == nil {
		allow = []string{"K", "O", "E"}
	}
	o, err := runKernel(ctx, h, c, nil, taintScript)
	if err != nil {
		return nil, err
	}
	if o.status != 0 || o.raw.get("tainted") == "" {
		return kernelFailure("reading /proc/sys/kernel/tainted failed", o), nil
	}
	now := atoi(o.raw.get("tainted"))
	base := atoiOr(o.raw.get("baseline"), -1)
	if v, ok := c.Args["baseline"]; ok && v != nil {
		base = atoiOr(str(v), -1)
	}
	r := Result{"changed": false, "tainted": now, "letters": taintLetters(now), "allow": toAny(allow)}
	if base < 0 {
		r["msg"] = "no baseline on this host (kpx has not changed its kernel): no new taint to check"
		r["warnings"] = []any{"taint: no baseline recorded on this host"}
		return r, nil
	}
	newBits := now &^ base
	bad := ""
	for _, l := range taintLetters(newBits) {
		if !containsFold(allow, string(l)) {
			bad += string(l)
		}
	}
	r["baseline"], r["new"] = base, taintLetters(newBits)
	if bad != "" {
		r["failed"], r["msg"] = true, fmt.Sprintf("the kernel gained taint %s since the wave began (allowed: %s)", bad, strings.Join(allow, ", "))
		return r, nil
	}
	r["msg"] = fmt.Sprintf("no new taint beyond %s", strings.Join(allow, ", "))
	return r, nil
})

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(strings.TrimSpace(x), s) {
			return true
		}
	}
	return false
}
