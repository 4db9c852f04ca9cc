package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/kpxdev/kpx/internal/testfleet"
)

// e2ePlaybook keeps each wave busy long enough for the keys to land while it runs; its
// second wave fails, which stops the run.
const e2ePlaybook = `- name: tui end to end
  hosts: fleet
  serial: 1
  gather_facts: false
  tasks:
    - name: work a while
      command: sleep 8
    - name: fail on host02
      command: /bin/false
      when: inventory_hostname == 'host02'
`

// buildKpx builds the kpx binary into a temporary directory.
func buildKpx(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "kpx")
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// tmuxSession is a detached tmux server of its own, with one window running a command.
type tmuxSession struct {
	t      *testing.T
	tmux   string
	socket string
}

func startTmux(t *testing.T, width, height int, command string) *tmuxSession {
	t.Helper()
	path, err := exec.LookPath("tmux")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("tmux is not installed (scripts/test-deps installs it)")
		}
		t.Skip("tmux is not installed (scripts/test-deps installs it)")
	}
	s := &tmuxSession{t: t, tmux: path, socket: filepath.Join(t.TempDir(), "tmux.sock")}
	s.run("-f", "/dev/null", "new-session", "-d", "-s", "kpx", "-x", fmt.Sprint(width), "-y", fmt.Sprint(height), command)
	t.Cleanup(func() { exec.Command(s.tmux, "-S", s.socket, "kill-server").Run() })
	return s
}

func (s *tmuxSession) run(args ...string) string {
	s.t.Helper()
	out, err := exec.Command(s.tmux, append([]string{"-S", s.socket}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// keys types keys into the window (tmux key names: "Enter", "Escape", or literal text).
func (s *tmuxSession) keys(keys ...string) {
	s.run(append([]string{"send-keys", "-t", "kpx"}, keys...)...)
}

func (s *tmuxSession) screen() string { return s.run("capture-pane", "-p", "-t", "kpx") }

// waitFor polls the screen until every want is on it.
func (s *tmuxSession) waitFor(what string, timeout time.Duration, want ...string) string {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		scr := s.screen()
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(scr, w)
		}
		if ok {
			return scr
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%s: the screen never showed %q within %v:\n%s", what, want, timeout, scr)
		}
		time.Sleep(150 * time.Millisecond)
	}
}

// TestTUIInTmux runs the real binary in a real terminal (tmux) against the OpenSSH fleet,
// steers it with keys (filter, pause, resume, quit and its confirmation, leaving the
// summary) and reads the screen.
func TestTUIInTmux(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	f := testfleet.Start(t, testfleet.Options{Hosts: 3})
	bin := buildKpx(t)
	dir := t.TempDir()
	play := filepath.Join(dir, "play.yml")
	if err := os.WriteFile(play, []byte(e2ePlaybook), 0o644); err != nil {
		t.Fatal(err)
	}
	status := filepath.Join(dir, "status")
	// The window stays after kpx exits so that the printed summary can be read.
	command := fmt.Sprintf("TERM=xterm-256color %s run -i %s %s; echo $? > %s; echo KPX-EXITED; sleep 600", bin, f.Inventory, play, status)
	s := startTmux(t, 120, 36, command)
	const long = 90 * time.Second

	s.waitFor("start", long, "kpx", "WAVE 1/3", "host01", "RUNNING")
	for _, k := range []string{"/", "h", "o", "s", "t", "0", "2", "Enter"} {
		s.keys(k) // one at a time, as typed
	}
	scr := s.waitFor("filter", long, "filter: /host02", "1 host")
	if strings.Contains(scr, "host01 ") || strings.Contains(scr, "host03 ") {
		t.Errorf("the filter /host02 still shows other hosts:\n%s", scr)
	}
	// p pauses once the current wave is over: the header says so, the wave ends, and no
	// host starts until r.
	s.keys("p")
	s.waitFor("pause", long, "PAUSED")
	s.waitFor("paused between waves", 3*time.Minute, "PAUSED", "running 0 ")
	time.Sleep(2 * time.Second)
	if scr := s.screen(); !strings.Contains(scr, "running 0 ") || !strings.Contains(scr, "PAUSED") {
		t.Fatalf("a host started while the run was paused:\n%s", scr)
	}
	s.keys("r")
	s.waitFor("resume", long, "RUNNING")
	s.keys("q")
	s.waitFor("quit asks while the run is active", long, "Quit? y/N")
	s.keys("n")
	scr = s.waitFor("summary screen", 4*time.Minute, "press any key", "host02", "failed")
	if strings.Contains(scr, "KPX-EXITED") {
		t.Fatalf("kpx exited before a key was pressed:\n%s", scr)
	}
	s.keys("q")
	scr = s.waitFor("exit", long, "KPX-EXITED")
	if !strings.Contains(scr, "host02") || !strings.Contains(scr, "failed") {
		t.Errorf("the summary printed after exit lacks the failed host:\n%s", scr)
	}
	code, _ := os.ReadFile(status)
	if got := strings.TrimSpace(string(code)); got != fmt.Sprint(ExitHostFailed) {
		t.Errorf("exit status %s, want %d", got, ExitHostFailed)
	}
}

// TestPipedRunIsPlainText: `kpx run … | cat` from a terminal (stdin a tty, stdout a pipe)
// writes Ansible's plain text, with no escape sequence.
func TestPipedRunIsPlainText(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	f := testfleet.Start(t, testfleet.Options{Hosts: 2})
	bin := buildKpx(t)
	dir := t.TempDir()
	play, _ := filepath.Abs("../../testdata/rollout/fleet/site.yml")
	out := filepath.Join(dir, "out")
	command := fmt.Sprintf("TERM=xterm-256color %s run -i %s %s | cat > %s; echo KPX-EXITED; sleep 600", bin, f.Inventory, play, out)
	s := startTmux(t, 100, 30, command)
	s.waitFor("piped run", 2*time.Minute, "KPX-EXITED")
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if i := bytes.IndexByte(got, 0x1b); i >= 0 {
		t.Errorf("escape sequence at byte %d of the piped output:\n%q", i, got)
	}
	for _, want := range []string{"PLAY [over ssh] *", "TASK [where am I] *", "PLAY RECAP *"} {
		if !bytes.Contains(got, []byte(want)) {
			t.Errorf("piped output lacks %q:\n%s", want, got)
		}
	}
}

// TestJSONRunIsEventLines: --ui json writes one decodable event per line and nothing else.
func TestJSONRunIsEventLines(t *testing.T) {
	f := testfleet.Start(t, testfleet.Options{Hosts: 2})
	play, _ := filepath.Abs("../../testdata/rollout/fleet/site.yml")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	code := run(ctx, []string{"run", "--ui", "json", "-i", f.Inventory, play}, &out, &errOut)
	if code != ExitHostFailed {
		t.Errorf("exit code %d, want %d; stderr %s", code, ExitHostFailed, errOut.String())
	}
	checkEventLines(t, out.Bytes())
}
