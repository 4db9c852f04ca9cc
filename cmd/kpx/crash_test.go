package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kpxdev/kpx/internal/testfleet"
	"github.com/kpxdev/kpx/rollout"
)

// crashPlay writes each host's patch in two steps (a temp file, then a rename), checks
// it, and removes both in its rollback.
const crashPlay = `- name: crash
  hosts: fleet
  gather_facts: false
  serial: [1, "100%"]
  tasks:
    - name: stage
      shell: echo patch > "$KPX_HOST_DIR/patch.tmp"
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

// TestCrashResumeOrRollback kills kpx with SIGKILL at randomized points of a rollout (a
// number of journal lines), then runs kpx resume or kpx rollback, and checks that every
// host's state is what the journal says: resumed runs leave every host applied, rolled
// back ones every host rolled back or untouched, and no host unknown. KPX_CRASH_SEED
// replays a seed; KPX_CRASH_POINTS changes the number of kills (20).
func TestCrashResumeOrRollback(t *testing.T) {
	f := testfleet.Start(t, testfleet.Options{Hosts: 3})
	bin := buildKPX(t)
	play := filepath.Join(t.TempDir(), "crash.yml")
	if err := os.WriteFile(play, []byte(crashPlay), 0o644); err != nil {
		t.Fatal(err)
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("KPX_CRASH_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	points := 20
	if s := os.Getenv("KPX_CRASH_POINTS"); s != "" {
		points, _ = strconv.Atoi(s)
	}
	t.Logf("crash test seed %d (KPX_CRASH_SEED=%d replays it)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed))

	// A run to its end gives the journal's length: the kill points are drawn below it.
	full := runToEnd(t, f, bin, play)
	t.Logf("a whole run journals %d lines", full)
	began := time.Now()
	defer func() { t.Logf("%d kills and recoveries took %s", points, time.Since(began).Round(time.Second)) }()
	for i := 0; i < points; i++ {
		at := 1 + rng.IntN(full-1)
		undo := rng.IntN(2) == 0
		t.Run(fmt.Sprintf("kill-%02d-at-line-%d", i, at), func(t *testing.T) {
			crashAndRecover(t, f, bin, play, at, undo)
		})
	}
}

func buildKPX(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "kpx")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func resetHosts(t *testing.T, f *testfleet.Fleet) {
	t.Helper()
	for _, h := range f.Hosts {
		for _, n := range []string{"patch", "patch.tmp"} {
			if err := os.Remove(filepath.Join(h.StateDir, n)); err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
		}
	}
}

func runToEnd(t *testing.T, f *testfleet.Fleet, bin, play string) int {
	t.Helper()
	resetHosts(t, f)
	state := t.TempDir()
	cmd := exec.Command(bin, "run", "-i", f.Inventory, play, "--state-dir", state)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("whole run: %v\n%s", err, out)
	}
	return countLines(t, onlyJournal(t, state))
}

func onlyJournal(t *testing.T, state string) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(state, "runs", "*.jsonl"))
	if len(m) != 1 {
		return ""
	}
	return m[0]
}

func countLines(t *testing.T, path string) int {
	if path == "" {
		return 0
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return bytes.Count(data, []byte("\n"))
}

// crashAndRecover starts a run, kills it with SIGKILL once its journal has at lines,
// recovers with resume (or rollback), and compares the hosts with the journal.
func crashAndRecover(t *testing.T, f *testfleet.Fleet, bin, play string, at int, undo bool) {
	resetHosts(t, f)
	state := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute) // generous: loaded CI machines
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "run", "-i", f.Inventory, play, "--state-dir", state)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	killed := false
poll:
	for {
		select {
		case <-exited:
			break poll
		case <-time.After(2 * time.Millisecond):
		}
		if countLines(t, onlyJournal(t, state)) >= at {
			_ = cmd.Process.Kill()
			<-exited
			killed = true
			break
		}
	}
	journal := onlyJournal(t, state)
	if journal == "" {
		t.Fatalf("no journal\n%s", out.String())
	}
	id := strings.TrimSuffix(filepath.Base(journal), ".jsonl")
	if before, err := rollout.ReadJournalFile(journal); err == nil && rollout.Replay(before).RanToEnd() {
		undo = true // it ran to its end first: only a rollback has something to do
	}
	verb := "resume"
	if undo {
		verb = "rollback"
	}
	t.Logf("killed=%v after %d lines; kpx %s", killed, countLines(t, journal), verb)
	began := time.Now()
	rec := exec.CommandContext(ctx, bin, verb, id, "--state-dir", state)
	if b, err := rec.CombinedOutput(); err != nil {
		t.Fatalf("kpx %s: %v\n%s", verb, err, b)
	}
	t.Logf("kpx %s took %s", verb, time.Since(began).Round(time.Millisecond))
	entries, err := rollout.ReadJournalFile(journal)
	if err != nil {
		t.Fatal(err)
	}
	st := rollout.Replay(entries)
	for _, h := range f.Hosts {
		final := "untouched"
		if p := st.Plays[0]; p != nil && p.Hosts[h.Name] != nil {
			final = p.Hosts[h.Name].Final()
		}
		patch := exists(filepath.Join(h.StateDir, "patch"))
		tmp := exists(filepath.Join(h.StateDir, "patch.tmp"))
		switch {
		case undo && final != "rolled_back" && final != "untouched":
			t.Errorf("%s: journal says %s after kpx rollback", h.Name, final)
		case !undo && final != "applied":
			t.Errorf("%s: journal says %s after kpx resume", h.Name, final)
		}
		if wantPatch := final == "applied"; patch != wantPatch || tmp {
			t.Errorf("%s: journal says %s, host has patch=%v patch.tmp=%v", h.Name, final, patch, tmp)
		}
	}
	if t.Failed() {
		logJournal(t, journal)
	}
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func logJournal(t *testing.T, path string) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if len(line) > 240 {
			line = line[:240]
		}
		t.Log(line)
	}
}
