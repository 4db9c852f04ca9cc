package transport

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
)

// LocalConn runs commands on the controller itself (ansible_connection=local) with the
// same contract as SSHConn.
type LocalConn struct {
	cfg *Config
}

// NewLocal returns a local connection; cfg supplies the default become settings.
func NewLocal(cfg *Config) *LocalConn {
	if cfg == nil {
		cfg = &Config{Local: true}
	}
	return &LocalConn{cfg: cfg}
}

// Run runs cmd with /bin/sh on this machine; see the package documentation.
func (l *LocalConn) Run(ctx context.Context, cmd Cmd) (Result, error) {
	if err := cmd.validate(); err != nil {
		return Result{}, err
	}
	b := l.cfg.Become
	if cmd.Become != nil {
		b = *cmd.Become
	}
	plan, err := planBecome(b, cmd.script())
	if err != nil {
		return Result{}, err
	}
	if plan.PTY {
		return Result{}, errors.New("transport: su with a password is not supported on the local connection")
	}
	watch := newBecomeWatch(plan)
	stdout, stderr := &markerWriter{w: watch}, &promptWriter{w: watch}
	c := exec.Command("/bin/sh", "-c", plan.Command)
	c.Stdout, c.Stderr = stdout, stderr
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	in, err := c.StdinPipe()
	if err != nil {
		return Result{}, err
	}
	if err := c.Start(); err != nil {
		return Result{}, fmt.Errorf("local: %w", err)
	}
	ended := make(chan struct{})
	kill := func() { _ = syscall.Kill(-c.Process.Pid, syscall.SIGKILL) }
	go feedStdin(ctx, ended, in, cmd.Stdin, plan, watch, kill)
	waitErr := make(chan error, 1)
	go func() { waitErr <- c.Wait() }()
	select {
	case err = <-waitErr:
		close(ended)
	case <-ctx.Done():
		_ = syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
		<-waitErr
		close(ended)
		return Result{Stdout: stdout.out.Bytes(), Stderr: stderr.output(), ExitStatus: -1},
			fmt.Errorf("local: command interrupted: %w", ctx.Err())
	}
	return finishLocal(Result{Stdout: stdout.out.Bytes(), Stderr: stderr.output()}, err, plan, watch)
}

func finishLocal(res Result, err error, plan becomePlan, watch *becomeWatch) (Result, error) {
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return res, fmt.Errorf("local: %w", err)
	}
	if ee != nil {
		res.ExitStatus = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			res.ExitStatus = -1
			res.Signal = signalName(ws.Signal())
		}
	}
	if plan.Marker != "" && !watch.isMarked() {
		return res, watch.failure(res.Stderr)
	}
	if plan.Method == "sudo" && plan.Password == "" && res.ExitStatus == 1 && sudoNeedsPassword(res.Stderr) {
		return res, &BecomeError{Method: "sudo", User: plan.User, Msg: string(bytes.TrimSpace(res.Stderr))}
	}
	if res.ExitStatus != 0 || res.Signal != "" {
		return res, &ExitError{Status: res.ExitStatus, Signal: res.Signal}
	}
	return res, nil
}

// signalName names a signal the way SSH does ("KILL", "TERM", ...).
func signalName(s syscall.Signal) string {
	names := map[syscall.Signal]string{syscall.SIGABRT: "ABRT", syscall.SIGALRM: "ALRM", syscall.SIGFPE: "FPE",
		syscall.SIGHUP: "HUP", syscall.SIGILL: "ILL", syscall.SIGINT: "INT", syscall.SIGKILL: "KILL",
		syscall.SIGPIPE: "PIPE", syscall.SIGQUIT: "QUIT", syscall.SIGSEGV: "SEGV", syscall.SIGTERM: "TERM",
		syscall.SIGUSR1: "USR1", syscall.SIGUSR2: "USR2"}
	if n, ok := names[s]; ok {
		return n
	}
	return fmt.Sprint(int(s))
}

// Upload copies a file into place atomically on this machine (temp file, fsync, sha256,
// mode/owner, rename).
func (l *LocalConn) Upload(ctx context.Context, spec UploadSpec) error {
	src, size, closeSrc, err := openSource(spec)
	if err != nil {
		return err
	}
	defer closeSrc()
	mode := spec.Mode.Perm()
	if spec.Mode == 0 {
		mode = 0o644
	}
	if err := atomicWrite(ctx, spec.Remote, &io.LimitedReader{R: src, N: size}, size, mode, spec.UID, spec.GID); err != nil {
		return err
	}
	if spec.Inspect != "" && spec.InspectOutput != nil {
		if out, err := exec.CommandContext(ctx, "/bin/sh", "-c", spec.Inspect, "sh", spec.Remote).Output(); err == nil {
			_, _ = spec.InspectOutput.Write(out)
		}
	}
	return nil
}

// Download copies remote to local atomically on this machine.
func (l *LocalConn) Download(ctx context.Context, remote, local string) error {
	f, err := os.Open(remote)
	if err != nil {
		return fmt.Errorf("download: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("download: %w", err)
	}
	return atomicWrite(ctx, local, f, fi.Size(), fi.Mode().Perm(), nil, nil)
}

// Config returns the connection's configuration (do not modify it).
func (l *LocalConn) Config() *Config { return l.cfg }

// Close does nothing; it exists for the contract.
func (l *LocalConn) Close() error { return nil }

// ctxReader stops a copy when ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

func atomicWrite(ctx context.Context, final string, src io.Reader, size int64, mode os.FileMode, uid, gid *int) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(final), ".kpx-tmp-"+filepath.Base(final)+"-*")
	if err != nil {
		return fmt.Errorf("copy to %s: %w", final, err)
	}
	defer func() {
		tmp.Close()
		if err != nil {
			os.Remove(tmp.Name())
			err = fmt.Errorf("copy to %s: %w", final, err)
		}
	}()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), ctxReader{ctx, src})
	if err != nil {
		return err
	}
	if n != size {
		return fmt.Errorf("short source: %d of %d bytes", n, size)
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := verifyLocal(tmp.Name(), hex.EncodeToString(h.Sum(nil))); err != nil {
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		return err
	}
	if uid != nil || gid != nil {
		u, g := -1, -1
		if uid != nil {
			u = *uid
		}
		if gid != nil {
			g = *gid
		}
		if err := tmp.Chown(u, g); err != nil {
			return err
		}
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), final)
}

// verifyLocal re-reads a written file and compares its sha256.
func verifyLocal(name, want string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("sha256 mismatch: wrote %s, file has %s", want, got)
	}
	return nil
}
