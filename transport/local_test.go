package transport

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLocalRunContract(t *testing.T) {
	c := NewLocal(nil)
	defer c.Close()
	tests := []struct {
		name       string
		cmd        Cmd
		wantOut    string
		wantStatus int
		wantSignal string
	}{
		{name: "argv", cmd: Cmd{Argv: []string{"printf", "%s|", "a b", "$HOME"}}, wantOut: "a b|$HOME|"},
		{name: "shell", cmd: Cmd{Shell: "echo a; echo b >&2"}, wantOut: "a\n"},
		{name: "env", cmd: Cmd{Shell: `printf %s "$K"`, Env: map[string]string{"K": "v w"}}, wantOut: "v w"},
		{name: "stdin", cmd: Cmd{Argv: []string{"cat"}, Stdin: strings.NewReader("in")}, wantOut: "in"},
		{name: "exit status", cmd: Cmd{Shell: "exit 4"}, wantStatus: 4},
		{name: "signal", cmd: Cmd{Shell: "kill -KILL $$"}, wantStatus: -1, wantSignal: "KILL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := c.Run(testCtx(t), tt.cmd)
			if string(res.Stdout) != tt.wantOut || res.ExitStatus != tt.wantStatus || res.Signal != tt.wantSignal {
				t.Fatalf("got %q status %d signal %q; want %q %d %q", res.Stdout, res.ExitStatus, res.Signal, tt.wantOut, tt.wantStatus, tt.wantSignal)
			}
			var ee *ExitError
			if failed := tt.wantStatus != 0 || tt.wantSignal != ""; failed != errors.As(err, &ee) {
				t.Fatalf("error %v; want *ExitError: %v", err, failed)
			}
		})
	}
}

func TestLocalTimeout(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := NewLocal(nil).Run(ctx, Cmd{Shell: "sleep 60 & sleep 60"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Fatalf("returned after %s", d)
	}
}

func TestLocalUploadDownload(t *testing.T) {
	c := NewLocal(nil)
	dir := t.TempDir()
	src, _ := randomFile(t, 1<<20)
	dst := filepath.Join(dir, "out")
	if err := c.Upload(testCtx(t), UploadSpec{Local: src, Remote: dst, Mode: 0o600}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dst)
	if err != nil || fi.Mode().Perm() != 0o600 || fi.Size() != 1<<20 {
		t.Fatalf("uploaded file: %v %v", fi, err)
	}
	back := filepath.Join(dir, "back")
	if err := c.Download(testCtx(t), dst, back); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(src)
	b, _ := os.ReadFile(back)
	if string(a) != string(b) {
		t.Fatal("content differs")
	}
	// A short source fails and leaves nothing behind.
	bad := filepath.Join(dir, "bad")
	if err := c.Upload(testCtx(t), UploadSpec{Reader: strings.NewReader("x"), Size: 5, Remote: bad}); err == nil {
		t.Fatal("short upload succeeded")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 || entries[0].Name() != "back" || entries[1].Name() != "out" {
		t.Fatalf("directory holds %v, want back and out only", entries)
	}
}

func TestLocalBecomeSudo(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for a password-less sudo")
	}
	res, err := NewLocal(nil).Run(testCtx(t), Cmd{Argv: []string{"id", "-un"}, Become: &Become{Method: "sudo", User: "nobody"}})
	if err != nil || strings.TrimSpace(string(res.Stdout)) != "nobody" {
		t.Fatalf("%q %v %q", res.Stdout, err, res.Stderr)
	}
}
