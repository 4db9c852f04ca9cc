package modules

// factsScript gathers (after kernelPrelude, which names the kernel's roots) raw facts with POSIX shell and tools busybox also has. It prints one
// key=value per line; setup turns them into Ansible's facts. It reads local state only:
// the default route comes from the routing table, not from a probe.
const factsScript = `LC_ALL=C; export LC_ALL
p() { printf '%s=%s\n' "$1" "$2"; }
p nodename "$(uname -n)"
p kernel "$(uname -r)"
p kernel_version "$(uname -v)"
p machine "$(uname -m)"
p system "$(uname -s)"
p user_id "$(id -un 2>/dev/null)"
if command -v getent >/dev/null 2>&1; then
	addr=$(getent hosts "$(uname -n)" 2>/dev/null | awk 'NR==1{print $1}')
	[ -n "$addr" ] && p fqdn_names "$(getent hosts "$addr" 2>/dev/null | awk 'NR==1{$1=""; print}')"
fi
p hostname_f "$(hostname -f 2>/dev/null)"
if [ -r /etc/os-release ]; then
	( . /etc/os-release; p os_id "$ID"; p os_name "$NAME"; p os_version_id "$VERSION_ID"; p os_codename "$VERSION_CODENAME" )
fi
[ -r /etc/debian_version ] && p debian_version "$(head -n1 /etc/debian_version)"
p vcpus "$(grep -c '^processor' /proc/cpuinfo 2>/dev/null)"
p memtotal_kb "$(awk '/^MemTotal:/{print $2}' /proc/meminfo 2>/dev/null)"
if command -v ip >/dev/null 2>&1; then
	set -- $(ip -4 route show default 2>/dev/null | awk 'NR==1{for(i=1;i<NF;i++){if($i=="via")g=$(i+1); if($i=="dev")d=$(i+1)}; print d, g}')
	if [ -n "$1" ]; then
		p default_interface "$1"
		p default_gateway "$2"
		p default_cidr "$(ip -4 -o addr show dev "$1" 2>/dev/null | awk 'NR==1{print $4}')"
		p default_mac "$(cat /sys/class/net/"$1"/address 2>/dev/null)"
		p default_mtu "$(cat /sys/class/net/"$1"/mtu 2>/dev/null)"
		p default_type "$(cat /sys/class/net/"$1"/type 2>/dev/null)"
	fi
fi
` + kernelFactsScript

// kernelFactsScript gathers the kernel facts alone (kernel_facts, kpx status): the running
// and effective kernel, live patches, taint.
const kernelFactsScript = `p kernel "$(uname -r)"
p tainted "$(cat "$kpx_proc/sys/kernel/tainted" 2>/dev/null)"
p livepatch_sysfs "$([ -d "$kpx_sys/kernel/livepatch" ] && echo yes || echo no)"
command -v uptrack-uname >/dev/null 2>&1 && p effective_kernel "$(uptrack-uname -r 2>/dev/null)"
command -v kcarectl >/dev/null 2>&1 && p effective_kernel "$(kcarectl --uname 2>/dev/null)"
for d in "$kpx_sys"/kernel/livepatch/*/; do
	[ -d "$d" ] || continue
	p livepatch "$(basename "$d") $(kpx_cat "$d/enabled") $(kpx_cat "$d/transition")"
done
`
