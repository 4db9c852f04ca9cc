// Package simkernel prepares a simulated Linux kernel for one test host: a directory tree
// standing in for the kernel's sysfs and procfs views (/sys/kernel/livepatch, /sys/module,
// /proc/sys/kernel/tainted, per-task patch_state files), a kernel log, and small POSIX
// shell stand-ins for the tools that act on them (insmod, rmmod, uname, dmesg, kpatch,
// uptrack-*, kcarectl). The stand-ins model the documented behaviour of the kernel's
// livepatch core: a patching transition starts at 1 and settles to 0 after a short delay,
// unless the host is configured to stall; a second transition is refused with EBUSY;
// a disabled patch cannot be re-enabled; the opposite value written to enabled reverses a
// transition; loading taints the kernel (K, and O/E for out-of-tree and unsigned modules).
//
// kpx's live-patch modules reach the simulated tree only when the session's environment
// names it in KPX_SIMKERNEL and the directory carries the marker Install writes, owned by
// the user the module runs as and writable by nobody else (see docs/LIVEPATCH.md). Install
// returns that environment; test fleets hand it to their hosts' sessions.
package simkernel

import (
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

//go:embed sim.sh
var simScript string

//go:embed tools.sh
var toolsScript string

// EnvVar is the session environment variable that points kpx's modules at a simulated
// kernel.
const EnvVar = "KPX_SIMKERNEL"

// Marker is the file, at the root of a simulated kernel, without which modules refuse
// KPX_SIMKERNEL.
const Marker = ".kpx-simkernel"

// Tools are the commands Install places in bin/.
var tools = []string{"insmod", "rmmod", "uname", "dmesg", "kpatch", "uptrack-upgrade", "uptrack-install",
	"uptrack-remove", "uptrack-show", "uptrack-uname", "kcarectl", "kpx-sysfs-write", "kpx-sim-settle"}

// Options describe the simulated host's kernel.
type Options struct {
	Release         string        // `uname -r`; "6.1.0-18-amd64" when empty
	NoLivepatch     bool          // a kernel without CONFIG_LIVEPATCH: no /sys/kernel/livepatch
	Stall           bool          // patching transitions never finish: a task stays unpatched
	TransitionDelay time.Duration // how long a transition takes; 200ms when zero
	SigEnforce      bool          // module.sig_enforce=1: unsigned modules are refused
	Lockdown        string        // /sys/kernel/security/lockdown's selected mode ("none")
	Tainted         int           // initial /proc/sys/kernel/tainted
	OnLoadLog       string        // a kernel log line written when a patching transition completes
	KpatchTimeout   int           // seconds kpatch load waits for a transition; 15 when zero
	// KspliceUpdates are the Uptrack updates available to install ("ID description").
	KspliceUpdates []string
	KspliceError   int // exit status every uptrack command fails with (13, 17, 19), 0 none
	KcareLevel     int // the KernelCare patch level --update applies; 1 when zero
	KcareError     int // 3: unsupported kernel
}

// Install prepares a simulated kernel in dir (created if needed) and returns the
// environment a host's sessions need to use it: KPX_SIMKERNEL, and PATH with the
// stand-in tools first.
func Install(dir string, opts Options) (map[string]string, error) {
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if opts.Release == "" {
		opts.Release = "6.1.0-18-amd64"
	}
	if opts.TransitionDelay == 0 {
		opts.TransitionDelay = 200 * time.Millisecond
	}
	if opts.Lockdown == "" {
		opts.Lockdown = "none"
	}
	if opts.KpatchTimeout == 0 {
		opts.KpatchTimeout = 15
	}
	if opts.KcareLevel == 0 {
		opts.KcareLevel = 1
	}
	k := &Kernel{Root: root}
	if err := k.layout(opts); err != nil {
		return nil, fmt.Errorf("simkernel: %w", err)
	}
	return k.Env(), nil
}

// Kernel is an installed simulated kernel, for tests to inspect and steer.
type Kernel struct{ Root string }

// Open returns the simulated kernel installed in dir.
func Open(dir string) (*Kernel, error) {
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(root, Marker)); err != nil {
		return nil, fmt.Errorf("simkernel: %s is not a simulated kernel: %w", dir, err)
	}
	return &Kernel{Root: root}, nil
}

// Env is the environment a host's sessions need.
func (k *Kernel) Env() map[string]string {
	return map[string]string{
		EnvVar: k.Root,
		"PATH": filepath.Join(k.Root, "bin") + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	}
}

func (k *Kernel) path(p ...string) string { return filepath.Join(append([]string{k.Root}, p...)...) }

