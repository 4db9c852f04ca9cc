package modules

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/kpxdev/kpx/transport"
)

func waitForSpec() Spec {
	return Spec{Args: map[string]Arg{
		"host": {Type: Str}, "port": {Type: Int}, "path": {Type: Path},
		"search_regex": {Type: Str}, "state": {Type: Str, Choices: []string{"absent", "drained", "present", "started", "stopped"}},
		"timeout": {Type: Int}, "delay": {Type: Int}, "connect_timeout": {Type: Int}, "sleep": {Type: Int},
		"msg": {Type: Str}, "exclude_hosts": {Type: List}, "active_connection_states": {Type: List},
	}, MutuallyExclusive: [][]string{{"port", "path"}}, Validate: func(a map[string]any) error {
		if s, ok := a["search_regex"].(string); ok && !isTemplate(s) {
			if _, err := pyRegexp(s); err != nil {
				return fmt.Errorf("search_regex: %v", err)
			}
		}
		if a["port"] != nil && a["search_regex"] != nil {
			return fmt.Errorf("search_regex with port (reading from a socket) is not supported by kpx; use it with path")
		}
		if str(a["state"]) == "drained" && a["port"] == nil {
			return fmt.Errorf("state=drained needs a port")
		}
		return nil
	}}
}

// waitShell holds the port tests: listening sockets from /proc/net/tcp for local
// addresses (busybox has no nc -z), else a connection with bash's /dev/tcp or nc.
const waitShell = `kpx_hexport() { printf '%04X' "$1"; }
kpx_listening() {
	[ -r /proc/net/tcp ] || return 2
	awk -v p="$(kpx_hexport "$1")" 'FNR>1 { n=split($2,a,":"); if (a[n]==p && $4=="0A") f=1 } END { exit !f }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
kpx_established() {
	awk -v p="$(kpx_hexport "$1")" 'FNR>1 { n=split($2,a,":"); if (a[n]==p && $4=="01") f=1 } END { exit !f }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
kpx_connect() {
	case "$1" in 127.*|localhost|::1|0.0.0.0|::) kpx_listening "$2"; r=$?; [ $r -ne 2 ] && return $r ;; esac
	if command -v bash >/dev/null 2>&1; then
		if command -v timeout >/dev/null 2>&1; then timeout "$3" bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null; return $?; fi
		bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null; return $?
	fi
	if command -v nc >/dev/null 2>&1; then nc -z -w "$3" "$1" "$2" >/dev/null 2>&1; return $?; fi
	echo "wait_for: no way to test a TCP port on this host (need /proc/net/tcp, bash or nc)" >&2; exit 3
}
`

// runWaitFor waits, on the host, for a port to open or close, a file to appear (with a
// match) or go, or simply for timeout seconds, as Ansible's wait_for does.
func runWaitFor(ctx context.Context, h Host, c Call) (Result, error) {
	a := c.Args
	host := str(a["host"])
	if host == "" {
		host = "127.0.0.1"
	}
	state := str(a["state"])
	if state == "" {
		state = "started"
	}
	timeout, delay, sleep := intArg(a, "timeout", 300), intArg(a, "delay", 0), intArg(a, "sleep", 1)
	ct := intArg(a, "connect_timeout", 5)
	port, p, re := str(a["port"]), str(a["path"]), str(a["search_regex"])
	test, what := "", ""
	q := transport.Quote
	switch {
	case port != "" && (state == "started" || state == "present"):
		test, what = fmt.Sprintf("kpx_connect %s %s %d", q(host), q(port), ct), fmt.Sprintf("Timeout when waiting for %s:%s", host, port)
	case port != "" && state == "stopped":
		test, what = fmt.Sprintf("! kpx_connect %s %s %d", q(host), q(port), ct), fmt.Sprintf("Timeout when waiting for %s:%s to stop.", host, port)
	case port != "" && state == "drained":
		test, what = fmt.Sprintf("! kpx_established %s", q(port)), fmt.Sprintf("Timeout when waiting for %s:%s to drain", host, port)
	case p != "" && (state == "absent" || state == "stopped"):
		test, what = fmt.Sprintf("[ ! -e %s ]", q(p)), fmt.Sprintf("Timeout when waiting for %s to be absent.", p)
	case p != "" && re != "":
		test, what = fmt.Sprintf("[ -r %s ] && grep -Eq -- %s %s", q(p), q(re), q(p)), fmt.Sprintf("Timeout when waiting for search string %s in %s", re, p)
	case p != "":
		test, what = fmt.Sprintf("[ -e %s ]", q(p)), fmt.Sprintf("Timeout when waiting for file %s", p)
	}
	if test == "" {
		test = "false"
	}
	script := fmt.Sprintf(`%s
end=$(( $(date +%%s) + %d )); sleep %d
while :; do
	if %s; then echo ok; exit 0; fi
	[ "$(date +%%s)" -ge "$end" ] && { echo timeout; exit 0; }
	sleep %d
done`, waitShell, timeout, delay, test, max(sleep, 1))
	start := time.Now()
	res, err := sh(ctx, h, c, script)
	if err != nil {
		return failure(nil, err)
	}
	r := Result{"changed": false, "elapsed": int(time.Since(start).Seconds()), "state": state}
	if port != "" {
		r["port"] = intArg(a, "port", 0)
	}
	if p != "" {
		r["path"] = p
	}
	if re != "" {
		r["search_regex"] = re
		r["match_groups"], r["match_groupdict"] = []any{}, map[string]any{}
	}
	out := strings.TrimSpace(string(res.Stdout))
	switch {
	case res.ExitStatus != 0:
		r["failed"], r["msg"] = true, strings.TrimSpace(string(res.Stderr))
	case out == "timeout" && test == "false":
		// No condition: waiting out the timeout is success.
	case out == "timeout":
		r["failed"], r["msg"] = true, what
		if m := str(a["msg"]); m != "" {
			r["msg"] = m
		}
	}
	return r, nil
}
