package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// Run runs cmd on the host; see the package documentation for the contract.
func (c *SSHConn) Run(ctx context.Context, cmd Cmd) (Result, error) {
	if err := cmd.validate(); err != nil {
		return Result{}, err
	}
	b := c.cfg.Become
	if cmd.Become != nil {
		b = *cmd.Become
	}
	plan, err := planBecome(b, cmd.script())
	if err != nil {
		return Result{}, err
	}
	if plan.PTY && cmd.Stdin != nil {
		return Result{}, errors.New("transport: su with a password cannot pass stdin to the command")
	}
	if err := c.acquire(ctx, 1); err != nil {
		return Result{}, err
	}
	defer c.sessions.Release(1)
	return c.runPlan(ctx, plan, cmd.Stdin)
}

// runPlan runs a (possibly become-wrapped) command through the connection's shell when
// it can (see cmdShell), else on a new session; the caller holds a session slot.
func (c *SSHConn) runPlan(ctx context.Context, plan becomePlan, stdin io.Reader) (Result, error) {
	if stdin == nil && plan.Marker == "" && !plan.PTY {
		if res, ran, err := c.runInShell(ctx, plan); ran {
			return res, err
		}
	}
	var used *sshClient
	sess, err := withRetry(ctx, c, func(cl *sshClient) (*ssh.Session, error) {
		used = cl
		return cl.NewSession()
	})
	if err != nil {
		var ue *UnreachableError
		if errors.As(err, &ue) || ctx.Err() != nil {
			return Result{}, err
		}
		return Result{}, unreachable(c.cfg, "session", err)
	}
	defer sess.Close()
	res, err := runSession(ctx, sess, plan, stdin, c.cfg.displayName())
	var ee *ExitError
	var be *BecomeError
	if err != nil && ctx.Err() == nil && !errors.As(err, &ee) && !errors.As(err, &be) && used.isDead() {
		return res, unreachable(c.cfg, "connection lost", err)
	}
	return res, err
}

func runSession(ctx context.Context, sess *ssh.Session, plan becomePlan, stdin io.Reader, host string) (Result, error) {
	watch := newBecomeWatch(plan)
	stdout := &markerWriter{w: watch}
	stderr := &promptWriter{w: watch}
	sess.Stderr = stderr
	sess.Stdout = stdout
	if plan.PTY {
		prompts := &promptWriter{w: watch}
		sess.Stdout = io.MultiWriter(prompts, stdout)
		modes := ssh.TerminalModes{ssh.ECHO: 0, ssh.OPOST: 0, ssh.ONLCR: 0}
		if err := sess.RequestPty("dumb", 24, 200, modes); err != nil {
			return Result{}, fmt.Errorf("%s: requesting a terminal for su: %w", host, err)
		}
	}
	in, err := sess.StdinPipe()
	if err != nil {
		return Result{}, err
	}
	if err := sess.Start(plan.Command); err != nil {
		return Result{}, fmt.Errorf("%s: starting command: %w", host, err)
	}
	ended := make(chan struct{})
	defer close(ended)
	kill := func() { _ = sess.Signal(ssh.SIGKILL); _ = sess.Close() }
	go feedStdin(ctx, ended, in, stdin, plan, watch, kill)
	waitErr := make(chan error, 1)
	go func() { waitErr <- sess.Wait() }()
	select {
	case err = <-waitErr:
	case <-ctx.Done():
		kill()
		res := Result{ExitStatus: -1}
		select {
		case <-waitErr: // output copying has ended: the buffers are safe to read
			res.Stdout, res.Stderr = stdout.out.Bytes(), stderr.output()
		case <-time.After(5 * time.Second):
		}
		return res, fmt.Errorf("%s: command interrupted: %w", host, ctx.Err())
	}
	res := Result{Stdout: stdout.out.Bytes(), Stderr: stderr.output()}
	return finish(res, err, plan, watch)
}

// finish turns the session's end into a Result and error per the contract.
func finish(res Result, err error, plan becomePlan, watch *becomeWatch) (Result, error) {
	var ee *ssh.ExitError
	var missing *ssh.ExitMissingError
	if plan.Marker != "" && !watch.isMarked() {
		if err == nil || errors.As(err, &ee) || errors.As(err, &missing) {
			res.ExitStatus = -1
			if ee != nil {
				res.ExitStatus = ee.ExitStatus()
			}
			return res, watch.failure(res.Stderr)
		}
	}
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.ExitStatus = ee.ExitStatus()
		if ee.Signal() != "" {
			res.ExitStatus, res.Signal = -1, ee.Signal()
		}
	case errors.As(err, &missing):
		res.ExitStatus = -1
		return res, fmt.Errorf("command ended without an exit status (connection lost?): %w", err)
	default:
		res.ExitStatus = -1
		return res, err
	}
	return exitResult(res, plan)
}

// exitResult returns res with the error its exit status calls for.
func exitResult(res Result, plan becomePlan) (Result, error) {
	if plan.Method == "sudo" && plan.Password == "" && res.ExitStatus == 1 && sudoNeedsPassword(res.Stderr) {
		return res, &BecomeError{Method: "sudo", User: plan.User, Msg: strings.TrimSpace(string(res.Stderr))}
	}
	if res.ExitStatus != 0 || res.Signal != "" {
		return res, &ExitError{Status: res.ExitStatus, Signal: res.Signal}
	}
	return res, nil
}

// becomeTimeout bounds the wait for a become prompt or marker.
const becomeTimeout = 30 * time.Second

// feedStdin writes the become password when asked for it, then the caller's stdin once
// escalation succeeded, then closes the command's stdin.
func feedStdin(ctx context.Context, ended <-chan struct{}, in io.WriteCloser, stdin io.Reader, plan becomePlan, watch *becomeWatch, kill func()) {
	defer in.Close()
	if plan.Marker != "" && !waitEscalation(ctx, ended, in, plan, watch, kill) {
		return
	}
	if stdin != nil {
		_, _ = io.Copy(in, stdin)
	}
}

// waitEscalation answers password prompts until the success marker appears. A second
// prompt means the password was wrong: the command is killed.
func waitEscalation(ctx context.Context, ended <-chan struct{}, in io.Writer, plan becomePlan, watch *becomeWatch, kill func()) bool {
	timer := time.NewTimer(becomeTimeout)
	defer timer.Stop()
	prompts := 0
	for {
		select {
		case ev := <-watch.events:
			if ev == "marker" {
				return true
			}
			prompts++
			if prompts > 1 || plan.Password == "" {
				kill()
				return false
			}
			_, _ = io.WriteString(in, plan.Password+"\n")
		case <-timer.C:
			kill()
			return false
		case <-ctx.Done():
			return false
		case <-ended:
			return false
		}
	}
}
