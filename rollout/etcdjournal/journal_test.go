package etcdjournal

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kpxdev/kpx/internal/etcdtest"
	"github.com/kpxdev/kpx/rollout"
)

func newBackend(t *testing.T, c *etcdtest.Cluster, prefix string, mod func(*Options)) *Backend {
	t.Helper()
	o := Options{Endpoints: c.Endpoints(), Prefix: prefix, LeaseTTL: 3 * time.Second, Timeout: 3 * time.Second,
		LocalDir: filepath.Join(t.TempDir(), "copies"), User: "tester", Machine: "box-" + prefix}
	if mod != nil {
		mod(&o)
	}
	b, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func mustAppend(t *testing.T, j rollout.Journal, evs ...rollout.Event) {
	t.Helper()
	for _, ev := range evs {
		if err := j.Append(ev); err != nil {
			t.Fatalf("append %T: %v", ev, err)
		}
		if err := j.Sync(); err != nil {
			t.Fatalf("sync %T: %v", ev, err)
		}
	}
}

// waitFor polls cond until it holds or a generous deadline passes.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestJournalEtcdSingleMember(t *testing.T) {
	c := etcdtest.Start(t, 1)
	tests := []struct {
		name string
		run  func(t *testing.T, c *etcdtest.Cluster)
	}{
		{"append, read back, reopen elsewhere", testAppendReopen},
		{"lock conflict names the holder and locks nothing", testLockConflict},
		{"locks over many hosts, all or none", testManyLocks},
		{"unlock takes a run from its controller", testUnlock},
		{"a dead controller's lease expires", testLeaseExpiry},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_ = i
			tc.run(t, c)
		})
	}
}