func (k *Kernel) layout(o Options) error {
	dirs := []string{"bin", "lib", "run", "var/log", "var/lib/kpx", "var/lib/kpatch", "var/lib/uptrack", "var/lib/kcare",
		"sys/module/module/parameters", "sys/kernel/security", "proc/sys/kernel", "etc/systemd/system"}
	if !o.NoLivepatch {
		dirs = append(dirs, "sys/kernel/livepatch")
	}
	for _, d := range dirs {
		if err := os.MkdirAll(k.path(d), 0o755); err != nil {
			return err
		}
	}
	if err := os.Chmod(k.Root, 0o755); err != nil {
		return err
	}
	sigEnforce := "N"
	if o.SigEnforce {
		sigEnforce = "Y"
	}
	modes := []string{"none", "integrity", "confidentiality"}
	for i, m := range modes {
		if m == o.Lockdown {
			modes[i] = "[" + m + "]"
		}
	}
	lockdown := strings.Join(modes, " ")
	files := map[string]string{
		Marker:                    "kpx simulated kernel 1\n",
		"config":                  k.config(o),
		"lib/sim.sh":              simScript + toolsScript + dispatch,
		"run/transition":          "",
		"run/logseq":              "0\n",
		"var/log/kmsg":            "",
		"proc/sys/kernel/tainted": strconv.Itoa(o.Tainted) + "\n",
		"sys/module/module/parameters/sig_enforce": sigEnforce + "\n",
		"sys/kernel/security/lockdown":             lockdown + "\n",
		"var/lib/uptrack/available":                lines(o.KspliceUpdates),
		"var/lib/uptrack/installed":                "",
		"var/lib/kcare/level":                      "",
	}
	for name, content := range files {
		if err := os.WriteFile(k.path(name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	for _, t := range tools {
		w := "#!/bin/sh\nKPX_SIM_ROOT=" + shQuote(k.Root) + "\n. \"$KPX_SIM_ROOT/lib/sim.sh\"\nsim_main " + t + " \"$@\"\n"
		if err := os.WriteFile(k.path("bin", t), []byte(w), 0o755); err != nil {
			return err
		}
	}
	if err := k.tasks(); err != nil {
		return err
	}
	k.logLine("Linux version " + o.Release + " (kpx simulated kernel)")
	return nil
}

func (k *Kernel) config(o Options) string {
	stall := 0
	if o.Stall {
		stall = 1
	}
	return fmt.Sprintf("release=%s\nboot_time=%d\nstall=%d\nstall_tid=4243\ntransition_delay=%.3f\non_load_log=%s\nkpatch_timeout=%d\nuptrack_error=%d\nkcare_level=%d\nkcare_error=%d\n",
		shQuote(o.Release), time.Now().Unix()-3600, stall, o.TransitionDelay.Seconds(), shQuote(o.OnLoadLog),
		o.KpatchTimeout, o.KspliceError, o.KcareLevel, o.KcareError)
}

// task is a simulated process: pid, tid, comm, and the kernel stack it sleeps in.
var simTasks = []struct{ pid, tid, comm, stack string }{
	{"1", "1", "systemd", "[<0>] ep_poll+0x29c/0x310\n[<0>] do_epoll_wait+0xb8/0xd0"},
	{"4242", "4242", "postgres", "[<0>] do_select+0x5d1/0x7d0\n[<0>] core_sys_select+0x1bd/0x360"},
	{"4242", "4243", "postgres: walwriter", "[<0>] ext4_sync_file+0x1e6/0x330\n[<0>] do_fsync+0x38/0x70"},
}

func (k *Kernel) tasks() error {
	for _, t := range simTasks {
		d := k.path("proc", t.pid, "task", t.tid)
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		for name, v := range map[string]string{"comm": t.comm, "patch_state": "-1", "stack": t.stack} {
			if err := os.WriteFile(filepath.Join(d, name), []byte(v+"\n"), 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}

// dispatch runs the tool named by the wrapper.
const dispatch = `
sim_main() {
	tool=$1; shift
	case $tool in
	insmod) sim_insmod "$@" ;;
	rmmod) sim_rmmod "$@" ;;
	uname) sim_uname "$@" ;;
	dmesg) sim_dmesg "$@" ;;
	kpatch) sim_kpatch "$@" ;;
	uptrack-*) sim_uptrack "$tool" "$@" ;;
	kcarectl) sim_kcarectl "$@" ;;
	kpx-sysfs-write) sim_sysfs_write "$@" ;;
	kpx-sim-settle) sim_settle "$@" ;;
	esac
}
`

func lines(ss []string) string {
	if len(ss) == 0 {
		return ""
	}
	return strings.Join(ss, "\n") + "\n"
}

func shQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
