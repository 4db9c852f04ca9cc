package transport

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kpxdev/kpx/internal/testfleet"
)

func TestSSHRunContract(t *testing.T) {
	f := testfleet.Start(t, testfleet.Options{Hosts: 1})
	c := dialFleet(t, fleetConfig(f, f.Hosts[0]))
	tests := []struct {
		name       string
		cmd        Cmd
		wantOut    string
		wantErr    string
		wantStatus int
		wantSignal string
	}{
		{name: "argv is not shell-interpreted", cmd: Cmd{Argv: []string{"printf", "%s|", "a b", "$HOME", "it's"}}, wantOut: "a b|$HOME|it's|"},
		{name: "shell script", cmd: Cmd{Shell: "echo one; echo two >&2; echo three"}, wantOut: "one\nthree\n"},
		{name: "env exported", cmd: Cmd{Shell: `printf '%s' "$A$B"`, Env: map[string]string{"A": "x y", "B": "'q'"}}, wantOut: "x y'q'"},
		{name: "stdin fed", cmd: Cmd{Argv: []string{"cat"}, Stdin: strings.NewReader("hello\n")}, wantOut: "hello\n"},
		{name: "nonzero exit", cmd: Cmd{Shell: "echo out; exit 3"}, wantOut: "out\n", wantErr: "status 3", wantStatus: 3},
		// A command on a session of its own (stdin set) reports the signal that ended it;
		// through the connection's shell it shows as a shell shows it, 128+n.
		{name: "killed by signal", cmd: Cmd{Shell: "kill -TERM $$", Stdin: strings.NewReader("")}, wantErr: "signal TERM", wantStatus: -1, wantSignal: "TERM"},
		{name: "killed by signal, through the shell", cmd: Cmd{Shell: "kill -TERM $$"}, wantErr: "status 143", wantStatus: 143},
		{name: "no trailing newline, on both streams", cmd: Cmd{Shell: "printf out; printf err >&2"}, wantOut: "out"},
		{name: "exec replaces the command's shell", cmd: Cmd{Shell: "exec sh -c 'echo $0; exit 4' replaced"}, wantOut: "replaced\n", wantErr: "status 4", wantStatus: 4},
		{name: "exit in a sourced function", cmd: Cmd{Shell: "f() { exit 5; }; f; echo not reached"}, wantErr: "status 5", wantStatus: 5},
		{name: "host's environment", cmd: Cmd{Shell: `printf '%s' "$KPX_HOST_NAME"`}, wantOut: f.Hosts[0].Name},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := c.Run(testCtx(t), tt.cmd)
			if string(res.Stdout) != tt.wantOut {
				t.Errorf("stdout %q, want %q (stderr %q)", res.Stdout, tt.wantOut, res.Stderr)
			}
			if res.ExitStatus != tt.wantStatus || res.Signal != tt.wantSignal {
				t.Errorf("status %d signal %q, want %d %q", res.ExitStatus, res.Signal, tt.wantStatus, tt.wantSignal)
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			var ee *ExitError
			if !errors.As(err, &ee) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want *ExitError containing %q", err, tt.wantErr)
			}
		})
	}
	// The kept shell's own messages (dash's "Terminated") are not the command's stderr.
	if res, _ := c.Run(testCtx(t), Cmd{Shell: "echo x >&2; kill -TERM $$"}); !bytes.Equal(res.Stderr, []byte("x\n")) {
		t.Errorf("stderr %q", res.Stderr)
	}
}

func TestSSHRunRejectsBadCmd(t *testing.T) {
	for _, cmd := range []Cmd{{}, {Argv: []string{"true"}, Shell: "true"}, {Shell: "true", Env: map[string]string{"A-B": "x"}}} {
		if err := cmd.validate(); err == nil {
			t.Errorf("%+v accepted", cmd)
		}
	}
}

func TestSSHCommandTimeout(t *testing.T) {
	f := testfleet.Start(t, testfleet.Options{Hosts: 1})
	c := dialFleet(t, fleetConfig(f, f.Hosts[0]))
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Run(ctx, Cmd{Shell: "echo started; sleep 60"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Fatalf("returned after %s; want promptly after the 500ms deadline", d)
	}
	// The connection stays usable.
	if out := mustRun(t, c, "echo ok"); out != "ok\n" {
		t.Fatalf("after timeout: %q", out)
	}
}

func TestSSHConnReusedAndSessionsCapped(t *testing.T) {
	f := testfleet.Start(t, testfleet.Options{Hosts: 1})
	p := NewPool(PoolOptions{MaxSessions: 2, Logger: testLogger(t)})
	defer p.Close()
	cfg := fleetConfig(f, f.Hosts[0])
	c1, err := p.Get(testCtx(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := p.Get(testCtx(t), fleetConfig(f, f.Hosts[0]))
	if err != nil {
		t.Fatal(err)
	}
	if c1 != c2 {
		t.Fatal("two Gets for the same host returned different connections")
	}
	// Six concurrent commands with a cap of 2: at most 2 run at once, as counted on the host.
	dir := t.TempDir()
	script := `mkdir ` + dir + `/$$ && n=$(ls ` + dir + ` | wc -l) && echo $n && sleep 0.3 && rmdir ` + dir + `/$$`
	errs := make(chan error, 6)
	outs := make(chan string, 6)
	for i := 0; i < 6; i++ {
		go func() {
			res, err := c1.Run(testCtx(t), Cmd{Shell: script})
			outs <- strings.TrimSpace(string(res.Stdout))
			errs <- err
		}()
	}
	for i := 0; i < 6; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
		if n := <-outs; n != "1" && n != "2" {
			t.Errorf("%s commands ran at once, cap is 2", n)
		}
	}
	if d := c1.Dials(); d != 1 {
		t.Errorf("connection dialed %d times, want 1", d)
	}
}
