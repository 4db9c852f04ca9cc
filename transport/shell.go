package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// A cmdShell is a /bin/sh kept running on one session of a connection, to which Run
// writes commands one at a time. Each new session costs the host a fork in sshd, its
// session set-up and an exec of the login shell, several times what running a command
// through a shell that is already there costs; a task that runs a few commands on every
// host of a fleet spends most of the hosts' CPU on that set-up.
//
// Every command still runs in a shell of its own, started by the kept one as
// `"$SHELL" -c COMMAND </dev/null` ($SHELL being the login shell sshd named), so that $$,
// exit, exec, traps and the environment behave as on a session of its own. The kept shell
// frames each command's output with markers carrying a random token: a begin marker on
// stdout and on stderr before the command, and an end marker with its exit status after
// it. Bytes seen before a begin marker come from a process an earlier command left behind
// writing to the shell's output; the shell is then not kept, since they could mix with
// the next command's output.
//
// The kept shell is the leader of its session's process group (sshd calls setsid for every
// session), which every command it starts joins. Cancelling a command kills that group
// from a second session (the "signal" channel request cannot be relied on: OpenSSH only
// honours it with privilege separation), so nothing the command started lives on.
type cmdShell struct {
	on   *sshClient
	sess *ssh.Session
	in   io.WriteCloser
	out  *markedReader
	errs *markedReader
	pgid int
	keep bool // false once the shell must not run another command
}

// shellProbeTimeout bounds the wait for a new shell to answer.
const shellProbeTimeout = 15 * time.Second

// killTimeout bounds the clean-up after a cancelled command.
const killTimeout = 5 * time.Second

// errNoShell means the host gave a session but no working /bin/sh on it; the connection
// then runs every command on a session of its own.
var errNoShell = errors.New("no shell answered on the session")

// startShell starts a shell on a new session of cl. The caller holds the session slot.
func startShell(ctx context.Context, cl *sshClient) (*cmdShell, error) {
	sess, err := cl.NewSession()
	if err != nil {
		return nil, err
	}
	s := &cmdShell{on: cl, sess: sess, keep: true}
	stdout, err1 := sess.StdoutPipe()
	stderr, err2 := sess.StderrPipe()
	in, err3 := sess.StdinPipe()
	if err := errors.Join(err1, err2, err3); err != nil {
		sess.Close()
		return nil, err
	}
	s.in, s.out, s.errs = in, newMarkedReader(stdout), newMarkedReader(stderr)
	if err := sess.Start("exec /bin/sh"); err != nil {
		sess.Close()
		return nil, err
	}
	tok := "KPX-R-" + randomToken()[:16]
	// The shell keeps the session's stderr as fd 3 for the commands and the markers, and
	// sends its own to /dev/null: what it says of a command killed by a signal
	// ("Terminated") is not the command's output (see run).
	probe := fmt.Sprintf("exec 3>&2 2>/dev/null; printf '%s %%s\\n' $$; printf '%s\\n' >&3\n", tok, tok)
	ctx, cancel := context.WithTimeout(ctx, shellProbeTimeout)
	defer cancel()
	type answer struct {
		pid string
		err error
	}
	got := make(chan answer, 2)
	go func() {
		pid, _, err := s.out.until(nil, tok)
		got <- answer{pid, err}
	}()
	go func() {
		_, _, err := s.errs.until(nil, tok)
		got <- answer{"", err}
	}()
	if _, err := io.WriteString(in, probe); err != nil {
		sess.Close()
		return nil, err
	}
	for range 2 {
		select {
		case a := <-got:
			if a.err != nil {
				sess.Close()
				return nil, fmt.Errorf("%w: %w", errNoShell, a.err)
			}
			if a.pid != "" {
				if s.pgid, err = strconv.Atoi(strings.TrimSpace(a.pid)); err != nil || s.pgid <= 1 {
					sess.Close()
					return nil, fmt.Errorf("%w: odd pid %q", errNoShell, a.pid)
				}
			}
		case <-ctx.Done():
			sess.Close()
			return nil, fmt.Errorf("%w: %w", errNoShell, ctx.Err())
		}
	}
	return s, nil
}

// shellExit is how a command run through the shell ended.
type shellExit struct {
	res     Result
	started bool  // the command was written to the shell
	lost    error // the shell ended before the command did (nil when it finished)
}

