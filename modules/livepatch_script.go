package modules

// livepatchProbe reports what the host's kernel says about live patching and about the
// patch $name: enough for preflight, idempotence and check mode. It changes nothing.
const livepatchProbe = `
p release "$(uname -r)"
p sysfs "$([ -d "$kpx_sys/kernel/livepatch" ] && echo yes || echo no)"
for d in "$kpx_sys"/kernel/livepatch/*/; do
	[ -d "$d" ] || continue
	n=${d%/}; n=${n##*/}
	p patch "$n $(kpx_cat "$d/enabled") $(kpx_cat "$d/transition")"
done
p loaded "$([ -d "$kpx_sys/module/$name" ] && echo yes || echo no)"
p sha256 "$(kpx_cat "$kpx_state/livepatch/$name.sha256")"
p sig_enforce "$(kpx_cat "$kpx_sys/module/module/parameters/sig_enforce")"
p lockdown "$(sed -n 's/.*\[\(.*\)\].*/\1/p' "$kpx_sys/kernel/security/lockdown" 2>/dev/null)"
p tainted "$(cat "$kpx_proc/sys/kernel/tainted" 2>/dev/null)"
`

// livepatchUploadDir makes the private directory (0700, the login user's) the module is
// uploaded to.
const livepatchUploadDir = `umask 077 && mktemp -d "${TMPDIR:-/tmp}/kpx-livepatch.XXXXXXXX"`

// livepatchApply loads the uploaded module: it copies it out of the login user's upload
// directory into a staging directory only the privileged user can write, verifies the
// checksum of that copy right before insmod, retries insmod while another transition
// holds the kernel (EBUSY), and waits for the transition. On a stall it lists the blocking
// tasks and reverses the transition (force only with force=1), then unloads the patch.
const livepatchApply = `
lp=$kpx_sys/kernel/livepatch/$name
fail() { p error "$1"; [ -n "${stage:-}" ] && rm -rf "$stage"; exit 1; }
umask 077
case $updir in /*/kpx-livepatch.????????) ;; *) fail "unexpected upload directory $updir" ;; esac
mkdir -p "$kpx_state/livepatch" && chmod 700 "$kpx_state" "$kpx_state/livepatch" || fail "cannot create $kpx_state/livepatch"
stage=$(mktemp -d "$kpx_state/livepatch/.stage.XXXXXXXX") || fail "cannot create a private staging directory"
cp "$upload" "$stage/$name.ko" || fail "cannot copy the uploaded module"
rm -rf "$updir"
got=$(sha256sum "$stage/$name.ko" | cut -d' ' -f1)
[ "$got" = "$sha256" ] || fail "checksum of the module changed after upload: sha256 $got, expected $sha256; not loading it"
kpx_baseline
if [ "$reload" = 1 ]; then
	out=$(rmmod "$name" 2>&1) || fail "rmmod $name (to load a disabled patch again) failed: $out"
	p reloaded yes
fi
end=$(($(date +%s) + timeout))
while ! out=$(insmod "$stage/$name.ko" 2>&1); do
	case $out in
	*"resource busy"*) [ "$(date +%s)" -lt "$end" ] || fail "insmod: another live patch stayed in transition for ${timeout}s: $out"; p busy_retry 1; sleep 1 ;;
	*) fail "insmod failed: $out" ;;
	esac
done
echo "$sha256" >"$kpx_state/livepatch/$name.sha256"
p inserted yes
if ! kpx_wait_transition "$lp" $(($(date +%s) + timeout)); then
	p stalled yes
	kpx_blockers "$(kpx_cat "$lp/enabled")"
	if [ "$force" = 1 ]; then
		kpx_write "$lp/force" 1 || fail "writing 1 to $lp/force failed"
		p forced yes
		kpx_wait_transition "$lp" $(($(date +%s) + timeout)) || fail "the forced transition did not finish"
	else
		kpx_write "$lp/enabled" 0 || fail "reversing the transition (0 to $lp/enabled) failed"
		p reversed yes
		# The reversal is the safe way out: it gets at least 30s whatever the timeout.
		rtimeout=$timeout; [ "$rtimeout" -ge 30 ] || rtimeout=30
		if kpx_wait_transition "$lp" $(($(date +%s) + rtimeout)); then
			[ -d "$lp" ] && [ "$(kpx_cat "$lp/enabled")" = 1 ] && fail "the reversed patch is still enabled"
			out=$(rmmod "$name" 2>&1) && p unloaded yes || p rmmod_error "$out"
			rm -f "$kpx_state/livepatch/$name.sha256"
		else
			p reverse_stalled yes
		fi
	fi
	[ "$force" = 1 ] || { rm -rf "$stage"; exit 1; }
fi
[ -d "$lp" ] && [ "$(kpx_cat "$lp/enabled")" = 1 ] || fail "$lp is not enabled after loading"
if [ "$install" = 1 ]; then
	rel=$(uname -r)
	mkdir -p "$kpx_state/livepatch/$rel" && cp "$stage/$name.ko" "$kpx_state/livepatch/$rel/$name.ko" || fail "install: cannot copy the module"
	printf '%s\n' '#!/bin/sh' '# Loads the live patches kpx installed for the running kernel.' \
		"for m in $kpx_state/livepatch/\$(uname -r)/*.ko; do [ -e \"\$m\" ] && insmod \"\$m\"; done; exit 0" >"$kpx_state/livepatch/load-at-boot"
	chmod 700 "$kpx_state/livepatch/load-at-boot"
	unit=$kpx_etc/systemd/system/kpx-livepatch.service
	mkdir -p "${unit%/*}"
	printf '%s\n' '[Unit]' 'Description=Load kpx-installed kernel live patches' 'DefaultDependencies=no' 'Before=sysinit.target' \
		'[Service]' 'Type=oneshot' 'RemainAfterExit=yes' "ExecStart=/bin/sh $kpx_state/livepatch/load-at-boot" \
		'[Install]' 'WantedBy=sysinit.target' >"$unit.tmp" && mv "$unit.tmp" "$unit"
	if [ -z "$kpx_sim" ] && command -v systemctl >/dev/null 2>&1; then
		systemctl daemon-reload && systemctl enable kpx-livepatch.service >/dev/null 2>&1 || fail "systemctl enable kpx-livepatch.service failed"
	fi
	p installed "$kpx_state/livepatch/$rel/$name.ko"
fi
rm -rf "$stage"
p enabled yes
p transition "$(kpx_cat "$lp/transition")"
`

