package simfleet

import (
	"context"
	"errors"
	"io"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/sys/unix"
)

// outputGrace bounds how long a finished command's background children may keep its
// output open before the session ends anyway.
const outputGrace = 5 * time.Second

// session is one SSH session channel: at most one program (command, shell or SFTP).
type session struct {
	h   *Host
	ch  ssh.Channel
	env map[string]string
	wg  sync.WaitGroup

	mu      sync.Mutex
	started bool
	pgid    int // the command's process group while it runs; 0 otherwise
}

// session serves one session channel until the client closes it (or the program ended
// and the channel was closed from this side). A command still running then is killed.
func (h *Host) session(ch ssh.Channel, reqs <-chan *ssh.Request) {
	s := &session{h: h, ch: ch, env: map[string]string{}}
	for req := range reqs {
		ok, start := s.handle(req)
		if req.WantReply {
			_ = req.Reply(ok, nil)
		}
		if start != nil {
			start() // only now: a program ending closes the channel, and the reply must come first
		}
	}
	s.signal(syscall.SIGKILL)
	ch.Close()
	s.wg.Wait()
}

// handle serves one channel request and says whether it was accepted; a program to start
// is returned, to be started once the request is answered.
func (s *session) handle(req *ssh.Request) (bool, func()) {
	switch req.Type {
	case "env":
		var kv struct{ Name, Value string }
		if ssh.Unmarshal(req.Payload, &kv) != nil || !s.claim(false) {
			return false, nil
		}
		s.env[kv.Name] = kv.Value
		return true, nil
	case "exec":
		var p struct{ Command string }
		if ssh.Unmarshal(req.Payload, &p) != nil || !s.claim(true) {
			return false, nil
		}
		return true, func() { s.startCommand([]string{s.h.fleet.shell, "-c", p.Command}) }
	case "shell":
		if !s.claim(true) {
			return false, nil
		}
		return true, func() { s.startCommand([]string{s.h.fleet.shell}) }
	case "subsystem":
		var p struct{ Name string }
		if ssh.Unmarshal(req.Payload, &p) != nil || p.Name != "sftp" || !s.claim(true) {
			return false, nil
		}
		return true, s.startSFTP
	case "signal":
		var p struct{ Signal string }
		if ssh.Unmarshal(req.Payload, &p) != nil {
			return false, nil
		}
		sig := unix.SignalNum("SIG" + p.Signal)
		if sig == 0 {
			return false, nil
		}
		s.signal(sig)
		return true, nil
	}
	return false, nil // pty-req, x11-req, auth-agent-req@openssh.com, ...
}

// claim reports whether the session may still be configured; start also marks the
// program as started (a session runs one program).
func (s *session) claim(start bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return false
	}
	s.started = start
	return true
}

// signal sends sig to the running command's process group, if any.
func (s *session) signal(sig syscall.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pgid > 0 {
		_ = syscall.Kill(-s.pgid, sig)
	}
}

// startCommand runs argv in the host's sandbox, wired to the channel, and reports its
// exit status (or signal) when it ends. A command that cannot start ends with 127, as a
// shell's "not found" does.
func (s *session) startCommand(argv []string) {
	s.h.sessions.Add(1)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = s.h.Dir
	cmd.Env = s.h.environ(s.env)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Stdout = s.ch
	cmd.Stderr = s.ch.Stderr()
	cmd.WaitDelay = outputGrace
	stdin, err := cmd.StdinPipe()
	if err == nil {
		s.mu.Lock()
		err = cmd.Start()
		if err == nil {
			s.pgid = cmd.Process.Pid
		}
		s.mu.Unlock()
	}
	if err != nil {
		_, _ = io.WriteString(s.ch.Stderr(), "simfleet: "+err.Error()+"\n")
		s.exit(127, "")
		return
	}
	stop := context.AfterFunc(s.h.fleet.ctx, func() { s.signal(syscall.SIGKILL) })
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		_, _ = io.Copy(stdin, s.ch) // until the client's EOF, or the channel closes
		stdin.Close()
	}()
	go func() {
		defer s.wg.Done()
		defer stop()
		err := cmd.Wait()
		s.mu.Lock()
		s.pgid = 0
		s.mu.Unlock()
		status, sig := exitStatus(cmd, err)
		s.exit(status, sig)
	}()
}

// exitStatus returns the command's exit status, or the name of the signal that ended it.
func exitStatus(cmd *exec.Cmd, err error) (int, string) {
	if cmd.ProcessState == nil {
		return 255, ""
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return -1, strings.TrimPrefix(unix.SignalName(ws.Signal()), "SIG")
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) && cmd.ProcessState.ExitCode() == 0 {
		return 0, "" // output copying cut short by outputGrace: the command itself succeeded
	}
	return cmd.ProcessState.ExitCode(), ""
}

// exit reports the program's end to the client, as OpenSSH does, and closes the channel.
func (s *session) exit(status int, sig string) {
	if sig != "" {
		_, _ = s.ch.SendRequest("exit-signal", false, ssh.Marshal(struct {
			Signal     string
			CoreDumped bool
			Msg, Lang  string
		}{Signal: sig}))
	} else {
		_, _ = s.ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{uint32(status)}))
	}
	_ = s.ch.CloseWrite()
	s.ch.Close()
}

// startSFTP serves the SFTP subsystem on the channel, with relative paths resolved in
// the sandbox and OpenSSH's fsync@openssh.com extension added.
func (s *session) startSFTP() {
	s.h.sessions.Add(1)
	rw := newFsyncFilter(s.ch, s.h.Dir)
	srv, err := sftp.NewServer(rw, sftp.WithServerWorkingDirectory(s.h.Dir))
	if err != nil {
		s.wg.Add(1)
		go func() { defer s.wg.Done(); s.exit(1, "") }()
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		stop := context.AfterFunc(s.h.fleet.ctx, func() { srv.Close() })
		defer stop()
		err := srv.Serve()
		srv.Close()
		status := 0
		if err != nil && !errors.Is(err, io.EOF) {
			status = 1
		}
		s.exit(status, "")
	}()
}
