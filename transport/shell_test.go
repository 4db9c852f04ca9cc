package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/kpxdev/kpx/internal/testfleet"
)

// commandSessions counts the command sessions sshd started.
func commandSessions(t *testing.T, h *testfleet.Host) int { return sessionStarts(t, h, "command") }

// Commands on one connection run through one shell: one session for many commands (the
// first gets a session of its own), each with its own output, status and $$.
func TestShellRunsCommandsOnOneSession(t *testing.T) {
	f := testfleet.Start(t, testfleet.Options{Hosts: 1, Override: []string{"LogLevel VERBOSE"}})
	h := f.Hosts[0]
	c := dialFleet(t, fleetConfig(f, h))
	pids := map[string]bool{}
	for i := range 20 {
		res, err := c.Run(testCtx(t), Cmd{Shell: fmt.Sprintf(`echo "%d $$"; echo e%d >&2; exit $((%d %% 3))`, i, i, i)})
		var ee *ExitError
		if want := i % 3; want != res.ExitStatus || (want != 0) != errors.As(err, &ee) {
			t.Fatalf("command %d: status %d error %v, want status %d", i, res.ExitStatus, err, want)
		}
		f := strings.Fields(string(res.Stdout))
		if len(f) != 2 || f[0] != strconv.Itoa(i) || string(res.Stderr) != fmt.Sprintf("e%d\n", i) {
			t.Fatalf("command %d: stdout %q stderr %q", i, res.Stdout, res.Stderr)
		}
		pids[f[1]] = true
	}
	if len(pids) != 20 {
		t.Errorf("20 commands saw %d distinct $$, want each its own shell", len(pids))
	}
	if n := commandSessions(t, h); n != 2 {
		t.Errorf("20 commands started %d command sessions, want 2 (the first command's, the shell's)", n)
	}
	// Closing the connection ends the shell first, so that sshd reaps it rather than
	// leaving it to exit as an orphan after the connection is gone.
	shellPID := strings.TrimSpace(mustRun(t, c, "echo $PPID"))
	if _, err := os.Stat("/proc/" + shellPID); err != nil {
		t.Fatalf("the shell %s: %v", shellPID, err)
	}
	c.Close()
	if _, err := os.Stat("/proc/" + shellPID); err == nil {
		t.Errorf("the shell %s still exists after Close", shellPID)
	}
}

// Output larger than the stream buffers, on both streams at once, and output that looks
// like the start of a marker, come back whole.
func TestShellLargeAndMarkerLikeOutput(t *testing.T) {
	f := testfleet.Start(t, testfleet.Options{Hosts: 1})
	c := dialFleet(t, fleetConfig(f, f.Hosts[0]))
	script := `i=0; while [ $i -lt 3000 ]; do echo "out line $i KPX-E-"; echo "err line $i KPX-B-" >&2; i=$((i+1)); done; printf KPX-`
	for range 3 { // the first on a session of its own, then through the shell
		res, err := c.Run(testCtx(t), Cmd{Shell: script})
		if err != nil {
			t.Fatal(err)
		}
		var wantOut, wantErr strings.Builder
		for i := range 3000 {
			fmt.Fprintf(&wantOut, "out line %d KPX-E-\n", i)
			fmt.Fprintf(&wantErr, "err line %d KPX-B-\n", i)
		}
		wantOut.WriteString("KPX-")
		if string(res.Stdout) != wantOut.String() || string(res.Stderr) != wantErr.String() {
			t.Fatalf("got %d bytes of stdout and %d of stderr, want %d and %d", len(res.Stdout), len(res.Stderr), wantOut.Len(), wantErr.Len())
		}
	}
}