// run runs command through the shell and waits for it. When ctx ends first, the command's
// process group is killed and the shell closed.
func (s *cmdShell) run(ctx context.Context, command string) shellExit {
	tok := randomToken()[:16]
	begin, end := "KPX-B-"+tok, "KPX-E-"+tok
	// The parentheses matter: a shell reports a command killed by a signal on the stderr
	// the command was given, so the redirection is made in a subshell, which execs the
	// command (no extra process) while the kept shell's own stderr stays /dev/null.
	line := fmt.Sprintf("printf '%[1]s\\n'; printf '%[1]s\\n' >&3; ( \"${SHELL:-/bin/sh}\" -c %[3]s </dev/null 2>&3 3>&- ); printf '%[2]s %%d\\n' $?; printf '%[2]s\\n' >&3\n",
		begin, end, Quote(command))
	var stdout, stderr bytes.Buffer
	type ended struct {
		status string
		stray  int
		err    error
	}
	frame := func(r *markedReader, w *bytes.Buffer) ended {
		_, stray, err := r.until(nil, begin)
		if err != nil {
			return ended{err: err}
		}
		status, _, err := r.until(w, end)
		return ended{status, stray, err}
	}
	outDone, errDone := make(chan ended, 1), make(chan ended, 1)
	go func() { outDone <- frame(s.out, &stdout) }()
	go func() { errDone <- frame(s.errs, &stderr) }()
	if n, err := io.WriteString(s.in, line); err != nil {
		s.keep = false
		s.sess.Close()
		<-outDone
		<-errDone
		// A part of the line may have reached the shell, which could run it: the command
		// counts as started then, and is not run again elsewhere.
		return shellExit{res: Result{ExitStatus: -1}, started: n > 0, lost: err}
	}
	var o, e ended
	var gotOut, gotErr bool
	for !gotOut || !gotErr {
		select {
		case o = <-outDone:
			gotOut = true
			continue
		case e = <-errDone:
			gotErr = true
			continue
		case <-ctx.Done():
		}
		s.kill()
		timer := time.NewTimer(killTimeout)
		defer timer.Stop()
		for !gotOut || !gotErr {
			select {
			case <-outDone:
				gotOut = true
			case <-errDone:
				gotErr = true
			case <-timer.C: // the readers may still write: leave the output out
				return shellExit{res: Result{ExitStatus: -1}, started: true, lost: ctx.Err()}
			}
		}
		res := Result{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), ExitStatus: -1}
		return shellExit{res: res, started: true, lost: ctx.Err()}
	}
	res := Result{Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}
	if o.stray > 0 || e.stray > 0 {
		s.keep = false // something an earlier command left running writes to the shell's output
	}
	if err := errors.Join(o.err, e.err); err != nil {
		s.keep = false
		return shellExit{res: res, started: true, lost: err}
	}
	status, err := strconv.Atoi(strings.TrimSpace(o.status))
	if err != nil {
		s.keep = false
		return shellExit{res: res, started: true, lost: fmt.Errorf("odd exit status %q", o.status)}
	}
	res.ExitStatus = status
	return shellExit{res: res, started: true}
}

// killGroup ends a process group: TERM first, which sudo passes on to a command it runs
// as another user (the login user may not signal that one itself), then KILL for what is
// left after a second.
const killGroup = "kill -TERM -- -PGID 2>/dev/null || exit 0; for i in 1 2 3 4 5 6 7 8 9 10; do " +
	"kill -0 -- -PGID 2>/dev/null || exit 0; sleep 0.1; done; kill -KILL -- -PGID 2>/dev/null"

// kill ends the running command and everything it started, then the shell: from a second
// session it kills the shell's process group, which the command shares.
func (s *cmdShell) kill() {
	s.keep = false
	done := make(chan struct{})
	go func() {
		defer close(done)
		sess, err := s.on.NewSession()
		if err != nil {
			return
		}
		defer sess.Close()
		_ = sess.Run(strings.ReplaceAll(killGroup, "PGID", strconv.Itoa(s.pgid)))
	}()
	select {
	case <-done:
	case <-time.After(killTimeout):
	}
	s.close()
}

// close ends the shell's session.
func (s *cmdShell) close() {
	s.keep = false
	_ = s.in.Close()
	_ = s.sess.Close()
}

// waitLost returns how the shell's session ended, once it has (bounded by killTimeout).
func (s *cmdShell) waitLost() error {
	done := make(chan error, 1)
	go func() { done <- s.sess.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(killTimeout):
		s.close()
		return errors.New("the shell stopped answering")
	}
}

// markedReader reads a stream that markers divide into sections, keeping what it read
// past a marker for the next section.
type markedReader struct {
	r   io.Reader
	buf []byte
	err error
}

func newMarkedReader(r io.Reader) *markedReader {
	return &markedReader{r: r, buf: make([]byte, 0, 8<<10)} // grows only for a marker line longer than that
}

