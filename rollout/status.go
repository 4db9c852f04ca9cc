package rollout

import (
	"context"
	"errors"
	"sync"

	"github.com/kpxdev/kpx/modules"
	"github.com/kpxdev/kpx/transport"
)

// HostStatus is one host's live-patch state, as `kpx status` shows it.
type HostStatus struct {
	Host            string        `json:"host"`
	Reachable       bool          `json:"reachable"`
	Error           string        `json:"error,omitempty"`
	Kernel          string        `json:"kernel,omitempty"`
	EffectiveKernel string        `json:"effective_kernel,omitempty"`
	LivepatchSysfs  bool          `json:"livepatch_sysfs"`
	Patches         []PatchStatus `json:"patches"`
	Tainted         int           `json:"tainted"`
	Taint           string        `json:"taint"`
}

// PatchStatus is one entry of a host's /sys/kernel/livepatch.
type PatchStatus struct {
	Name       string `json:"name"`
	Enabled    bool   `json:"enabled"`
	Transition bool   `json:"transition"`
}

// GatherStatus reads the kernel facts of every host, forks at a time, and returns them in
// the order of hosts. A host that cannot be reached or read is reported, not fatal.
// become, when not nil, reads them as another user (sudo): a simulated kernel owned by
// root is only honoured for root.
func GatherStatus(ctx context.Context, conn Connector, hosts []string, vars func(string) map[string]any, forks int, become *transport.Become) []HostStatus {
	if forks < 1 {
		forks = 5
	}
	out := make([]HostStatus, len(hosts))
	sem := make(chan struct{}, forks)
	var wg sync.WaitGroup
	for i, h := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i] = hostStatus(ctx, conn, h, vars(h), become)
		}()
	}
	wg.Wait()
	return out
}

func hostStatus(ctx context.Context, conn Connector, host string, vars map[string]any, become *transport.Become) HostStatus {
	s := HostStatus{Host: host, Patches: []PatchStatus{}}
	c, err := conn.Conn(ctx, host, vars)
	if err != nil {
		s.Error = err.Error()
		return s
	}
	r, err := modules.KernelFacts.Run(ctx, c, modules.Call{Args: map[string]any{}, Become: become})
	if err != nil {
		s.Error = err.Error()
		var u *transport.UnreachableError
		s.Reachable = !errors.As(err, &u)
		return s
	}
	s.Reachable = true
	if r.Failed() {
		s.Error, _ = r["msg"].(string)
		return s
	}
	f, _ := r["ansible_facts"].(map[string]any)
	s.Kernel, _ = f["ansible_kernel"].(string)
	if eff, _ := f["kpx_effective_kernel"].(string); eff != s.Kernel {
		s.EffectiveKernel = eff
	}
	s.LivepatchSysfs, _ = f["kpx_livepatch_sysfs"].(bool)
	s.Tainted, _ = f["kpx_tainted"].(int)
	s.Taint, _ = f["kpx_taint_letters"].(string)
	lps, _ := f["kpx_livepatches"].([]any)
	for _, lp := range lps {
		m, _ := lp.(map[string]any)
		name, _ := m["name"].(string)
		en, _ := m["enabled"].(bool)
		tr, _ := m["transition"].(bool)
		s.Patches = append(s.Patches, PatchStatus{Name: name, Enabled: en, Transition: tr})
	}
	return s
}
