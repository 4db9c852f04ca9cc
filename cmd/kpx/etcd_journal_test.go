package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kpxdev/kpx/internal/etcdtest"
	"github.com/kpxdev/kpx/internal/testfleet"
	"github.com/kpxdev/kpx/rollout"
	"github.com/kpxdev/kpx/rollout/etcdjournal"
)

// etcdPlay is crashPlay with a pause in each host's task, so that a test can act while a
// wave is running, and one wave per host.
const etcdPlay = `- name: etcd
  hosts: fleet
  gather_facts: false
  serial: 1
  tasks:
    - name: stage
      shell: echo {{ who | default('x') }} >> "$KPX_HOST_DIR/touched"; echo patch > "$KPX_HOST_DIR/patch.tmp"; sleep {{ pause | default(1) }}
    - name: install
      shell: mv "$KPX_HOST_DIR/patch.tmp" "$KPX_HOST_DIR/patch"
  health:
    retries: 0
    checks:
      - name: installed
        shell: test -e "$KPX_HOST_DIR/patch"
  rollback:
    tasks:
      - name: remove
        shell: rm -f "$KPX_HOST_DIR/patch" "$KPX_HOST_DIR/patch.tmp"
`

type etcdRig struct {
	t     *testing.T
	fleet *testfleet.Fleet
	bin   string
	play  string
}

func newEtcdRig(t *testing.T, hosts int) *etcdRig {
	etcdtest.Require(t)
	r := &etcdRig{t: t, fleet: testfleet.Start(t, testfleet.Options{Hosts: hosts}), bin: buildKPX(t)}
	r.play = filepath.Join(t.TempDir(), "etcd.yml")
	if err := os.WriteFile(r.play, []byte(etcdPlay), 0o644); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *etcdRig) reset() {
	resetHosts(r.t, r.fleet)
	for _, h := range r.fleet.Hosts {
		_ = os.Remove(filepath.Join(h.StateDir, "touched"))
	}
}

// kpx starts kpx in a fresh working and state directory: another controller.
func (r *etcdRig) kpx(ctx context.Context, args ...string) (*exec.Cmd, *bytes.Buffer) {
	dir := r.t.TempDir()
	cmd := exec.CommandContext(ctx, r.bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "KPX_STATE_DIR="+filepath.Join(dir, "state"), "KPX_JOURNAL=")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	return cmd, &out
}