// until writes to w (when not nil) everything up to the first occurrence of marker,
// consumes the marker's line and returns the rest of that line and the number of bytes
// before the marker. A stream ending first returns its error (io.EOF at its end) after
// writing what it held.
func (m *markedReader) until(w *bytes.Buffer, marker string) (tail string, before int, err error) {
	mk := []byte(marker)
	emit := func(n int) {
		if w != nil {
			w.Write(m.buf[:n])
		}
		before += n
		m.buf = m.buf[:copy(m.buf, m.buf[n:])]
	}
	for {
		if i := bytes.Index(m.buf, mk); i >= 0 {
			rest := m.buf[i+len(mk):]
			if nl := bytes.IndexByte(rest, '\n'); nl >= 0 {
				tail = string(rest[:nl])
				emit(i)
				m.buf = m.buf[:copy(m.buf, m.buf[len(mk)+nl+1:])]
				return tail, before, nil
			}
		} else if keep := len(mk) - 1; len(m.buf) > keep {
			emit(len(m.buf) - keep) // the last bytes may begin the marker
		}
		if m.err != nil {
			emit(len(m.buf))
			return "", before, m.err
		}
		if len(m.buf) == cap(m.buf) {
			m.buf = append(m.buf, 0)[:len(m.buf)]
		}
		n, err := m.r.Read(m.buf[len(m.buf):cap(m.buf)])
		m.buf = m.buf[:len(m.buf)+n]
		if err != nil {
			m.err = err
		}
	}
}

// keepsShell reports whether the connection may keep a shell: an idle one holds a session
// slot, so the host must allow three (the shared SFTP session, the shell, one more).
func (c *SSHConn) keepsShell() bool { return c.pool.opts.MaxSessions >= 3 }

// runInShell runs plan through the connection's shell. ran is false when the command
// should get a session of its own instead: the shell is busy with another command, the
// host has none, or it died before it took this one.
func (c *SSHConn) runInShell(ctx context.Context, plan becomePlan) (res Result, ran bool, err error) {
	sh := c.takeShell(ctx)
	if sh == nil {
		return Result{}, false, nil
	}
	x := sh.run(ctx, plan.Command)
	switch {
	case !x.started:
		c.putShell(sh)
		return Result{}, false, nil
	case x.lost == nil:
		c.putShell(sh)
		res, err = exitResult(x.res, plan)
		return res, true, err
	case ctx.Err() != nil:
		c.putShell(sh)
		return x.res, true, fmt.Errorf("%s: command interrupted: %w", c.cfg.displayName(), ctx.Err())
	}
	// The shell ended before the command did: the command killed it, or the connection
	// broke.
	waitErr := sh.waitLost()
	c.putShell(sh)
	if sh.on.isDead() {
		x.res.ExitStatus = -1
		return x.res, true, unreachable(c.cfg, "connection lost", x.lost)
	}
	if waitErr == nil {
		waitErr = fmt.Errorf("the shell running the command exited before it: %w", x.lost)
	}
	res, err = finish(x.res, waitErr, plan, nil)
	return res, true, err
}

// takeShell returns the connection's shell for one command, starting one when there is
// none; nil when the command should get a session of its own. The first command on a
// connection gets a session: a shell costs more than that when it runs only one command
// (`kpx exec`). The caller holds a session slot, which covers the shell while it runs the
// command.
func (c *SSHConn) takeShell(ctx context.Context) *cmdShell {
	if !c.keepsShell() {
		return nil
	}
	c.shellMu.Lock()
	c.commands++
	if c.noShell || c.shellBusy || c.commands == 1 {
		c.shellMu.Unlock()
		return nil
	}
	c.shellBusy = true
	sh := c.shell
	c.shell = nil
	c.shellMu.Unlock()
	if sh != nil {
		c.sessions.Release(1) // the slot it held while idle
		if !sh.on.isDead() {
			return sh
		}
		sh.close()
	}
	cl, err := c.client(ctx)
	if err == nil {
		sh, err = startShell(ctx, cl)
	}
	if err != nil {
		c.shellMu.Lock()
		c.shellBusy = false
		if errors.Is(err, errNoShell) && ctx.Err() == nil && !cl.isDead() {
			c.noShell = true
			c.pool.log.Info("no usable /bin/sh on the host's sessions; running every command on a session of its own",
				"host", c.cfg.displayName(), "error", err)
		}
		c.shellMu.Unlock()
		return nil
	}
	return sh
}

// putShell keeps sh as the connection's idle shell when it can run another command and a
// session slot is free without waiting (a waiting caller comes first), else closes it.
func (c *SSHConn) putShell(sh *cmdShell) {
	keep := sh.keep && !sh.on.isDead() && c.sessions.TryAcquire(1)
	c.shellMu.Lock()
	c.shellBusy = false
	if keep {
		c.shell = sh
	}
	c.shellMu.Unlock()
	if !keep {
		sh.close()
	}
}

// shellExitWait bounds how long closing a connection waits for its idle shell to exit.
const shellExitWait = 2 * time.Second

// endShell ends the connection's idle shell by closing its input and waits for it to
// exit, so that sshd reaps it before the connection goes (closing the connection first
// leaves the shell to exit after sshd's connection process has gone, an orphan).
func (c *SSHConn) endShell() {
	c.shellMu.Lock()
	sh := c.shell
	c.shell = nil
	c.shellMu.Unlock()
	if sh == nil {
		return
	}
	defer c.sessions.Release(1)
	_ = sh.in.Close()
	exited := make(chan struct{})
	go func() {
		_ = sh.sess.Wait()
		close(exited)
	}()
	select {
	case <-exited:
	case <-time.After(shellExitWait):
	}
	sh.close()
}
