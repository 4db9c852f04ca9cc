package modules

import (
	"context"
	"fmt"
	"strings"

	"github.com/kpxdev/kpx/transport"
)

var serviceStates = []string{"reloaded", "restarted", "started", "stopped"}

func systemdSpec() Spec {
	return Spec{Args: map[string]Arg{
		"name": {Type: Str, Aliases: []string{"service", "unit"}}, "state": {Type: Str, Choices: serviceStates},
		"enabled": {Type: Bool}, "force": {Type: Bool}, "masked": {Type: Bool},
		"daemon_reload": {Type: Bool, Aliases: []string{"daemon-reload"}}, "daemon_reexec": {Type: Bool, Aliases: []string{"daemon-reexec"}},
		"scope": {Type: Str, Choices: []string{"system", "user", "global"}}, "no_block": {Type: Bool},
	}, Validate: func(a map[string]any) error {
		a = systemdSpec0().canonical(a)
		if a["name"] == nil && (a["state"] != nil || a["enabled"] != nil || a["masked"] != nil) {
			return fmt.Errorf("missing parameter(s) required by 'state', 'enabled' or 'masked': name")
		}
		if a["name"] == nil && a["daemon_reload"] == nil && a["daemon_reexec"] == nil {
			return fmt.Errorf("one of the following is required: name, daemon_reload, daemon_reexec")
		}
		return nil
	}}
}

// systemdSpec0 is systemdSpec without its validation (which needs the aliases).
func systemdSpec0() Spec { s := systemdSpec(); s.Validate = nil; return s }

func serviceSpec() Spec {
	return Spec{Args: map[string]Arg{
		"name": {Type: Str, Required: true}, "state": {Type: Str, Choices: serviceStates},
		"enabled": {Type: Bool}, "sleep": {Type: Int}, "pattern": {Type: Str}, "runlevel": {Type: Str},
		"arguments": {Type: Str, Aliases: []string{"args"}}, "use": {Type: Str},
	}, RequiredOneOf: [][]string{{"state", "enabled"}}}
}

// serviceShell answers questions about a unit with systemctl, or with /etc/init.d
// scripts where there is no systemd.
// The systemd module needs only systemctl; service looks for a running systemd first,
// as Ansible's service module does.
func serviceShell(mustSystemd bool) string {
	if mustSystemd {
		return "kpx_systemd() { command -v systemctl >/dev/null 2>&1; }\n"
	}
	return "kpx_systemd() { command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; }\n"
}

// runSystemd manages a systemd unit: daemon-reload, state, enabled, masked.
func runSystemd(ctx context.Context, h Host, c Call) (Result, error) {
	return manageService(ctx, h, c, true)
}

// runService manages a service with systemd when the host runs it, else its init script.
func runService(ctx context.Context, h Host, c Call) (Result, error) {
	return manageService(ctx, h, c, false)
}

// unitState is what the host says of a unit.
type unitState struct {
	props   map[string]string // systemctl show
	active  bool
	enabled string // systemctl is-enabled: enabled, disabled, masked, static, ...
	sysv    bool   // managed with an init script
}

