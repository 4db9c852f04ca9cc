package simkernel

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Patch is one entry of the simulated /sys/kernel/livepatch.
type Patch struct {
	Name       string
	Enabled    bool
	Transition bool
}

// Patches lists the live patches the simulated kernel has, by name.
func (k *Kernel) Patches() ([]Patch, error) {
	entries, err := os.ReadDir(k.path("sys/kernel/livepatch"))
	if err != nil {
		return nil, err
	}
	var out []Patch
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		en, _ := os.ReadFile(k.path("sys/kernel/livepatch", e.Name(), "enabled"))
		tr, _ := os.ReadFile(k.path("sys/kernel/livepatch", e.Name(), "transition"))
		out = append(out, Patch{Name: e.Name(), Enabled: strings.TrimSpace(string(en)) == "1", Transition: strings.TrimSpace(string(tr)) == "1"})
	}
	return out, nil
}

// Loaded reports whether a module of that name is loaded (/sys/module/NAME).
func (k *Kernel) Loaded(name string) bool {
	_, err := os.Stat(k.path("sys/module", name))
	return err == nil
}

// Forced reports whether a transition of that patch was ever forced.
func (k *Kernel) Forced(name string) bool {
	_, err := os.Stat(k.path("sys/module", name, "forced"))
	return err == nil
}

// Tainted returns /proc/sys/kernel/tainted.
func (k *Kernel) Tainted() (int, error) {
	b, err := os.ReadFile(k.path("proc/sys/kernel/tainted"))
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// Log returns the kernel log's text.
func (k *Kernel) Log() (string, error) {
	b, err := os.ReadFile(k.path("var/log/kmsg"))
	return string(b), err
}

// AppendLog writes a line to the kernel log, as a driver's message would appear.
func (k *Kernel) AppendLog(msg string) error {
	out, err := k.shell("sim_lock; sim_log \"$1\"; sim_unlock", msg)
	if err != nil {
		return fmt.Errorf("simkernel: %v: %s", err, out)
	}
	return nil
}

func (k *Kernel) logLine(msg string) { _ = k.AppendLog(msg) }

// SetStall makes patching transitions stall (or not) from now on.
func (k *Kernel) SetStall(stall bool) error {
	v := "0"
	if stall {
		v = "1"
	}
	return k.setConfig("stall", v)
}

// SetOnLoadLog sets the log line written when a patching transition completes.
func (k *Kernel) SetOnLoadLog(line string) error { return k.setConfig("on_load_log", shQuote(line)) }

// Uploads lists files below dir (a host's temp dir) whose name ends in .ko: what the
// modules left behind.
func Uploads(dir string) []string {
	var out []string
	_ = filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && strings.HasSuffix(p, ".ko") {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func (k *Kernel) setConfig(key, value string) error {
	p := k.path("config")
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(key) + `=.*$`)
	b = re.ReplaceAll(b, []byte(key+"="+strings.ReplaceAll(value, "$", "$$")))
	return os.WriteFile(p, b, 0o644)
}
