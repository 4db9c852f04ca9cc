package modules

import (
	"context"
	"fmt"
	"regexp"
	"strings"
)

// uptrackErrors are Ksplice Uptrack's documented exit statuses.
var uptrackErrors = map[int]string{
	1:  "Uptrack failed (see its output)",
	13: "Ksplice Uptrack does not support this kernel",
	17: "the Ksplice Uptrack subscription has expired",
	19: "this machine has not been activated for Ksplice Uptrack",
}

var uptrackUpdateRE = regexp.MustCompile(`^\[([0-9a-z]+)\]\s*(.*)$`)

// parseUptrackShow reads `uptrack-show [--available]`: "[id] description" lines.
func parseUptrackShow(out string) []any {
	updates := []any{}
	for _, l := range strings.Split(out, "\n") {
		if m := uptrackUpdateRE.FindStringSubmatch(strings.TrimSpace(l)); m != nil {
			updates = append(updates, map[string]any{"id": m[1], "description": m[2]})
		}
	}
	return updates
}

func uptrackMessage(rc int, out string) string {
	if m, ok := uptrackErrors[rc]; ok {
		return fmt.Sprintf("ksplice: %s (exit %d): %s", m, rc, lastLine(out))
	}
	return fmt.Sprintf("ksplice: uptrack exited %d: %s", rc, lastLine(out))
}

// Ksplice is the ksplice module: Oracle Ksplice Uptrack installs (state latest: every
// available update; present: the update id), or removes (absent: id, or all) updates.
var Ksplice Module = Func(func(ctx context.Context, h Host, c Call) (Result, error) {
	state := str(c.Args["state"])
	if state == "" {
		state = "latest"
	}
	id := str(c.Args["id"])
	r := Result{"changed": false, "state": state}
	show := func(arg string) ([]any, bool, Result, error) {
		out, rc, err := toolRun(ctx, h, c, "uptrack-show "+arg)
		if err != nil || rc != 0 {
			return nil, false, Result{"failed": true, "rc": rc, "msg": uptrackMessage(rc, out)}, err
		}
		return parseUptrackShow(out), true, nil, nil
	}
	installed, ok, bad, err := show("")
	if !ok {
		return mergeFailure(r, &bad), err
	}
	available, ok, bad, err := show("--available")
	if !ok {
		return mergeFailure(r, &bad), err
	}
	has := func(list []any, id string) bool {
		for _, u := range list {
			if u.(map[string]any)["id"] == id {
				return true
			}
		}
		return false
	}
	var cmdline string
	switch {
	case state == "latest" && len(available) > 0:
		cmdline = "uptrack-upgrade -y"
	case state == "present" && !has(installed, id):
		if !has(available, id) {
			r["failed"], r["msg"] = true, "ksplice: update "+id+" is neither installed nor available"
			return r, nil
		}
		cmdline = "uptrack-install -y " + shQuoteArg(id)
	case state == "absent" && id == "all" && len(installed) > 0:
		cmdline = "uptrack-remove -y --all"
	case state == "absent" && id != "all" && has(installed, id):
		cmdline = "uptrack-remove -y " + shQuoteArg(id)
	}
	r["installed"], r["available"] = installed, available
	if cmdline != "" {
		r["changed"] = true
		if c.Check {
			r["msg"] = "would run: " + cmdline
		} else {
			out, rc, err := toolRun(ctx, h, c, "kpx_baseline; "+cmdline)
			if err != nil {
				return nil, err
			}
			r["stdout"], r["rc"] = out, rc
			if rc != 0 {
				r["failed"], r["msg"] = true, uptrackMessage(rc, out)
				return r, nil
			}
			r["msg"] = lastLine(out)
			if installed, ok, _, err = show(""); ok {
				r["installed"] = installed
			} else if err != nil {
				return nil, err
			}
		}
	} else {
		r["msg"] = "nothing to do"
	}
	eff, rc, err := toolRun(ctx, h, c, "uptrack-uname -r")
	if err != nil {
		return nil, err
	}
	if rc == 0 {
		r["effective_kernel"] = strings.TrimSpace(eff)
	}
	return r, nil
})

// kcareStatus are `kcarectl --status` exit statuses.
var kcareStatus = map[int]string{0: "up to date", 1: "no patches applied", 2: "updates available", 3: "unsupported kernel"}

// Kcare is the kcare module: KernelCare applies the latest patches (state latest,
// kcarectl --update) or unloads them (absent, --unload); --status decides what is to be
// done and --info, --uname report the result.
var Kcare Module = Func(func(ctx context.Context, h Host, c Call) (Result, error) {
	state := str(c.Args["state"])
	if state == "" {
		state = "latest"
	}
	r := Result{"changed": false, "state": state}
	_, status, err := toolRun(ctx, h, c, "kcarectl --status")
	if err != nil {
		return nil, err
	}
	r["status"] = kcareStatus[status]
	var cmdline string
	switch {
	case status == 3 || status == 97 || kcareStatus[status] == "":
		r["failed"], r["msg"] = true, fmt.Sprintf("kcare: kcarectl --status exited %d (%s)", status, kcareStatus[status])
		return r, nil
	case state == "latest" && status != 0:
		cmdline = "kcarectl --update"
	case state == "absent" && status != 1:
		cmdline = "kcarectl --unload"
	}
	if cmdline != "" {
		r["changed"] = true
		if c.Check {
			r["msg"] = "would run: " + cmdline
			return r, nil
		}
		out, rc, err := toolRun(ctx, h, c, "kpx_baseline; "+cmdline)
		if err != nil {
			return nil, err
		}
		r["stdout"], r["rc"] = out, rc
		if rc != 0 {
			r["failed"], r["msg"] = true, "kcare: "+cmdline+" failed: "+lastLine(out)
			return r, nil
		}
		r["msg"] = lastLine(out)
	} else {
		r["msg"] = "KernelCare is already " + map[string]string{"latest": "up to date", "absent": "unloaded"}[state]
	}
	info, _, err := toolRun(ctx, h, c, "kcarectl --info")
	if err != nil {
		return nil, err
	}
	r["info"] = parseKcareInfo(info)
	if eff, rc, err := toolRun(ctx, h, c, "kcarectl --uname"); err != nil {
		return nil, err
	} else if rc == 0 {
		r["effective_kernel"] = strings.TrimSpace(eff)
	}
	return r, nil
})

// parseKcareInfo reads `kcarectl --info`'s "key: value" lines.
func parseKcareInfo(out string) map[string]any {
	info := map[string]any{}
	for _, l := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(l, ": "); ok && !strings.Contains(k, " ") {
			info[k] = strings.TrimSpace(v)
		}
	}
	return info
}
