package modules

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/kpxdev/kpx/transport"
)

// kernelPrelude starts every script that reads or changes the kernel. It names the
// kernel's roots: /sys, /proc and kpx's state dir /var/lib/kpx on a real host. A simulated
// kernel (internal/simkernel) replaces them only when the session's environment names
// it in KPX_SIMKERNEL and the directory carries simkernel's marker, is owned by the user
// the script runs as, and is writable by nobody else; anything else named there is refused,
// never followed. sudo's env_reset drops KPX_SIMKERNEL, so a become task on a real host
// always sees the real kernel. kpx_write is how a value reaches a sysfs attribute (the
// simulated kernel models the kernel's reaction to the write).
const kernelPrelude = `kpx_sys=/sys kpx_proc=/proc kpx_state=/var/lib/kpx kpx_etc=/etc kpx_sim=
p() { printf '%s=%s\n' "$1" "$2"; }
# kpx_cat FILE: the first line of FILE (a sysfs attribute, a /proc/PID file, a state file),
# empty when it cannot be read; the shell reads it itself, without starting a process on
# the host. Not for /proc/sys: dash reads a byte at a time, and a sysctl file answers only
# a read at offset 0 (tainted=45056 would read as "4").
kpx_cat() { kpx_l=; { IFS= read -r kpx_l <"$1"; } 2>/dev/null; printf '%s' "$kpx_l"; }
if [ -n "${KPX_SIMKERNEL:-}" ]; then
	kpx_r=$KPX_SIMKERNEL
	case $kpx_r in /?*) ;; *) echo "kpx: KPX_SIMKERNEL=$kpx_r is not an absolute path; refusing it" >&2; exit 97 ;; esac
	kpx_bad=$(find "$kpx_r" "$kpx_r/bin" "$kpx_r/lib" -maxdepth 1 \( ! -user "$(id -u)" -o -perm -020 -o -perm -002 \) -print 2>/dev/null)
	if [ ! -f "$kpx_r/.kpx-simkernel" ] || [ -n "$kpx_bad" ]; then
		echo "kpx: KPX_SIMKERNEL=$kpx_r is not a simulated kernel owned by $(id -un) and writable only by it; refusing it" >&2
		exit 97
	fi
	kpx_sim=$kpx_r kpx_sys=$kpx_r/sys kpx_proc=$kpx_r/proc kpx_state=$kpx_r/var/lib/kpx kpx_etc=$kpx_r/etc
	PATH=$kpx_r/bin:$PATH
	export PATH
fi
kpx_write() {
	if [ -n "$kpx_sim" ]; then "$kpx_sim/bin/kpx-sysfs-write" "$1" "$2"; else printf '%s\n' "$2" >"$1"; fi
}
kpx_sleep() { sleep 0.2 2>/dev/null || sleep 1; }
# kpx_wait_transition DIR DEADLINE: 0 once DIR's transition is 0 (or DIR is gone), 1 at DEADLINE.
kpx_wait_transition() {
	while [ -d "$1" ] && [ "$(kpx_cat "$1/transition")" = 1 ]; do
		[ "$(date +%s)" -ge "$2" ] && return 1
		kpx_sleep
	done
	return 0
}
# kpx_blockers TARGET: the tasks whose patch_state is not TARGET, with their stacks.
kpx_blockers() {
	for f in "$kpx_proc"/[0-9]*/task/[0-9]*/patch_state; do
		[ -r "$f" ] || continue
		s=$(kpx_cat "$f")
		[ "$s" = -1 ] || [ "$s" = "$1" ] && continue
		d=${f%/patch_state}; tid=${d##*/}; pd=${d%/task/*}; pid=${pd##*/}
		p blocker "$pid $tid $(kpx_cat "$d/comm")"
		[ -r "$d/stack" ] && p stack "$tid $(head -n 4 "$d/stack" 2>/dev/null | tr '\n' ';')"
	done
}
# kpx_log_cursor: the timestamp of the kernel log's last line.
kpx_log_cursor() { dmesg 2>/dev/null | sed -n 's/^\[ *\([0-9][0-9.]*\)\].*/\1/p' | tail -n 1; }
# kpx_baseline: remember the kernel log position and taint at the start of a change, for
# the kernel_log and taint checks that follow it.
kpx_baseline() {
	mkdir -p "$kpx_state" && chmod 700 "$kpx_state" &&
	printf 'log_cursor=%s\ntainted=%s\n' "$(kpx_log_cursor)" "$(cat "$kpx_proc/sys/kernel/tainted" 2>/dev/null)" >"$kpx_state/baseline.tmp" &&
	mv "$kpx_state/baseline.tmp" "$kpx_state/baseline"
}
`

// shellVars assigns shell variables, quoted, one per line.
func shellVars(vars map[string]string) string {
	var b strings.Builder
	for _, k := range sortedKeys(vars) {
		b.WriteString(k + "=" + transport.Quote(vars[k]) + "\n")
	}
	return b.String()
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// kernelOutput is what a kernel script printed: key=value lines (keys may repeat), its exit
// status and its standard error.
type kernelOutput struct {
	raw    rawFacts
	status int
	stderr string
}

// runKernel runs script after the prelude, with vars assigned first.
func runKernel(ctx context.Context, h Host, c Call, vars map[string]string, script string) (kernelOutput, error) {
	res, err := run(ctx, h, c, transport.Cmd{Shell: shellVars(vars) + kernelPrelude + script})
	if err != nil {
		return kernelOutput{}, err
	}
	return kernelOutput{raw: parseRawFacts(string(res.Stdout)), status: res.ExitStatus, stderr: strings.TrimSpace(string(res.Stderr))}, nil
}

// refused reports a prelude refusal (a KPX_SIMKERNEL that is not a simulated kernel).
func (o kernelOutput) refused() bool { return o.status == 97 }

// taintLetters spells /proc/sys/kernel/tainted as the kernel's taint flags do.
func taintLetters(v int) string {
	const letters = "PFSRMBUDAWCIOELKXTNJ"
	var b strings.Builder
	for i := 0; i < len(letters); i++ {
		if v&(1<<i) != 0 {
			b.WriteByte(letters[i])
		}
	}
	return b.String()
}

// kernelFailure is a failed result for a kernel script that did not say why.
func kernelFailure(what string, o kernelOutput) Result {
	msg := what
	if o.stderr != "" {
		msg += ": " + o.stderr
	}
	return Result{"failed": true, "msg": msg, "rc": o.status, "stderr": o.stderr}
}

func atoiOr(s string, def int) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return def
	}
	return n
}

func errorf(format string, a ...any) Result {
	return Result{"failed": true, "changed": false, "msg": fmt.Sprintf(format, a...)}
}
