package transport

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kpxdev/kpx/internal/testfleet"
)

func TestPlanBecomeKeepsPasswordOutOfArgv(t *testing.T) {
	const pw = "S3cret-become-pw"
	for _, b := range []Become{
		{Method: "sudo", Password: pw},
		{Method: "sudo", User: "postgres", Password: pw, Flags: "-H"},
		{Method: "su", User: "postgres", Password: pw},
	} {
		p, err := planBecome(b, "id -un")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(p.Command, pw) {
			t.Errorf("%s: command line holds the password: %s", b.Method, p.Command)
		}
		if p.Marker == "" || !strings.Contains(p.Command, p.Marker) {
			t.Errorf("%s: no success marker in %s", b.Method, p.Command)
		}
	}
	p, _ := planBecome(Become{Method: "sudo"}, "id -un")
	if !strings.HasPrefix(p.Command, "sudo -H -n -u root -- /bin/sh -c ") {
		t.Errorf("passwordless sudo command: %s", p.Command)
	}
	if _, err := planBecome(Become{Method: "doas"}, "true"); err == nil {
		t.Error("unknown become method accepted")
	}
}

// becomeFleet starts a host and an unprivileged user logging in to it.
func becomeFleet(t *testing.T, opts testfleet.UserOptions) (*Config, *testfleet.User) {
	f := testfleet.Start(t, testfleet.Options{Hosts: 1})
	u := f.AddUser(t, opts)
	cfg := fleetConfig(f, f.Hosts[0])
	cfg.User = u.Name
	return cfg, u
}

func TestBecomeSudoNoPasswd(t *testing.T) {
	cfg, u := becomeFleet(t, testfleet.UserOptions{Sudo: testfleet.SudoNoPasswd})
	c := dialFleet(t, cfg)
	if out := mustRun(t, c, "id -un"); strings.TrimSpace(out) != u.Name {
		t.Fatalf("login user %q, want %q", out, u.Name)
	}
	res, err := c.Run(testCtx(t), Cmd{Argv: []string{"id", "-un"}, Become: &Become{Method: "sudo"}})
	if err != nil || string(res.Stdout) != "root\n" {
		t.Fatalf("sudo id -un: %q, %v (stderr %q)", res.Stdout, err, res.Stderr)
	}
	// Stdin and env reach the escalated command.
	res, err = c.Run(testCtx(t), Cmd{Shell: `printf '%s:' "$X"; cat`, Env: map[string]string{"X": "v"}, Stdin: strings.NewReader("in"), Become: &Become{Method: "sudo"}})
	if err != nil || string(res.Stdout) != "v:in" {
		t.Fatalf("sudo with env and stdin: %q, %v", res.Stdout, err)
	}
}

func TestBecomeSudoPassword(t *testing.T) {
	const pw = "Kpx-sudo-Pw-4471"
	cfg, _ := becomeFleet(t, testfleet.UserOptions{Sudo: testfleet.SudoPassword, Password: pw})
	var log syncBuffer
	c, err := Dial(testCtx(t), cfg, PoolOptions{Logger: newBufferLogger(&log)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	// Without a password, sudo -n refuses: a become error, not a hang.
	_, err = c.Run(testCtx(t), Cmd{Argv: []string{"id", "-un"}, Become: &Become{Method: "sudo"}})
	var be *BecomeError
	if !errors.As(err, &be) {
		t.Fatalf("sudo -n without password: %v, want *BecomeError", err)
	}

	// With the password: root, stdin passes after the password, and the password is in
	// no process's argv on the host while the command runs.
	stop := make(chan struct{})
	var seen atomic.Bool
	scanned := make(chan int)
	go func() { scanned <- scanCmdlines(stop, pw, &seen) }()
	res, err := c.Run(testCtx(t), Cmd{Shell: "id -un; cat; sleep 1", Stdin: strings.NewReader("payload"), Become: &Become{Method: "sudo", Password: pw}})
	close(stop)
	scans := <-scanned
	if err != nil {
		t.Fatalf("sudo -S: %v (stderr %q)", err, res.Stderr)
	}
	if string(res.Stdout) != "root\npayload" {
		t.Errorf("stdout %q, want root and the payload", res.Stdout)
	}
	if bytes.Contains(res.Stderr, []byte("kpx-sudo")) || bytes.Contains(res.Stdout, []byte("KPX-BECOME")) {
		t.Errorf("prompt or marker leaked into output: %q %q", res.Stdout, res.Stderr)
	}
	if seen.Load() {
		t.Errorf("the sudo password appeared in a process's command line")
	}
	if scans == 0 {
		t.Errorf("/proc was never scanned")
	}
	if strings.Contains(log.String(), pw) {
		t.Errorf("the password was logged")
	}

	// A wrong password is a become error, promptly, without the password in it.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	_, err = c.Run(ctx, Cmd{Argv: []string{"true"}, Become: &Become{Method: "sudo", Password: "not-" + pw}})
	if !errors.As(err, &be) || !strings.Contains(err.Error(), "incorrect password") || strings.Contains(err.Error(), pw) {
		t.Fatalf("wrong password: %v, want a *BecomeError saying incorrect password", err)
	}
}

// scanCmdlines reads every /proc/*/cmdline until stop closes, recording whether needle
// appears; it returns the number of complete scans.
func scanCmdlines(stop <-chan struct{}, needle string, seen *atomic.Bool) int {
	n := 0
	for {
		select {
		case <-stop:
			return n
		default:
		}
		dirs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
		for _, d := range dirs {
			if b, err := os.ReadFile(d); err == nil && bytes.Contains(b, []byte(needle)) {
				seen.Store(true)
			}
		}
		n++
		time.Sleep(20 * time.Millisecond)
	}
}

func TestBecomeSu(t *testing.T) {
	f := testfleet.Start(t, testfleet.Options{Hosts: 1})
	testfleet.RequireTool(t, "su")
	login := f.AddUser(t, testfleet.UserOptions{})
	const pw = "Kpx-su-Pw-9902"
	target := f.AddUser(t, testfleet.UserOptions{Password: pw})
	cfg := fleetConfig(f, f.Hosts[0])
	cfg.User = login.Name
	c := dialFleet(t, cfg)
	res, err := c.Run(testCtx(t), Cmd{Shell: "id -un", Become: &Become{Method: "su", User: target.Name, Password: pw}})
	if err != nil || strings.TrimSpace(string(res.Stdout)) != target.Name {
		t.Fatalf("su: %q, %v (stderr %q)", res.Stdout, err, res.Stderr)
	}
	_, err = c.Run(testCtx(t), Cmd{Shell: "id -un", Become: &Become{Method: "su", User: target.Name, Password: "bad"}})
	var be *BecomeError
	if !errors.As(err, &be) {
		t.Fatalf("su with a wrong password: %v, want *BecomeError", err)
	}
}