func testAppendReopen(t *testing.T, c *etcdtest.Cluster) {
	b := newBackend(t, c, "/reopen", nil)
	id := "20261202T000000-aaaaaa"
	j, err := b.Create(id)
	if err != nil {
		t.Fatal(err)
	}
	evs := []rollout.Event{
		rollout.RunStarted{RunID: id, Command: "run", Hosts: []string{"a", "b"}},
		rollout.WaveChanged{Play: "p", Wave: 1, Waves: 2, State: rollout.WaveRunning, Hosts: []string{"a"}},
		rollout.TaskStarted{Name: "t"}, // not a state change: goes with the next Sync
		rollout.HostTaskState{Host: "a", Wave: 1, Phase: rollout.PhaseTasks, Task: "t", State: rollout.HostStarted},
	}
	for _, ev := range evs {
		if err := j.Append(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Sync(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Open(id); !errors.As(err, new(*rollout.RunActiveError)) {
		t.Fatalf("opening an active run: %v, want a RunActiveError", err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	// Another controller, with no local copy, continues the run.
	b2 := newBackend(t, c, "/reopen", nil)
	j2, err := b2.Open("20261202T0000")
	if err != nil {
		t.Fatal(err)
	}
	mustAppend(t, j2, rollout.HostTaskState{Host: "a", Wave: 1, Phase: rollout.PhaseTasks, Task: "t", State: "changed"})
	entries, err := j2.Read()
	if err != nil {
		t.Fatal(err)
	}
	j2.Close()
	if len(entries) != 5 {
		t.Fatalf("%d entries, want 5", len(entries))
	}
	for i, e := range entries {
		if e.Seq != int64(i) {
			t.Errorf("entry %d has seq %d", i, e.Seq)
		}
	}
	if !reflect.DeepEqual(entries[1].Event, evs[1]) {
		t.Errorf("entry 1: %#v", entries[1].Event)
	}
	if h := rollout.Replay(entries).Plays[0].Hosts["a"]; !h.Changed || h.Final() != "unknown" {
		t.Errorf("host a replays as %+v", h)
	}
	ids, err := b2.Runs()
	if err != nil || len(ids) != 1 || ids[0] != id {
		t.Errorf("runs: %v, %v", ids, err)
	}
}

func testLockConflict(t *testing.T, c *etcdtest.Cluster) {
	b := newBackend(t, c, "/conflict", nil)
	a, err := b.Create("run-a")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	mustAppend(t, a, rollout.PlayStarted{Name: "p", Batch: []string{"h2"}})
	other := newBackend(t, c, "/conflict", func(o *Options) { o.User, o.Machine = "bob", "laptop" })
	bj, err := other.Create("run-b")
	if err != nil {
		t.Fatal(err)
	}
	defer bj.Close()
	tests := []struct {
		name string
		ev   rollout.Event
	}{
		{"run start", rollout.RunStarted{RunID: "run-b", Hosts: []string{"h1", "h2", "h3"}}},
		{"wave", rollout.WaveChanged{State: rollout.WaveRunning, Hosts: []string{"h1", "h2", "h3"}}},
		{"batch", rollout.PlayStarted{Batch: []string{"h3", "h2", "h1"}}},
		{"host task", rollout.HostTaskState{Host: "h2", Phase: rollout.PhaseTasks, State: rollout.HostStarted}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := bj.Append(tc.ev)
			var conflict *rollout.LockConflictError
			if !errors.As(err, &conflict) {
				t.Fatalf("got %v, want a LockConflictError", err)
			}
			for _, want := range []string{"h2", "run-a", "tester@box-/conflict", "since 20"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("%q does not name %q", err, want)
				}
			}
		})
	}
	// All or none: h1 and h3 were not kept by run-b.
	c3, err := b.Create("run-c")
	if err != nil {
		t.Fatal(err)
	}
	defer c3.Close()
	if err := c3.(rollout.HostLocker).LockHosts([]string{"h1", "h3"}); err != nil {
		t.Fatalf("h1, h3 should be free: %v", err)
	}
	act, err := b.ActiveRuns()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, h := range act {
		got[h.RunID] = h.Hosts
	}
	if want := map[string]int{"run-a": 1, "run-b": 0, "run-c": 2}; !reflect.DeepEqual(got, want) {
		t.Errorf("active runs %v, want %v", got, want)
	}
}

func testManyLocks(t *testing.T, c *etcdtest.Cluster) {
	b := newBackend(t, c, "/many", nil)
	hosts := func(from, to int) []string {
		var hs []string
		for i := from; i < to; i++ {
			hs = append(hs, fmt.Sprintf("h%04d", i))
		}
		return hs
	}
	a, err := b.Create("run-a")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := a.(rollout.HostLocker).LockHosts(hosts(0, 250)); err != nil {
		t.Fatal(err)
	}
	bj, err := b.Create("run-b")
	if err != nil {
		t.Fatal(err)
	}
	defer bj.Close()
	// 300 hosts in sorted chunks of 100: the last chunk conflicts, so the first two
	// chunks, taken, are released.
	err = bj.(rollout.HostLocker).LockHosts(hosts(249, 549))
	if !errors.As(err, new(*rollout.LockConflictError)) {
		t.Fatalf("got %v, want a conflict", err)
	}
	if err := bj.(rollout.HostLocker).LockHosts(hosts(250, 549)); err != nil {
		t.Fatalf("the hosts run-a does not hold: %v", err)
	}
}

func testUnlock(t *testing.T, c *etcdtest.Cluster) {
	var lost atomic.Value
	b := newBackend(t, c, "/unlock", func(o *Options) { o.OnLockLost = func(err error) { lost.Store(err) } })
	j, err := b.Create("run-a")
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	mustAppend(t, j, rollout.PlayStarted{Batch: []string{"h1"}})
	admin := newBackend(t, c, "/unlock", nil)
	if err := admin.Unlock("run-a"); err != nil {
		t.Fatal(err)
	}
	if err := admin.Unlock("run-a"); !errors.As(err, new(*NotActiveError)) {
		t.Errorf("second unlock: %v", err)
	}
	waitFor(t, "the controller notices it lost its locks", 20*time.Second, func() bool { return lost.Load() != nil })
	if err := j.Append(rollout.PlayStarted{Batch: []string{"h2"}}); !errors.Is(err, rollout.ErrLockLost) {
		t.Errorf("locking after unlock: %v, want ErrLockLost", err)
	}
}

func testLeaseExpiry(t *testing.T, c *etcdtest.Cluster) {
	b := newBackend(t, c, "/expiry", nil)
	j, err := b.Create("run-a")
	if err != nil {
		t.Fatal(err)
	}
	mustAppend(t, j, rollout.PlayStarted{Batch: []string{"h1"}})
	// The controller dies: its lease is renewed no more, and nothing is revoked.
	ej := j.(*Journal)
	close(ej.stop)
	<-ej.stopped
	ej.kaCancel()
	other := newBackend(t, c, "/expiry", nil)
	waitFor(t, "the dead run's lease expires", 30*time.Second, func() bool {
		act, err := other.ActiveRuns()
		return err == nil && len(act) == 0
	})
	o, err := other.Open("run-a")
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	mustAppend(t, o, rollout.PlayStarted{Batch: []string{"h1"}})
}

func TestParseURL(t *testing.T) {
	tests := []struct {
		url       string
		endpoints []string
		prefix    string
		ttl       time.Duration
		err       string
	}{
		{url: "etcd://127.0.0.1:2379/kpx", endpoints: []string{"127.0.0.1:2379"}, prefix: "/kpx"},
		{url: "etcd://a:1,b/team/x/?lease-ttl=5s", endpoints: []string{"a:1", "b:2379"}, prefix: "/team/x", ttl: 5 * time.Second},
		{url: "etcd://a:1", endpoints: []string{"a:1"}, prefix: "/kpx"},
		{url: "http://a:1/x", err: "want etcd://"},
		{url: "etcd:///x", err: "no endpoint"},
		{url: "etcd://a:1/x?lease-ttl=1s", err: "at least 2s"},
		{url: "etcd://a:1/x?timeout=soon", err: "want a duration"},
		{url: "etcd://a:1/x?cert=/c.pem", err: "both cert and key"},
		{url: "etcd://a:1/x?cacert=/nonexistent.pem", err: "cacert"},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			o, err := ParseURL(tc.url, TLSFiles{})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %v, want an error with %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(o.Endpoints, tc.endpoints) || o.Prefix != tc.prefix || o.LeaseTTL != tc.ttl {
				t.Errorf("got %v %q %s", o.Endpoints, o.Prefix, o.LeaseTTL)
			}
		})
	}
}