// livepatchRemove disables the patch (writing 0 to enabled and waiting for the
// transition) and, for state=absent, unloads it and verifies it is gone. A stalled
// disable is reversed (1 written back) and reported, never forced.
const livepatchRemove = `
lp=$kpx_sys/kernel/livepatch/$name
fail() { p error "$1"; exit 1; }
if [ -d "$lp" ] && [ "$(kpx_cat "$lp/enabled")" = 1 ]; then
	kpx_baseline
	kpx_write "$lp/enabled" 0 || fail "writing 0 to $lp/enabled failed"
	p disabled yes
	if ! kpx_wait_transition "$lp" $(($(date +%s) + timeout)); then
		p stalled yes
		kpx_blockers 0
		kpx_write "$lp/enabled" 1 && p reversed yes
		fail "disabling $name stalled; the transition was reversed and the patch stays enabled"
	fi
elif [ -d "$lp" ] && [ "$(kpx_cat "$lp/transition")" = 1 ]; then
	kpx_wait_transition "$lp" $(($(date +%s) + timeout)) || fail "$name is still in transition after ${timeout}s"
fi
rel=$(uname -r)
for f in "$kpx_state/livepatch/$rel/$name.ko"; do [ -e "$f" ] && rm -f "$f" && p uninstalled "$f"; done
if [ "$state" = absent ]; then
	if [ -d "$kpx_sys/module/$name" ]; then
		out=$(rmmod "$name" 2>&1) || fail "rmmod $name failed: $out"
		p unloaded yes
	fi
	[ -d "$kpx_sys/module/$name" ] && fail "$kpx_sys/module/$name is still there after rmmod"
	[ -d "$lp" ] && fail "$lp is still there after rmmod"
	rm -f "$kpx_state/livepatch/$name.sha256"
	p verified yes
fi
`
