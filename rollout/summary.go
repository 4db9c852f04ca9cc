package rollout

import (
	"fmt"
	"strings"
	"sync"

	"github.com/kpxdev/kpx/internal/pyvalue"
)

// outcomes builds the RolloutSummary: what happened to each host over the run.
type outcomes struct {
	mu    sync.Mutex
	order []string
	hosts map[string]*HostOutcome
}

func newOutcomes() *outcomes { return &outcomes{hosts: map[string]*HostOutcome{}} }

func (o *outcomes) update(host string, f func(*HostOutcome)) {
	o.mu.Lock()
	defer o.mu.Unlock()
	ho, ok := o.hosts[host]
	if !ok {
		ho = &HostOutcome{Host: host}
		o.hosts[host] = ho
		o.order = append(o.order, host)
	}
	f(ho)
}

// taskFailed records the first failure of a host, in a line.
func (o *outcomes) taskFailed(host, task string, oc Outcome) {
	o.update(host, func(ho *HostOutcome) {
		if oc.Status == StatusUnreachable {
			ho.Unreachable = true
		}
		if ho.Failed == "" {
			ho.Failed = fmt.Sprintf("task %q %s: %s", task, oc.Status, resultMsg(oc.Result))
		}
	})
}

func (o *outcomes) snapshot(runID, stopped string) RolloutSummary {
	o.mu.Lock()
	defer o.mu.Unlock()
	s := RolloutSummary{RunID: runID, Stopped: stopped}
	for _, h := range o.order {
		ho := *o.hosts[h]
		ho.Checks = append([]string(nil), ho.Checks...)
		s.Hosts = append(s.Hosts, ho)
	}
	return s
}

// resultMsg is the gist of a module result: its msg, else stderr or stdout, in one line
// of at most 300 characters.
func resultMsg(res map[string]any) string {
	var parts []string
	for _, k := range []string{"msg", "stderr", "stdout"} {
		if v, ok := res[k]; ok && v != nil {
			if s := strings.TrimSpace(pyvalue.Str(v)); s != "" {
				parts = append(parts, s)
			}
		}
	}
	if rc, ok := res["rc"]; ok && len(parts) < 3 {
		parts = append(parts, "rc="+pyvalue.Str(rc))
	}
	msg := strings.Join(strings.Fields(strings.Join(parts, "; ")), " ")
	if len(msg) > 300 {
		msg = msg[:297] + "..."
	}
	if msg == "" {
		return "(no output)"
	}
	return msg
}
