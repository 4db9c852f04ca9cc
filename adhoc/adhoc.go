// Package adhoc runs one module on many hosts at once, forks at a time, the way Ansible's
// ad-hoc command (`ansible PATTERN -m raw -a CMD`) does: no play, no facts, no journal, one
// result per host, reported as each host finishes.
package adhoc

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/kpxdev/kpx/modules"
	"github.com/kpxdev/kpx/rollout"
	"github.com/kpxdev/kpx/transport"
)

// Connector returns the connection to a host; rollout.PoolConnector is one.
type Connector interface {
	Conn(ctx context.Context, host string, vars map[string]any) (modules.Host, error)
}

// Options describe one ad-hoc run.
type Options struct {
	Hosts     []string                         // in the order hosts are started
	Vars      func(host string) map[string]any // the host's inventory variables
	Connector Connector
	Forks     int            // hosts driven at once; 0 means 5, Ansible's default
	Action    string         // the module's name, reported in results ("raw")
	Module    modules.Module // what runs on each host
	Args      map[string]any // the module's arguments
	Become    *transport.Become
	// TaskTimeout bounds each host's module run (Ansible's --task-timeout); 0: none.
	TaskTimeout time.Duration
}

// Summary counts hosts by how they ended.
type Summary struct {
	OK, Changed, Failed, Unreachable int
	// NotRun are hosts that were never started because ctx ended first.
	NotRun int
}

// Run runs the module on every host, Forks at a time, and calls emit with each host's
// result as soon as the host is done (one call at a time, in the order hosts finish).
// Hosts not started when ctx ends are skipped and counted in NotRun.
func Run(ctx context.Context, o Options, emit func(rollout.HostResult)) Summary {
	forks := o.Forks
	if forks < 1 {
		forks = 5
	}
	forks = min(forks, max(len(o.Hosts), 1))
	next := make(chan string)
	var (
		mu  sync.Mutex
		sum Summary
		wg  sync.WaitGroup
	)
	for range forks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for h := range next {
				r := runHost(ctx, o, h)
				mu.Lock()
				sum.count(r.Status)
				emit(r)
				mu.Unlock()
			}
		}()
	}
	for i, h := range o.Hosts {
		if ctx.Err() == nil { // an ended context wins over a free worker
			select {
			case next <- h:
				continue
			case <-ctx.Done():
			}
		}
		mu.Lock()
		sum.NotRun += len(o.Hosts) - i
		mu.Unlock()
		break
	}
	close(next)
	wg.Wait()
	return sum
}

func (s *Summary) count(st rollout.Status) {
	switch st {
	case rollout.StatusOK:
		s.OK++
	case rollout.StatusChanged:
		s.Changed++
	case rollout.StatusUnreachable:
		s.Unreachable++
	default:
		s.Failed++
	}
}

// runHost connects to host and runs the module there. A host that cannot be reached is
// unreachable; any other error is the host's failure, as Ansible reports it.
func runHost(ctx context.Context, o Options, host string) rollout.HostResult {
	hr := rollout.HostResult{Host: host, Action: o.Action}
	var vars map[string]any
	if o.Vars != nil {
		vars = o.Vars(host)
	}
	if o.TaskTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.TaskTimeout)
		defer cancel()
	}
	res, err := run(ctx, o, host, vars)
	var ue *transport.UnreachableError
	switch {
	case errors.As(err, &ue):
		hr.Status = rollout.StatusUnreachable
		hr.Result = map[string]any{"changed": false, "unreachable": true, "msg": err.Error()}
	case err != nil && o.TaskTimeout > 0 && errors.Is(err, context.DeadlineExceeded):
		hr.Status = rollout.StatusFailed
		hr.Result = map[string]any{"changed": false, "failed": true, "msg": fmt.Sprintf(
			"The %s action failed to execute in the expected time frame (%d) and was terminated", o.Action, int(o.TaskTimeout.Seconds()))}
	case err != nil:
		hr.Status = rollout.StatusFailed
		hr.Result = map[string]any{"changed": false, "failed": true, "msg": err.Error()}
	case res.Failed():
		hr.Status, hr.Result = rollout.StatusFailed, res
	case res.Changed():
		hr.Status, hr.Result = rollout.StatusChanged, res
	default:
		hr.Status, hr.Result = rollout.StatusOK, res
	}
	return hr
}

func run(ctx context.Context, o Options, host string, vars map[string]any) (modules.Result, error) {
	c, err := o.Connector.Conn(ctx, host, vars)
	if err != nil {
		return nil, err
	}
	return o.Module.Run(ctx, c, modules.Call{Args: o.Args, Become: o.Become, Inventory: host})
}
