# kpx simulated kernel: the vendor tools (kpatch, Ksplice Uptrack, KernelCare), modelled on
# their documented command lines and messages. Sourced after sim.sh.

# wait_transition NAME SECONDS: 0 when NAME left its transition in time.
sim_wait_transition() {
	end=$(($(sim_now) + $2))
	while [ -d "$LP/$1" ] && [ "$(cat "$LP/$1/transition" 2>/dev/null)" = 1 ]; do
		[ "$(sim_now)" -ge "$end" ] && return 1
		sleep 0.1 2>/dev/null || sleep 1
	done
	return 0
}

sim_kpatch() {
	cmd=${1:-}
	[ $# -gt 0 ] && shift
	case $cmd in
	load)
		f=$1
		name=$(sim_modinfo "$f" name 2>/dev/null); [ -n "$name" ] || { name=${f##*/}; name=${name%.ko}; }
		name=$(echo "$name" | tr - _)
		echo "loading patch module: $f"
		sim_insmod "$f" || { echo "kpatch: failed to load module $f" >&2; return 1; }
		echo "waiting (up to $kpatch_timeout seconds) for patch transition to complete..."
		if ! sim_wait_transition "$name" "$kpatch_timeout"; then
			echo "kpatch: ERROR: module $name did not complete its transition, unloading..." >&2
			sim_sysfs_write "$LP/$name/enabled" 0 >/dev/null 2>&1
			sim_wait_transition "$name" "$kpatch_timeout"
			sim_rmmod "$name" >/dev/null 2>&1
			echo "kpatch: error: failed to load module $f (transition stalled)" >&2
			return 1
		fi
		echo "transition complete"
		;;
	unload)
		if [ "${1:-}" = --all ]; then set -- $(ls "$LP" 2>/dev/null); fi
		for name in "$@"; do
			name=$(echo "${name%.ko}" | sed 's,.*/,,' | tr - _)
			[ -d "$R/sys/module/$name" ] || { echo "kpatch: module $name is not loaded" >&2; return 1; }
			if [ -d "$LP/$name" ]; then
				echo "disabling patch module: $name"
				sim_sysfs_write "$LP/$name/enabled" 0 || return 1
				echo "waiting (up to $kpatch_timeout seconds) for patch transition to complete..."
				sim_wait_transition "$name" "$kpatch_timeout" || { echo "kpatch: error: transition stalled" >&2; return 1; }
				echo "transition complete"
			fi
			echo "unloading patch module: $name"
			sim_rmmod "$name" || return 1
		done
		;;
	install)
		f=$1
		mkdir -p "$R/var/lib/kpatch/$release"
		cp "$f" "$R/var/lib/kpatch/$release/" || return 1
		echo "installing $f ($release)"
		;;
	uninstall)
		n=$(echo "${1%.ko}" | sed 's,.*/,,')
		found=
		for f in "$R/var/lib/kpatch/$release/$n.ko" "$R/var/lib/kpatch/$release/$(echo "$n" | tr _ -).ko"; do
			[ -f "$f" ] && { rm -f "$f"; found=1; }
		done
		[ -n "$found" ] || { echo "kpatch: $n is not installed" >&2; return 1; }
		echo "uninstalling $n ($release)"
		;;
	list)
		echo "Loaded patch modules:"
		for d in "$LP"/*/; do
			[ -d "$d" ] || continue
			n=${d%/}; n=${n##*/}
			if [ "$(cat "$d/enabled")" = 1 ]; then echo "$n [enabled]"; else echo "$n [disabled]"; fi
		done
		echo
		echo "Installed patch modules:"
		for f in "$R"/var/lib/kpatch/*/*.ko; do
			[ -f "$f" ] || continue
			k=${f%/*}; k=${k##*/}
			n=${f##*/}; echo "${n%.ko} ($k)"
		done
		;;
	version) echo "0.9.9" ;;
	*) echo "usage: kpatch <command> [<args>]" >&2; return 1 ;;
	esac
}

