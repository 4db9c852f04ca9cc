# kpx simulated kernel: the behaviour of the kernel's livepatch core and of the tools that
# drive it, acting on the tree under $KPX_SIM_ROOT. Sourced by the wrappers in bin/.
# POSIX shell only. Not for real hosts: see docs/LIVEPATCH.md.
R=$KPX_SIM_ROOT
LP=$R/sys/kernel/livepatch
. "$R/config"

sim_now() { date +%s; }

# sim_read VAR FILE: VAR is FILE's first line, empty when it cannot be read (no process).
sim_read() { eval "$1="; { IFS= read -r "$1" <"$2"; } 2>/dev/null; return 0; }

# sim_log MSG: one kernel log line, "[seconds.micro] MSG", monotonic.
sim_log() {
	sim_read n "$R/run/logseq"; n=$((${n:-0} + 1))
	echo "$n" >"$R/run/logseq"
	printf '[%d.%06d] %s\n' "$(($(sim_now) - boot_time))" "$((n % 1000000))" "$1" >>"$R/var/log/kmsg"
}

sim_lock() {
	i=0
	until mkdir "$R/run/lock.d" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt 600 ] && { echo "simkernel: lock held too long" >&2; exit 1; }
		sleep 0.05 2>/dev/null || sleep 1
	done
}
sim_unlock() { rmdir "$R/run/lock.d" 2>/dev/null; }

# taint BIT LETTER: set a taint bit in /proc/sys/kernel/tainted.
sim_taint() {
	sim_read t "$R/proc/sys/kernel/tainted"
	echo $((t | (1 << $1))) >"$R/proc/sys/kernel/tainted"
}

sim_tasks() { ls -d "$R"/proc/[0-9]*/task/[0-9]* 2>/dev/null; }

# set_states VALUE: every task's patch_state.
sim_set_states() { for t in $(sim_tasks); do echo "$1" >"$t/patch_state"; done; }

# modinfo FILE KEY: the first KEY= value of the module's .modinfo.
sim_modinfo() { tr '\000' '\n' <"$1" | sed -n "s/^$2=//p" | head -n1; }

sim_transition_patch() { sim_read sim_tp "$R/run/transition"; printf %s "$sim_tp"; }

# start_transition NAME TARGET: begin patching (1) or unpatching (0) and let it settle.
sim_start_transition() {
	echo "$1" >"$R/run/transition"
	echo "$2" >"$R/run/target"
	echo 1 >"$LP/$1/transition"
	sim_set_states $((1 - $2))
	sim_settle_later "$1"
}

sim_settle_later() {
	( sleep "$transition_delay" 2>/dev/null || sleep 1; "$R/bin/kpx-sim-settle" "$1" ) </dev/null >/dev/null 2>&1 &
}

# settle NAME: move tasks to the transition's target; finish unless a task is stalled.
sim_settle() {
	sim_lock
	name=$1
	if [ "$(sim_transition_patch)" != "$name" ]; then sim_unlock; return 0; fi
	sim_read target "$R/run/target"
	blocked=
	for t in $(sim_tasks); do
		if [ "$target" = 1 ] && [ "$stall" = 1 ] && [ "${t##*/}" = "$stall_tid" ]; then
			blocked=$t
			continue
		fi
		echo "$target" >"$t/patch_state"
	done
	if [ -n "$blocked" ]; then
		sim_log "livepatch: '$name': transition stalled: task $stall_tid ($(cat "$blocked/comm")) is sleeping on a to-be-patched function"
		sim_unlock
		return 0
	fi
	sim_finish "$name" "$target"
	sim_unlock
}

sim_finish() {
	name=$1 target=$2
	sim_set_states -1
	: >"$R/run/transition"
	if [ "$target" = 1 ]; then
		echo 0 >"$LP/$name/transition"
		sim_log "livepatch: '$name': patching complete"
		[ -n "$on_load_log" ] && sim_log "$on_load_log"
	else
		sim_log "livepatch: '$name': unpatching complete"
		rm -rf "${LP:?}/$name"
	fi
}

