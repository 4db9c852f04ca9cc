package adhoc

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kpxdev/kpx/modules"
	"github.com/kpxdev/kpx/rollout"
	"github.com/kpxdev/kpx/transport"
)

// fakeHost answers every command with the outcome its name asks for.
type fakeHost struct {
	name    string
	running *atomic.Int32
	peak    *atomic.Int32
}

func (h fakeHost) Run(ctx context.Context, cmd transport.Cmd) (transport.Result, error) {
	n := h.running.Add(1)
	defer h.running.Add(-1)
	for {
		p := h.peak.Load()
		if n <= p || h.peak.CompareAndSwap(p, n) {
			break
		}
	}
	switch h.name {
	case "fails":
		return transport.Result{ExitStatus: 3, Stdout: []byte("bad\n")}, &transport.ExitError{Status: 3}
	case "hangs":
		<-ctx.Done()
		return transport.Result{}, ctx.Err()
	case "breaks":
		return transport.Result{}, errors.New("session refused")
	}
	time.Sleep(5 * time.Millisecond) // long enough for the forks to overlap
	return transport.Result{Stdout: []byte(h.name + "\n")}, nil
}

func (fakeHost) Upload(context.Context, transport.UploadSpec) error { return nil }
func (fakeHost) Download(context.Context, string, string) error     { return nil }

type fakeConnector struct{ running, peak atomic.Int32 }

func (c *fakeConnector) Conn(_ context.Context, host string, _ map[string]any) (modules.Host, error) {
	if host == "down" {
		return nil, &transport.UnreachableError{Host: host, Reason: "dial", Err: errors.New("refused")}
	}
	return fakeHost{name: host, running: &c.running, peak: &c.peak}, nil
}

func TestRun(t *testing.T) {
	cases := []struct {
		name    string
		hosts   []string
		forks   int
		timeout time.Duration
		want    map[string]rollout.Status
		sum     Summary
	}{
		{
			name:  "every outcome",
			hosts: []string{"a", "fails", "down", "breaks"},
			forks: 2,
			want: map[string]rollout.Status{"a": rollout.StatusChanged, "fails": rollout.StatusFailed,
				"down": rollout.StatusUnreachable, "breaks": rollout.StatusFailed},
			sum: Summary{Changed: 1, Failed: 2, Unreachable: 1},
		},
		{
			name:    "task timeout",
			hosts:   []string{"hangs", "b"},
			forks:   5,
			timeout: 50 * time.Millisecond,
			want:    map[string]rollout.Status{"hangs": rollout.StatusFailed, "b": rollout.StatusChanged},
			sum:     Summary{Changed: 1, Failed: 1},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := map[string]rollout.Status{}
			sum := Run(context.Background(), Options{Hosts: c.hosts, Connector: &fakeConnector{}, Forks: c.forks,
				Action: "raw", Module: modules.Raw, Args: map[string]any{"_raw_params": "x"}, TaskTimeout: c.timeout},
				func(r rollout.HostResult) { got[r.Host] = r.Status })
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("statuses %v, want %v", got, c.want)
			}
			if sum != c.sum {
				t.Errorf("summary %+v, want %+v", sum, c.sum)
			}
		})
	}
}

// TestRunForks: never more than Forks hosts at once, and all of them in use.
func TestRunForks(t *testing.T) {
	var hosts []string
	for i := range 40 {
		hosts = append(hosts, fmt.Sprintf("h%02d", i))
	}
	for _, forks := range []int{1, 4, 100} {
		conn := &fakeConnector{}
		sum := Run(context.Background(), Options{Hosts: hosts, Connector: conn, Forks: forks, Module: modules.Raw,
			Args: map[string]any{"_raw_params": "x"}}, func(rollout.HostResult) {})
		if sum.Changed != len(hosts) {
			t.Errorf("forks %d: %+v", forks, sum)
		}
		if p := int(conn.peak.Load()); p > min(forks, len(hosts)) {
			t.Errorf("forks %d: %d hosts ran at once", forks, p)
		}
	}
}

// TestRunCancelled: hosts not started when the context ends are counted, not run.
func TestRunCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := 0
	sum := Run(ctx, Options{Hosts: []string{"a", "b", "c"}, Connector: &fakeConnector{}, Forks: 1, Module: modules.Raw,
		Args: map[string]any{"_raw_params": "x"}}, func(rollout.HostResult) { ran++ })
	if sum.NotRun+ran != 3 || sum.NotRun == 0 {
		t.Errorf("summary %+v with %d results: want the hosts not started counted", sum, ran)
	}
}
