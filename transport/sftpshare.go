package transport

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/pkg/sftp"
)

// sharedSFTP is the SFTP session a connection keeps open for its transfers. Starting one
// costs the host a session (a forked process, and an sftp-server exec where sshd is not
// configured with internal-sftp), so every upload and download on the connection shares
// it. While open it holds one of the host's session slots (Options.MaxSessions).
type sharedSFTP struct {
	conn *SSHConn
	on   *sshClient // the connection it runs on
	sc   *sftp.Client
	once sync.Once
}

// drop closes the session and gives its slot back; the next transfer opens a new one.
func (s *sharedSFTP) drop() {
	s.once.Do(func() {
		s.conn.sftpMu.Lock()
		if s.conn.sftp == s {
			s.conn.sftp = nil
		}
		s.conn.sftpMu.Unlock()
		s.sc.Close()
		s.conn.sessions.Release(1)
	})
}

// sftpFor returns an SFTP client for one transfer and done, to be called with the
// transfer's error when it ends. The client is the connection's shared one; cancelling
// ctx during the transfer closes it, which aborts every transfer on it (a host runs one
// task at a time, so these share the task's context), and a transfer failing other than
// by the server's refusal (an SFTP status) drops it too, so that a broken session is
// not reused. A host capped at one session gets a
// client of its own per transfer instead.
func (c *SSHConn) sftpFor(ctx context.Context) (*sftp.Client, func(error), error) {
	if c.pool.opts.MaxSessions < 2 {
		if err := c.acquire(ctx, 1); err != nil {
			return nil, nil, err
		}
		sc, done, err := c.sftpClient(ctx)
		if err != nil {
			c.sessions.Release(1)
			return nil, nil, err
		}
		return sc, func(error) { done(); c.sessions.Release(1) }, nil
	}
	s, err := c.sharedSFTP(ctx)
	if err != nil {
		return nil, nil, err
	}
	stop := context.AfterFunc(ctx, s.drop)
	return s.sc, func(err error) {
		stop()
		var refused *sftp.StatusError
		if err != nil && !errors.As(err, &refused) {
			s.drop()
		}
	}, nil
}

// sharedSFTP returns the connection's open SFTP session, starting one when there is none
// or its connection has died.
func (c *SSHConn) sharedSFTP(ctx context.Context) (*sharedSFTP, error) {
	c.sftpMu.Lock()
	defer c.sftpMu.Unlock()
	if s := c.sftp; s != nil && !s.on.isDead() {
		return s, nil
	}
	if err := c.acquire(ctx, 1); err != nil {
		return nil, err
	}
	var on *sshClient
	sc, err := withRetry(ctx, c, func(cl *sshClient) (*sftp.Client, error) {
		on = cl
		return newSFTPClient(cl)
	})
	if err != nil {
		c.sessions.Release(1)
		var ue *UnreachableError
		if errors.As(err, &ue) {
			return nil, err
		}
		return nil, fmt.Errorf("%s: starting SFTP: %w", c.cfg.displayName(), err)
	}
	s := &sharedSFTP{conn: c, on: on, sc: sc}
	c.sftp = s
	go func() {
		_ = sc.Wait()
		s.drop()
	}()
	return s, nil
}
