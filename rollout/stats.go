package rollout

import "sync"

// stats counts outcomes per host for the PLAY RECAP, as Ansible's AggregateStats does.
type stats struct {
	mu    sync.Mutex
	order []string
	hosts map[string]*HostStats
}

func newStats() *stats { return &stats{hosts: map[string]*HostStats{}} }

func (s *stats) add(host string, f func(*HostStats)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	hs, ok := s.hosts[host]
	if !ok {
		hs = &HostStats{}
		s.hosts[host] = hs
		s.order = append(s.order, host)
	}
	f(hs)
}

// record counts one task outcome. A failure inside a block that rescues it is counted as
// rescued, not failed.
func (s *stats) record(host string, o Outcome, rescuable bool) {
	changed, _ := o.Result["changed"].(bool)
	s.add(host, func(hs *HostStats) {
		switch {
		case (o.Status == StatusFailed || o.Status == StatusUnreachable) && o.Ignored:
			hs.OK++
			hs.Ignored++
			if changed {
				hs.Changed++
			}
		case o.Status == StatusFailed && rescuable:
			hs.Rescued++
		case o.Status == StatusFailed:
			hs.Failed++
		case o.Status == StatusUnreachable:
			hs.Unreachable++
		case o.Status == StatusSkipped:
			hs.Skipped++
		case o.Status == StatusChanged:
			hs.OK++
			hs.Changed++
		default:
			hs.OK++
		}
	})
}

func (s *stats) snapshot() RunFinished {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := RunFinished{Hosts: append([]string(nil), s.order...), Stats: map[string]HostStats{}}
	for h, hs := range s.hosts {
		out.Stats[h] = *hs
	}
	return out
}
