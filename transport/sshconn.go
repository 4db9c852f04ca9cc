package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"

	"golang.org/x/sync/semaphore"
)

// SSHConn is the connection to one host over SSH; see the package documentation for its
// contract. It re-dials a broken connection once per operation before reporting the host
// unreachable.
type SSHConn struct {
	pool     *Pool
	cfg      *Config
	sessions *semaphore.Weighted
	ownPool  *Pool // set by Dial: closing the conn closes it

	dialLock chan struct{} // one dial at a time for this host
	mu       sync.Mutex
	cur      *sshClient
	closed   bool
	dialed   int // number of successful dials, for tests and logs

	sftpMu sync.Mutex
	sftp   *sharedSFTP // the SFTP session transfers share, when open

	shellMu   sync.Mutex
	shell     *cmdShell // the connection's shell while idle (it then holds a session slot)
	shellBusy bool      // the shell runs a command, or is starting
	noShell   bool      // the host's sessions have no working /bin/sh: commands get sessions
	commands  int       // commands that could have used the shell so far
}

func newSSHConn(p *Pool, cfg *Config) *SSHConn {
	return &SSHConn{pool: p, cfg: cfg, sessions: semaphore.NewWeighted(int64(p.opts.MaxSessions)), dialLock: make(chan struct{}, 1)}
}

// Config returns the connection's configuration (do not modify it).
func (c *SSHConn) Config() *Config { return c.cfg }

// Dials reports how many times the connection was established (1 unless re-dialed).
func (c *SSHConn) Dials() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dialed
}

// client returns the live connection, dialing when there is none or it died.
func (c *SSHConn) client(ctx context.Context) (*sshClient, error) {
	if cl, err := c.live(); cl != nil || err != nil {
		return cl, err
	}
	select {
	case c.dialLock <- struct{}{}:
	case <-ctx.Done():
		return nil, unreachable(c.cfg, "timeout", ctx.Err())
	}
	defer func() { <-c.dialLock }()
	if cl, err := c.live(); cl != nil || err != nil {
		return cl, err // another caller dialed meanwhile
	}
	cl, err := c.dial(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		cl.kill()
		return nil, errConnClosed
	}
	c.cur = cl
	c.dialed++
	go cl.keepalive(c.cfg, c.pool)
	return cl, nil
}

var errConnClosed = errors.New("transport: connection closed")

func (c *SSHConn) live() (*sshClient, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, errConnClosed
	}
	if c.cur != nil && !c.cur.isDead() {
		return c.cur, nil
	}
	return nil, nil
}

// dial opens a new connection, through the jump host when there is one.
func (c *SSHConn) dial(ctx context.Context) (*sshClient, error) {
	var bastion *SSHConn
	if c.cfg.ProxyJump != nil {
		var err error
		if bastion, err = c.pool.Get(ctx, c.cfg.ProxyJump); err != nil {
			return nil, unreachable(c.cfg, "jump host", err)
		}
	}
	if err := c.pool.acquireDial(ctx); err != nil {
		return nil, unreachable(c.cfg, "timeout", err)
	}
	defer c.pool.releaseDial()
	if bastion == nil {
		raw, err := dialTCP(ctx, c.cfg)
		if err != nil {
			return nil, err
		}
		return handshake(ctx, c.cfg, raw, c.pool)
	}
	raw, err := bastion.dialThrough(ctx, c.cfg.Endpoint())
	if err != nil {
		return nil, unreachable(c.cfg, "jump host", err)
	}
	return handshake(ctx, c.cfg, raw, c.pool)
}

// dialThrough opens a TCP connection from this host to addr (direct-tcpip), re-dialing
// this host once if its connection broke.
func (c *SSHConn) dialThrough(ctx context.Context, addr string) (net.Conn, error) {
	return withRetry(ctx, c, func(cl *sshClient) (net.Conn, error) {
		tctx, cancel := context.WithTimeout(ctx, c.cfg.connectTimeout())
		defer cancel()
		return cl.DialContext(tctx, "tcp", addr)
	})
}

// withRetry runs op on the live connection; when op fails because the connection is
// broken, it re-dials once and runs op again.
func withRetry[T any](ctx context.Context, c *SSHConn, op func(*sshClient) (T, error)) (T, error) {
	var zero T
	cl, err := c.client(ctx)
	if err != nil {
		return zero, err
	}
	v, err := op(cl)
	if err == nil || !brokenConn(cl, err) || ctx.Err() != nil {
		return v, err
	}
	cl.kill()
	c.pool.log.Info("SSH connection broken; re-dialing once", "host", c.cfg.displayName(), "error", err)
	if cl, err = c.client(ctx); err != nil {
		return zero, err
	}
	return op(cl)
}

// brokenConn reports whether err from an operation on cl means the connection is gone
// (as opposed to the server refusing one request).
func brokenConn(cl *sshClient, err error) bool {
	if cl.isDead() {
		return true
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	// Any error from the socket itself (as opposed to the server refusing a request, which
	// arrives as an SSH message) means the connection cannot carry another operation.
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return true
	}
	var oc interface{ Timeout() bool }
	return errors.As(err, &oc) && oc.Timeout()
}

// Close closes the connection. It is idempotent.
func (c *SSHConn) Close() error {
	c.pool.forget(c)
	c.shutdown()
	if c.ownPool != nil {
		return c.ownPool.Close()
	}
	return nil
}

func (c *SSHConn) shutdown() {
	c.endShell()
	c.mu.Lock()
	cl := c.cur
	c.closed = true
	c.cur = nil
	c.mu.Unlock()
	if cl != nil {
		cl.kill()
	}
}

// acquire takes n session slots of the host's MaxSessions.
func (c *SSHConn) acquire(ctx context.Context, n int64) error {
	if err := c.sessions.Acquire(ctx, n); err != nil {
		return fmt.Errorf("%s: waiting for a session slot: %w", c.cfg.displayName(), err)
	}
	return nil
}