func queryUnit(ctx context.Context, h Host, c Call, name string, mustSystemd bool) (unitState, error) {
	q := transport.Quote(name)
	script := serviceShell(mustSystemd) + `if kpx_systemd; then
	echo mode=systemd
	systemctl show ` + q + ` 2>&1 | sed 's/^/prop:/'
	echo "enabled=$(systemctl is-enabled ` + q + ` 2>/dev/null)"
	exit 0
fi
`
	if mustSystemd {
		script += `echo "systemd: systemctl is not available on this host, or the host does not run systemd" >&2; exit 3`
	} else {
		script += `s=/etc/init.d/` + q + `
[ -x "$s" ] || { echo "service: no systemd and no init script $s for this service" >&2; exit 3; }
echo mode=sysv
if "$s" status >/dev/null 2>&1; then echo active=1; fi
ls /etc/rc?.d/S??` + q + ` >/dev/null 2>&1 && echo enabled=enabled || echo enabled=disabled`
	}
	res, err := mustRun(ctx, h, c, "query "+name, script)
	if err != nil {
		return unitState{}, err
	}
	st := unitState{props: map[string]string{}}
	for _, line := range strings.Split(string(res.Stdout), "\n") {
		switch {
		case strings.HasPrefix(line, "prop:"):
			k, v, _ := strings.Cut(strings.TrimPrefix(line, "prop:"), "=")
			st.props[k] = v
		case line == "mode=sysv":
			st.sysv = true
		case line == "active=1":
			st.active = true
		case strings.HasPrefix(line, "enabled="):
			st.enabled = strings.TrimPrefix(line, "enabled=")
		}
	}
	if !st.sysv {
		st.active = st.props["ActiveState"] == "active" || st.props["ActiveState"] == "activating" || st.props["ActiveState"] == "reloading"
		if st.props["LoadState"] == "not-found" && st.enabled == "" {
			return st, fmt.Errorf("Could not find the requested service %s: host", name)
		}
	}
	return st, nil
}

func manageService(ctx context.Context, h Host, c Call, systemd bool) (Result, error) {
	a := c.Args
	name := str(a["name"])
	r := Result{"changed": false}
	var cmds []string
	if boolArg(a, "daemon_reload", false) {
		cmds = append(cmds, "systemctl daemon-reload")
		r["changed"] = true
	}
	if boolArg(a, "daemon_reexec", false) {
		cmds = append(cmds, "systemctl daemon-reexec")
		r["changed"] = true
	}
	if name == "" {
		return applyService(ctx, h, c, r, cmds)
	}
	r["name"] = name
	st, err := queryUnit(ctx, h, c, name, systemd)
	if err != nil {
		return failure(r, err)
	}
	if !st.sysv {
		r["status"] = toAnyMapS(st.props)
	}
	q := transport.Quote(name)
	ctl := func(verb string) string {
		if st.sysv {
			return "/etc/init.d/" + q + " " + verb
		}
		if boolArg(a, "no_block", false) {
			return "systemctl --no-block " + verb + " " + q
		}
		return "systemctl " + verb + " " + q
	}
	if m, ok := a["masked"]; ok && m != nil {
		want, _ := AnsibleBool(m)
		if want != (st.enabled == "masked") {
			cmds = append(cmds, ctl(map[bool]string{true: "mask", false: "unmask"}[want]))
			r["changed"] = true
		}
	}
	if e, ok := a["enabled"]; ok && e != nil {
		want, _ := AnsibleBool(e)
		r["enabled"] = want
		on := st.enabled == "enabled" || st.enabled == "enabled-runtime" || st.enabled == "alias" || st.enabled == "static"
		if want != on {
			r["changed"] = true
			switch {
			case !st.sysv:
				cmds = append(cmds, ctl(map[bool]string{true: "enable", false: "disable"}[want]))
			case want:
				cmds = append(cmds, "update-rc.d "+q+" defaults")
			default:
				cmds = append(cmds, "update-rc.d -f "+q+" remove")
			}
		}
	}
	if state := str(a["state"]); state != "" {
		r["state"] = state
		switch {
		case state == "started" && !st.active:
			cmds, r["changed"] = append(cmds, ctl("start")), true
		case state == "stopped" && st.active:
			cmds, r["changed"] = append(cmds, ctl("stop")), true
		case state == "restarted":
			cmds, r["changed"] = append(cmds, ctl("restart")), true
		case state == "reloaded" && !st.active:
			cmds, r["changed"] = append(cmds, ctl("start")), true
		case state == "reloaded":
			cmds, r["changed"] = append(cmds, ctl("reload")), true
		}
	}
	return applyService(ctx, h, c, r, cmds)
}

func applyService(ctx context.Context, h Host, c Call, r Result, cmds []string) (Result, error) {
	if c.Check || len(cmds) == 0 {
		return r, nil
	}
	if _, err := mustRun(ctx, h, c, str(r["name"]), strings.Join(cmds, " && ")); err != nil {
		return failure(r, err)
	}
	return r, nil
}

func toAnyMapS(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