// A timed-out command is killed with everything it started, and the next command runs.
func TestShellTimeoutKillsTheProcessTree(t *testing.T) {
	f := testfleet.Start(t, testfleet.Options{Hosts: 1})
	c := dialFleet(t, fleetConfig(f, f.Hosts[0]))
	mustRun(t, c, "true") // the shell is running
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := c.Run(ctx, Cmd{Shell: `sh -c 'sleep 300 & echo $! > ` + pidFile + `; wait'`})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want context.DeadlineExceeded", err)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid := strings.TrimSpace(string(b))
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, err := os.ReadFile("/proc/" + pid + "/stat")
		if err != nil || strings.Contains(string(st), ") Z ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the command's child %s still runs after the timeout", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if out := mustRun(t, c, "echo ok"); out != "ok\n" {
		t.Fatalf("after the timeout: %q", out)
	}
}

// Output a process left behind by one command writes later is not taken for the next
// command's: it is dropped and the shell replaced.
func TestShellDropsOutputOfLeftoverProcesses(t *testing.T) {
	f := testfleet.Start(t, testfleet.Options{Hosts: 1, Override: []string{"LogLevel VERBOSE"}})
	h := f.Hosts[0]
	c := dialFleet(t, fleetConfig(f, h))
	dir := t.TempDir()
	flag := filepath.Join(dir, "written")
	mustRun(t, c, "true") // the next command runs through the shell
	mustRun(t, c, `(sleep 0.5; echo stray; echo stray >&2; touch `+flag+`) &`)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(flag); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the leftover process never wrote")
		}
		time.Sleep(50 * time.Millisecond)
	}
	res, err := c.Run(testCtx(t), Cmd{Shell: "echo mine; echo mine >&2"})
	if err != nil || string(res.Stdout) != "mine\n" || string(res.Stderr) != "mine\n" {
		t.Fatalf("stdout %q stderr %q error %v, want only the command's output", res.Stdout, res.Stderr, err)
	}
	if out := mustRun(t, c, "echo third"); out != "third\n" {
		t.Fatalf("third command: %q", out)
	}
	if n := commandSessions(t, h); n != 3 {
		t.Errorf("%d command sessions started, want 3 (the first command's, the shell that saw stray output, its replacement)", n)
	}
}

// A command that kills the shell running it fails as a killed command; the next one gets
// a new shell. Concurrent commands (the shell busy) get sessions of their own.
func TestShellKilledAndConcurrentCommands(t *testing.T) {
	f := testfleet.Start(t, testfleet.Options{Hosts: 1})
	c := dialFleet(t, fleetConfig(f, f.Hosts[0]))
	mustRun(t, c, "true")
	res, err := c.Run(testCtx(t), Cmd{Shell: "echo before; kill -KILL 0; sleep 5"})
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Signal != "KILL" || string(res.Stdout) != "before\n" {
		t.Fatalf("stdout %q error %v, want output and an *ExitError for signal KILL", res.Stdout, err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			want := fmt.Sprintf("n%d\n", i)
			res, err := c.Run(testCtx(t), Cmd{Shell: "sleep 0.2; echo n" + strconv.Itoa(i)})
			if err != nil || string(res.Stdout) != want {
				t.Errorf("command %d: %q %v", i, res.Stdout, err)
			}
		}()
	}
	wg.Wait()
}

// A host capped below three sessions keeps no shell: each command gets a session.
func TestShellNotKeptUnderLowSessionCap(t *testing.T) {
	f := testfleet.Start(t, testfleet.Options{Hosts: 1, Override: []string{"LogLevel VERBOSE"}})
	h := f.Hosts[0]
	c, err := Dial(testCtx(t), fleetConfig(f, h), PoolOptions{MaxSessions: 2, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for range 3 {
		mustRun(t, c, "true")
	}
	if n := commandSessions(t, h); n != 3 {
		t.Errorf("3 commands started %d command sessions, want 3", n)
	}
}

func TestMarkedReader(t *testing.T) {
	stream := "stray" + "M1 7\n" + "abcM" + "M2 x\n" + "M1\nM2\n" + "tail"
	for _, chunk := range []int{1, 2, 3, 1 << 20} {
		r := newMarkedReader(iotest.OneByteReader(strings.NewReader(stream)))
		if chunk > 1 {
			r = newMarkedReader(&chunked{strings.NewReader(stream), chunk})
		}
		var out bytes.Buffer
		tail, before, err := r.until(nil, "M1")
		if tail != " 7" || before != 5 || err != nil {
			t.Fatalf("chunk %d: first marker: %q %d %v", chunk, tail, before, err)
		}
		tail, before, err = r.until(&out, "M2")
		if tail != " x" || before != 4 || out.String() != "abcM" || err != nil {
			t.Fatalf("chunk %d: second marker: %q %d %q %v", chunk, tail, before, out.String(), err)
		}
		if tail, _, err = r.until(nil, "M1"); tail != "" || err != nil {
			t.Fatalf("chunk %d: empty tail: %q %v", chunk, tail, err)
		}
		if _, _, err = r.until(nil, "M2"); err != nil {
			t.Fatal(err)
		}
		out.Reset()
		if _, before, err = r.until(&out, "M3"); err != io.EOF || out.String() != "tail" || before != 4 {
			t.Fatalf("chunk %d: at the end: %q %d %v", chunk, out.String(), before, err)
		}
	}
}

type chunked struct {
	r io.Reader
	n int
}

func (c *chunked) Read(p []byte) (int, error) {
	if len(p) > c.n {
		p = p[:c.n]
	}
	return c.r.Read(p)
}
