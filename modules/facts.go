package modules

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/kpxdev/kpx/transport"
)

// Setup is the setup module: facts about the host, gathered with plain shell.
var Setup Module = Func(func(ctx context.Context, h Host, c Call) (Result, error) {
	res, err := run(ctx, h, c, transport.Cmd{Shell: kernelPrelude + factsScript})
	if err != nil {
		return nil, err
	}
	if res.ExitStatus != 0 {
		return Result{"failed": true, "msg": "gathering facts failed", "rc": res.ExitStatus,
			"stdout": string(res.Stdout), "stderr": string(res.Stderr)}, nil
	}
	return Result{"changed": false, "ansible_facts": factsFrom(parseRawFacts(string(res.Stdout)))}, nil
})

// rawFacts are the key=value lines of factsScript; keys may repeat (livepatch).
type rawFacts map[string][]string

func parseRawFacts(out string) rawFacts {
	raw := rawFacts{}
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			raw[k] = append(raw[k], strings.TrimSpace(v))
		}
	}
	return raw
}

func (r rawFacts) get(k string) string {
	if v := r[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// factsFrom derives Ansible's facts (and kpx's) from raw facts.
func factsFrom(r rawFacts) map[string]any {
	node := r.get("nodename")
	f := map[string]any{
		"ansible_nodename":        node,
		"ansible_hostname":        strings.SplitN(node, ".", 2)[0],
		"ansible_fqdn":            fqdn(r),
		"ansible_kernel":          r.get("kernel"),
		"ansible_kernel_version":  r.get("kernel_version"),
		"ansible_machine":         r.get("machine"),
		"ansible_architecture":    architecture(r.get("machine")),
		"ansible_system":          r.get("system"),
		"ansible_user_id":         r.get("user_id"),
		"ansible_processor_vcpus": atoi(r.get("vcpus")),
		"ansible_memtotal_mb":     atoi(r.get("memtotal_kb")) / 1024,
		"ansible_default_ipv4":    defaultIPv4(r),
		"kpx_tainted":             atoi(r.get("tainted")),
		"kpx_taint_letters":       taintLetters(atoi(r.get("tainted"))),
		"kpx_effective_kernel":    effectiveKernel(r),
		"kpx_livepatch_sysfs":     r.get("livepatch_sysfs") == "yes",
		"kpx_livepatches":         livepatches(r["livepatch"]),
	}
	for k, v := range distribution(r) {
		f[k] = v
	}
	return f
}

// fqdn picks the name Python's socket.getfqdn() gives: the first name of the host's
// address that contains a dot, else the address's canonical name, else hostname -f.
func fqdn(r rawFacts) string {
	names := strings.Fields(r.get("fqdn_names"))
	for _, n := range names {
		if strings.Contains(n, ".") {
			return n
		}
	}
	if len(names) > 0 {
		return names[0]
	}
	if f := r.get("hostname_f"); f != "" {
		return f
	}
	return r.get("nodename")
}

func architecture(machine string) string {
	switch machine {
	case "i386", "i486", "i586", "i686":
		return "i386"
	}
	return machine
}

// distributions maps os-release IDs to Ansible's distribution names and families.
var distributions = map[string][2]string{
	"debian": {"Debian", "Debian"}, "ubuntu": {"Ubuntu", "Debian"}, "raspbian": {"Debian", "Debian"},
	"linuxmint": {"Linux Mint", "Debian"}, "kali": {"Kali", "Debian"},
	"rhel": {"RedHat", "RedHat"}, "centos": {"CentOS", "RedHat"}, "rocky": {"Rocky", "RedHat"},
	"almalinux": {"AlmaLinux", "RedHat"}, "fedora": {"Fedora", "RedHat"}, "ol": {"OracleLinux", "RedHat"},
	"amzn": {"Amazon", "RedHat"}, "sles": {"SLES", "Suse"}, "opensuse-leap": {"openSUSE Leap", "Suse"},
	"alpine": {"Alpine", "Alpine"}, "arch": {"Archlinux", "Archlinux"},
}

func distribution(r rawFacts) map[string]any {
	id := r.get("os_id")
	name, family := r.get("os_name"), ""
	if d, ok := distributions[id]; ok {
		name, family = d[0], d[1]
	}
	if name == "" {
		name = r.get("system")
	}
	if family == "" {
		family = name
	}
	version := r.get("os_version_id")
	if id == "debian" && r.get("debian_version") != "" && !strings.Contains(r.get("debian_version"), "/") {
		version = r.get("debian_version") // "12.11" rather than "12"
	}
	return map[string]any{
		"ansible_distribution":               name,
		"ansible_os_family":                  family,
		"ansible_distribution_version":       version,
		"ansible_distribution_major_version": strings.SplitN(version, ".", 2)[0],
		"ansible_distribution_release":       r.get("os_codename"),
	}
}

// defaultIPv4 builds Ansible's ansible_default_ipv4 from the default route's interface.
func defaultIPv4(r rawFacts) map[string]any {
	iface := r.get("default_interface")
	pfx, err := netip.ParsePrefix(r.get("default_cidr"))
	if iface == "" || err != nil || !pfx.Addr().Is4() {
		return map[string]any{}
	}
	bits := pfx.Bits()
	mask := uint32(0xffffffff) << (32 - bits)
	if bits == 0 {
		mask = 0
	}
	ip := pfx.Addr().As4()
	addr := uint32(ip[0])<<24 | uint32(ip[1])<<16 | uint32(ip[2])<<8 | uint32(ip[3])
	typ := "unknown"
	switch r.get("default_type") {
	case "1":
		typ = "ether"
	case "772":
		typ = "loopback"
	}
	return map[string]any{
		"address":    pfx.Addr().String(),
		"alias":      iface,
		"interface":  iface,
		"gateway":    r.get("default_gateway"),
		"prefix":     strconv.Itoa(bits),
		"netmask":    ipv4(mask),
		"network":    ipv4(addr & mask),
		"broadcast":  ipv4(addr | ^mask),
		"macaddress": r.get("default_mac"),
		"mtu":        atoi(r.get("default_mtu")),
		"type":       typ,
	}
}

func ipv4(v uint32) string {
	return fmt.Sprintf("%d.%d.%d.%d", v>>24, v>>16&0xff, v>>8&0xff, v&0xff)
}

// livepatches reads "name enabled transition" lines into kpx_livepatches.
func livepatches(lines []string) []any {
	out := []any{}
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		lp := map[string]any{"name": f[0], "enabled": len(f) > 1 && f[1] == "1", "transition": len(f) > 2 && f[2] == "1"}
		out = append(out, lp)
	}
	return out
}

func atoi(s string) int {
	n, _ := strconv.Atoi(strings.TrimSpace(s))
	return n
}

// effectiveKernel is the kernel release a live-patching service reports (Ksplice's
// uptrack-uname, KernelCare's kcarectl --uname), else the running one.
func effectiveKernel(r rawFacts) string {
	for _, e := range r["effective_kernel"] {
		if e != "" && e != r.get("kernel") {
			return e
		}
	}
	return r.get("kernel")
}

// KernelFacts is the kernel_facts module: setup's kernel facts alone (ansible_kernel,
// kpx_effective_kernel, kpx_livepatches, kpx_tainted, kpx_taint_letters,
// kpx_livepatch_sysfs), cheap enough to gather on demand and for `kpx status`.
var KernelFacts Module = Func(func(ctx context.Context, h Host, c Call) (Result, error) {
	res, err := run(ctx, h, c, transport.Cmd{Shell: kernelPrelude + kernelFactsScript})
	if err != nil {
		return nil, err
	}
	if res.ExitStatus != 0 {
		return Result{"failed": true, "msg": "gathering kernel facts failed: " + strings.TrimSpace(string(res.Stderr)), "rc": res.ExitStatus}, nil
	}
	r := parseRawFacts(string(res.Stdout))
	all := factsFrom(r)
	f := map[string]any{}
	for _, k := range []string{"ansible_kernel", "kpx_effective_kernel", "kpx_livepatches", "kpx_tainted", "kpx_taint_letters", "kpx_livepatch_sysfs"} {
		f[k] = all[k]
	}
	return Result{"changed": false, "ansible_facts": f}, nil
})