# Ksplice Uptrack. $R/var/lib/uptrack/available and installed hold "ID description" lines.
U=$R/var/lib/uptrack
sim_uptrack_fail() {
	case $uptrack_error in
	13) echo "Your kernel version is not supported by Ksplice Uptrack." >&2 ;;
	17) echo "Your Ksplice Uptrack subscription has expired." >&2 ;;
	19) echo "This machine has not been activated for Ksplice Uptrack." >&2 ;;
	*) return 0 ;;
	esac
	exit "$uptrack_error"
}
sim_uptrack_effective() {
	n=$(grep -c . "$U/installed" 2>/dev/null)
	if [ "${n:-0}" -gt 0 ]; then echo "$release+ksplice.$n"; else echo "$release"; fi
}
sim_uptrack() {
	tool=$1; shift
	case $tool in
	uptrack-uname) [ "${1:-}" = -r ] && sim_uptrack_effective || echo "Linux $(uname -n) $(sim_uptrack_effective)" ; return 0 ;;
	esac
	sim_uptrack_fail
	case $tool in
	uptrack-upgrade)
		[ "${1:-}" = -y ] || [ "${1:-}" = --all ] || { echo "uptrack-upgrade: run with -y to install updates" >&2; return 1; }
		if [ ! -s "$U/available" ]; then echo "Nothing to be done."; echo "Your kernel is fully up to date."; else
			while read -r id desc; do echo "Installing [$id] $desc"; sim_log "ksplice: update $id applied"; done <"$U/available"
			cat "$U/available" >>"$U/installed"; : >"$U/available"
			sim_taint 15
			echo "Your kernel is fully up to date."
		fi
		echo "Effective kernel version is $(sim_uptrack_effective)" ;;
	uptrack-install)
		id=$(echo "$*" | sed 's/-y//; s/ //g')
		line=$(grep "^$id " "$U/available") || { echo "Error: update $id is not available" >&2; return 1; }
		echo "Installing [$id] ${line#* }"; echo "$line" >>"$U/installed"
		grep -v "^$id " "$U/available" >"$U/available.new"; mv "$U/available.new" "$U/available"
		sim_taint 15
		echo "Effective kernel version is $(sim_uptrack_effective)" ;;
	uptrack-remove)
		ids=
		for a in "$@"; do case $a in -y) ;; --all) ids=$(cut -d' ' -f1 "$U/installed") ;; *) ids="$ids $a" ;; esac; done
		[ -n "$(echo $ids)" ] || { echo "Nothing to be done."; return 0; }
		for id in $ids; do
			line=$(grep "^$id " "$U/installed") || { echo "Error: update $id is not installed" >&2; return 1; }
			echo "Removing [$id] ${line#* }"; sim_log "ksplice: update $id reversed"
			echo "$line" >>"$U/available"
			grep -v "^$id " "$U/installed" >"$U/installed.new"; mv "$U/installed.new" "$U/installed"
		done ;;
	uptrack-show)
		if [ "${1:-}" = --available ]; then
			echo "Available updates:"; while read -r id desc; do echo "[$id] $desc"; done <"$U/available"
		else
			echo "Installed updates:"; while read -r id desc; do echo "[$id] $desc"; done <"$U/installed"
		fi
		echo; echo "Effective kernel version is $(sim_uptrack_effective)" ;;
	esac
}

# KernelCare. $R/var/lib/kcare/level holds the applied patch level (empty: none).
K=$R/var/lib/kcare
sim_kcarectl() {
	level=$(cat "$K/level" 2>/dev/null)
	case ${1:-} in
	--update | -u)
		[ "$kcare_error" = 3 ] && { echo "Unsupported Kernel" >&2; return 1; }
		if [ "$level" = "$kcare_level" ]; then echo "Updates already downloaded"; echo "Kernel is safe"; return 0; fi
		echo "$kcare_level" >"$K/level"; sim_taint 15; sim_log "kcare: patch level $kcare_level applied"
		echo "Downloading updates"; echo "Patch level $kcare_level applied. Effective kernel version $release.kc$kcare_level"; echo "Kernel is safe" ;;
	--unload)
		[ -n "$level" ] || { echo "KernelCare is not loaded"; return 0; }
		: >"$K/level"; sim_log "kcare: patches unloaded"; echo "KernelCare unloaded" ;;
	--info | -i)
		if [ -z "$level" ]; then echo "No patches applied"; return 0; fi
		echo "kpatch-state: patch is applied"; echo "kpatch-for: Linux version $release"
		echo "kpatch-build-time: 2026-11-30"; echo "kpatch-description: $kcare_level;$release" ;;
	--uname) if [ -n "$level" ]; then echo "$release.kc$level"; else echo "$release"; fi ;;
	--patch-info) [ -n "$level" ] && echo "patch level $level: simulated fixes" ;;
	--status)
		[ "$kcare_error" = 3 ] && return 3
		[ -n "$level" ] || return 1
		[ "$level" = "$kcare_level" ] || return 2
		return 0 ;;
	*) echo "usage: kcarectl [--update|--unload|--info|--uname|--patch-info|--status]" >&2; return 1 ;;
	esac
}