sim_insmod() {
	f=$1
	[ -n "$f" ] || { echo "Usage: insmod filename [args]" >&2; return 1; }
	[ -r "$f" ] || { echo "insmod: ERROR: could not load module $f: No such file or directory" >&2; return 1; }
	if [ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" != '177ELF' ]; then
		echo "insmod: ERROR: could not insert module $f: Invalid module format" >&2; return 1
	fi
	name=$(sim_modinfo "$f" name)
	[ -n "$name" ] || { name=${f##*/}; name=${name%.ko}; }
	name=$(echo "$name" | tr - _)
	vermagic=$(sim_modinfo "$f" vermagic)
	sim_lock
	if [ -d "$R/sys/module/$name" ]; then
		sim_unlock; echo "insmod: ERROR: could not insert module $f: File exists" >&2; return 1
	fi
	if [ "${vermagic%% *}" != "$release" ]; then
		sim_log "$name: version magic '$vermagic' should be '$release SMP preempt mod_unload modversions '"
		sim_unlock; echo "insmod: ERROR: could not insert module $f: Invalid module format" >&2; return 1
	fi
	signed=0
	tail -c 28 "$f" | grep -q '~Module signature appended~' && signed=1
	if [ $signed = 0 ] && [ "$(cat "$R/sys/module/module/parameters/sig_enforce")" = Y ]; then
		sim_log "Loading of unsigned module is rejected"
		sim_unlock; echo "insmod: ERROR: could not insert module $f: Key was rejected by service" >&2; return 1
	fi
	livepatch=$(sim_modinfo "$f" livepatch)
	if [ "$livepatch" = Y ]; then
		if [ ! -d "$LP" ]; then sim_unlock; echo "insmod: ERROR: could not insert module $f: Unknown symbol in module" >&2; return 1; fi
		if [ -n "$(sim_transition_patch)" ]; then
			sim_unlock; echo "insmod: ERROR: could not insert module $f: Device or resource busy" >&2; return 1
		fi
	fi
	[ "$(sim_modinfo "$f" intree)" = Y ] || { sim_log "$name: loading out-of-tree module taints kernel."; sim_taint 12; }
	[ $signed = 1 ] || { sim_log "$name: module verification failed: signature and/or required key missing - tainting kernel"; sim_taint 13; }
	mkdir -p "$R/sys/module/$name"
	echo live >"$R/sys/module/$name/initstate"
	if [ "$livepatch" = Y ]; then
		sim_log "$name: tainting kernel with TAINT_LIVEPATCH"
		sim_taint 15
		mkdir -p "$LP/$name/vmlinux"
		echo 1 >"$LP/$name/enabled"
		echo 0 >"$LP/$name/force"
		echo 0 >"$LP/$name/signal"
		sim_log "livepatch: enabling patch '$name'"
		sim_log "livepatch: '$name': starting patching transition"
		sim_start_transition "$name" 1
	fi
	sim_unlock
}

sim_rmmod() {
	name=$(echo "${1%.ko}" | sed 's,.*/,,' | tr - _)
	[ -n "$name" ] || { echo "Usage: rmmod modulename" >&2; return 1; }
	sim_lock
	if [ ! -d "$R/sys/module/$name" ]; then
		sim_unlock; echo "rmmod: ERROR: Module $name is not currently loaded" >&2; return 1
	fi
	if [ -d "$LP/$name" ] || [ -e "$R/sys/module/$name/forced" ]; then
		sim_unlock; echo "rmmod: ERROR: Module $name is in use" >&2; return 1
	fi
	rm -rf "${R:?}/sys/module/$name"
	sim_unlock
}

# sysfs_write FILE VALUE: what the kernel does when VALUE is written to a livepatch attribute.
sim_sysfs_write() {
	file=$1 value=$2
	case $file in
	"$LP"/*/enabled | "$LP"/*/force | "$LP"/*/signal) ;;
	*) echo "kpx-sysfs-write: $file: Permission denied" >&2; return 1 ;;
	esac
	dir=${file%/*} attr=${file##*/} name=${dir##*/}
	case $value in 0 | 1) ;; *) echo "kpx-sysfs-write: $file: write error: Invalid argument" >&2; return 1 ;; esac
	sim_lock
	if [ ! -d "$dir" ]; then sim_unlock; echo "kpx-sysfs-write: $file: No such file or directory" >&2; return 1; fi
	inval() { sim_unlock; echo "kpx-sysfs-write: $file: write error: Invalid argument" >&2; return 1; }
	sim_read current "$dir/enabled"
	case $attr in
	enabled)
		[ "$value" = "$current" ] && { inval; return 1; }
		if [ "$(sim_transition_patch)" = "$name" ]; then
			echo "$value" >"$dir/enabled"
			echo "$value" >"$R/run/target"
			if [ "$value" = 1 ]; then sim_log "livepatch: '$name': reversing transition from unpatching to patching"
			else sim_log "livepatch: '$name': reversing transition from patching to unpatching"; fi
			sim_settle_later "$name"
		elif [ "$value" = 0 ]; then
			[ -n "$(sim_transition_patch)" ] && { sim_unlock; echo "kpx-sysfs-write: $file: write error: Device or resource busy" >&2; return 1; }
			echo 0 >"$dir/enabled"
			sim_log "livepatch: '$name': starting unpatching transition"
			sim_start_transition "$name" 0
		else
			inval; return 1
		fi ;;
	force)
		[ "$(sim_transition_patch)" = "$name" ] && [ "$value" = 1 ] || { inval; return 1; }
		sim_log "livepatch: forcing transition for '$name': tasks may run inconsistent code"
		: >"$R/sys/module/$name/forced"
		sim_finish "$name" "$(cat "$R/run/target")" ;;
	signal)
		[ "$(sim_transition_patch)" = "$name" ] || { inval; return 1; }
		sim_log "livepatch: signaling remaining tasks" ;;
	esac
	sim_unlock
}

sim_uname() {
	case ${1:-} in
	-r) echo "$release" ;;
	-s | "") echo Linux ;;
	-n) uname -n ;;
	-v) echo "#1 SMP PREEMPT_DYNAMIC kpx-simulated" ;;
	-m) uname -m ;;
	-a) echo "Linux $(uname -n) $release #1 SMP PREEMPT_DYNAMIC kpx-simulated $(uname -m) GNU/Linux" ;;
	*) uname "$@" ;;
	esac
}

sim_dmesg() { cat "$R/var/log/kmsg"; }