func backendFor(t *testing.T, url string) *etcdjournal.Backend {
	t.Helper()
	o, err := etcdjournal.ParseURL(url, etcdjournal.TLSFiles{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := etcdjournal.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// onlyRun waits for the one run journaled under the backend's prefix and returns its id.
func onlyRun(t *testing.T, b *etcdjournal.Backend) string {
	t.Helper()
	var id string
	waitUntil(t, "a run is journaled in etcd", 60*time.Second, func() bool {
		ids, err := b.Runs()
		if err == nil && len(ids) == 1 {
			id = ids[0]
		}
		return id != ""
	})
	return id
}

func waitUntil(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: still waiting until %s", d, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// startedInWave says whether the journal has a task started in wave n.
func startedInWave(entries []rollout.JournalEntry, n int) bool {
	for _, e := range entries {
		if s, ok := e.Event.(rollout.HostTaskState); ok && s.Phase == rollout.PhaseTasks && s.State == rollout.HostStarted && s.Wave == n {
			return true
		}
	}
	return false
}

// checkHosts compares every host with what the journal entries say about it.
func (r *etcdRig) checkHosts(entries []rollout.JournalEntry, want func(final string) bool) {
	r.t.Helper()
	st := rollout.Replay(entries)
	for _, h := range r.fleet.Hosts {
		final := "untouched"
		if p := st.Plays[0]; p != nil && p.Hosts[h.Name] != nil {
			final = p.Hosts[h.Name].Final()
		}
		if !want(final) {
			r.t.Errorf("%s: journal says %s", h.Name, final)
		}
		patch := exists(filepath.Join(h.StateDir, "patch"))
		tmp := exists(filepath.Join(h.StateDir, "patch.tmp"))
		switch final {
		case "applied":
			if !patch || tmp {
				r.t.Errorf("%s: journal says applied, host has patch=%v patch.tmp=%v", h.Name, patch, tmp)
			}
		case "untouched", "rolled_back":
			if patch || tmp {
				r.t.Errorf("%s: journal says %s, host has patch=%v patch.tmp=%v", h.Name, final, patch, tmp)
			}
		}
		if final == "untouched" && exists(filepath.Join(h.StateDir, "touched")) {
			r.t.Errorf("%s: journal says untouched, but a task ran on it", h.Name)
		}
	}
}

// TestJournalEtcdConcurrentRuns starts two kpx run at once on overlapping hosts (every
// host, and the first two) with one etcd journal: exactly one proceeds, the other names
// the holder and touches nothing.
func TestJournalEtcdConcurrentRuns(t *testing.T) {
	r := newEtcdRig(t, 3)
	c := etcdtest.Start(t, 1)
	url := c.URL("/concurrent", "lease-ttl=5s")
	r.reset()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	a, outA := r.kpx(ctx, "run", "-i", r.fleet.Inventory, r.play, "--journal", url, "-e", "who=A pause=2")
	b, outB := r.kpx(ctx, "run", "-i", r.fleet.Inventory, r.play, "--journal", url, "-e", "who=B pause=2", "-l", r.fleet.Hosts[0].Name+","+r.fleet.Hosts[1].Name)
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	errA, errB := a.Wait(), b.Wait()
	t.Logf("A: %v\n%s", errA, outA)
	t.Logf("B: %v\n%s", errB, outB)
	if (errA == nil) == (errB == nil) {
		t.Fatalf("want exactly one run to succeed: A %v, B %v", errA, errB)
	}
	winner, loserOut := "A", outB.String()
	if errA != nil {
		winner, loserOut = "B", outA.String()
	}
	if !strings.Contains(loserOut, "locked by run") || !strings.Contains(loserOut, "since") {
		t.Errorf("the refused run does not name the holder:\n%s", loserOut)
	}
	for _, h := range r.fleet.Hosts {
		data, _ := os.ReadFile(filepath.Join(h.StateDir, "touched"))
		for _, who := range strings.Fields(string(data)) {
			if who != winner {
				t.Errorf("%s was touched by run %s, which was refused", h.Name, who)
			}
		}
	}
	act, err := backendFor(t, url).ActiveRuns()
	if err != nil || len(act) != 0 {
		t.Errorf("active runs after both ended: %v %v", act, err)
	}
}

// TestJournalEtcdFaults runs the fault scenarios on a 3-member cluster.
func TestJournalEtcdFaults(t *testing.T) {
	r := newEtcdRig(t, 3)
	tests := []struct {
		name string
		run  func(t *testing.T, r *etcdRig)
	}{
		{"controller killed mid-wave, resumed from another directory", testKilledControllerResumed},
		{"one member killed mid-run", testMemberKilled},
		{"quorum lost mid-run", testQuorumLost},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r.t = t
			r.reset()
			tc.run(t, r)
		})
	}
}

func testKilledControllerResumed(t *testing.T, r *etcdRig) {
	c := etcdtest.Start(t, 3)
	url := c.URL("/killed", "lease-ttl=5s")
	b := backendFor(t, url)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	run, out := r.kpx(ctx, "run", "-i", r.fleet.Inventory, r.play, "--journal", url, "-e", "pause=2")
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	id := onlyRun(t, b)
	waitUntil(t, "wave 2 starts its tasks", 2*time.Minute, func() bool {
		entries, err := b.ReadRun(id)
		return err == nil && startedInWave(entries, 2)
	})
	_ = run.Process.Kill()
	_ = run.Wait()
	t.Logf("killed in wave 2:\n%s", out)
	// While its lease lasts, the run is still held: nobody else may take it, and kpx runs
	// on any machine lists it as active.
	runs, runsOut := r.kpx(ctx, "runs", "--journal", url)
	if err := runs.Run(); err != nil {
		t.Fatalf("kpx runs: %v\n%s", err, runsOut)
	}
	t.Logf("kpx runs:\n%s", runsOut)
	switch got := runsOut.String(); {
	case !strings.Contains(got, "ACTIVE RUN") || strings.Count(got, id) == 0:
		t.Errorf("kpx runs does not list %s:\n%s", id, got)
	case strings.Count(got, id) == 1:
		t.Logf("the lease expired before kpx runs looked (a loaded machine)")
	}
	res, resOut := r.kpx(ctx, "resume", id, "--journal", url)
	if err := res.Run(); err == nil {
		t.Logf("resume came after the lease expired already:\n%s", resOut)
	} else if !strings.Contains(resOut.String(), "is active") {
		t.Fatalf("resume of a held run: %v\n%s", err, resOut)
	} else {
		waitUntil(t, "the killed controller's lease expires", time.Minute, func() bool {
			act, err := b.ActiveRuns()
			return err == nil && len(act) == 0
		})
		res, resOut = r.kpx(ctx, "resume", id, "--journal", url)
		if err := res.Run(); err != nil {
			t.Fatalf("resume from another directory: %v\n%s", err, resOut)
		}
	}
	entries, err := b.ReadRun(id)
	if err != nil {
		t.Fatal(err)
	}
	if !rollout.Replay(entries).RanToEnd() {
		t.Errorf("the resumed run did not run to its end:\n%s", resOut)
	}
	r.checkHosts(entries, func(final string) bool { return final == "applied" })
}

func testMemberKilled(t *testing.T, r *etcdRig) {
	c := etcdtest.Start(t, 3)
	url := c.URL("/member", "lease-ttl=6s&timeout=5s")
	b := backendFor(t, url)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	run, out := r.kpx(ctx, "run", "-i", r.fleet.Inventory, r.play, "--journal", url, "-e", "pause=2")
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	id := onlyRun(t, b)
	waitUntil(t, "wave 1 starts its tasks", 2*time.Minute, func() bool {
		entries, err := b.ReadRun(id)
		return err == nil && startedInWave(entries, 1)
	})
	c.Members[0].Kill() // the first endpoint: the one the controller most likely uses
	if err := run.Wait(); err != nil {
		t.Fatalf("the run did not survive one member's loss: %v\n%s", err, out)
	}
	entries, err := b.ReadRun(id)
	if err != nil {
		t.Fatal(err)
	}
	if !rollout.Replay(entries).RanToEnd() {
		t.Errorf("the journal in etcd does not end the run:\n%s", out)
	}
	r.checkHosts(entries, func(final string) bool { return final == "applied" })
}

func testQuorumLost(t *testing.T, r *etcdRig) {
	c := etcdtest.Start(t, 3)
	url := c.URL("/quorum", "lease-ttl=8s&timeout=2s")
	b := backendFor(t, url)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	run, out := r.kpx(ctx, "run", "-i", r.fleet.Inventory, r.play, "--journal", url, "-e", "pause=2")
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	id := onlyRun(t, b)
	waitUntil(t, "wave 2 starts its tasks", 2*time.Minute, func() bool {
		entries, err := b.ReadRun(id)
		return err == nil && startedInWave(entries, 2)
	})
	c.Members[1].Kill()
	c.Members[2].Kill()
	err := run.Wait()
	t.Logf("after quorum loss: %v\n%s", err, out)
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("the run went on without a quorum: %v", err)
	}
	if !strings.Contains(out.String(), "etcd journal is unreachable") {
		t.Errorf("kpx does not say what happened")
	}
	// The local copy holds every event of the run: it explains every host, and the
	// wave after the one in flight never started.
	local, err := rollout.ReadJournalFile(filepath.Join(run.Dir, "state", "etcd-copies", id+".jsonl"))
	if err != nil {
		t.Fatalf("the local copy: %v", err)
	}
	if startedInWave(local, 3) {
		t.Errorf("wave 3 started without etcd")
	}
	r.checkHosts(local, func(string) bool { return true })
	if h := r.fleet.Hosts[2]; exists(filepath.Join(h.StateDir, "touched")) {
		t.Errorf("%s (wave 3) was touched", h.Name)
	}
	// Once the quorum is back and the lease has expired, another controller rolls the
	// run back from what etcd holds: a prefix of the local copy, in which a host in
	// flight is "started", so unknown, and rolled back too.
	for _, m := range c.Members[1:] {
		if err := m.Restart(); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.WaitHealthy(time.Minute); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the stopped controller's lease expires", time.Minute, func() bool {
		act, err := b.ActiveRuns()
		return err == nil && len(act) == 0
	})
	rb, rbOut := r.kpx(ctx, "rollback", id, "--journal", url)
	if err := rb.Run(); err != nil {
		t.Fatalf("rollback after the outage: %v\n%s", err, rbOut)
	}
	entries, err := b.ReadRun(id)
	if err != nil {
		t.Fatal(err)
	}
	r.checkHosts(entries, func(final string) bool { return final == "rolled_back" || final == "untouched" })
}
