package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// clientVersion is the SSH identification kpx sends.
const clientVersion = "SSH-2.0-kpx"

// sshClient is one live SSH connection with its keepalive loop.
type sshClient struct {
	*ssh.Client
	dead     chan struct{} // closed once the connection is gone
	deadOnce sync.Once
}

func newSSHClient(c ssh.Conn, chans <-chan ssh.NewChannel, reqs <-chan *ssh.Request) *sshClient {
	cl := &sshClient{Client: ssh.NewClient(c, chans, reqs), dead: make(chan struct{})}
	go func() {
		_ = cl.Wait()
		cl.markDead()
	}()
	return cl
}

func (c *sshClient) markDead() { c.deadOnce.Do(func() { close(c.dead) }) }

func (c *sshClient) isDead() bool {
	select {
	case <-c.dead:
		return true
	default:
		return false
	}
}

// kill closes the connection and marks it dead at once.
func (c *sshClient) kill() {
	_ = c.Close()
	c.markDead()
}

// handshake runs the SSH handshake for cfg over raw, within cfg's connect timeout (and
// ctx). Failures are *UnreachableError; a timeout also matches context.DeadlineExceeded.
func handshake(ctx context.Context, cfg *Config, raw net.Conn, p *Pool) (*sshClient, error) {
	policy, err := newHostKeyPolicy(cfg, p.log, p.knownHosts)
	if err != nil {
		raw.Close()
		return nil, unreachable(cfg, "host key", err)
	}
	auth := newAuthSet(cfg)
	defer auth.close()
	if len(auth.methods) == 0 {
		raw.Close()
		return nil, unreachable(cfg, "auth", fmt.Errorf("no usable credentials for %s@%s: %s", cfg.User, cfg.Endpoint(), strings.Join(append(auth.notes, "no key file, agent key or password"), "; ")))
	}
	cc := &ssh.ClientConfig{
		User:              cfg.User,
		Auth:              auth.methods,
		HostKeyCallback:   policy.callback,
		HostKeyAlgorithms: policy.algorithms(),
		ClientVersion:     clientVersion,
	}
	timeout := cfg.connectTimeout()
	hctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if dl, ok := hctx.Deadline(); ok {
		_ = raw.SetDeadline(dl) // not supported on connections through a jump host
	}
	stop := context.AfterFunc(hctx, func() { raw.Close() })
	c, chans, reqs, err := ssh.NewClientConn(raw, cfg.Endpoint(), cc)
	fired := !stop()
	if err == nil && !fired {
		_ = raw.SetDeadline(time.Time{})
		return newSSHClient(c, chans, reqs), nil
	}
	raw.Close()
	if c != nil {
		c.Close()
	}
	return nil, classifyHandshakeError(ctx, cfg, auth, timeout, fired, err)
}

func classifyHandshakeError(ctx context.Context, cfg *Config, auth *authSet, timeout time.Duration, fired bool, err error) error {
	var hk *HostKeyError
	switch {
	case errors.As(err, &hk):
		return unreachable(cfg, "host key", hk)
	case ctx.Err() != nil:
		return unreachable(cfg, "timeout", fmt.Errorf("SSH handshake with %s interrupted: %w", cfg.Endpoint(), ctx.Err()))
	case fired || errors.Is(err, os.ErrDeadlineExceeded):
		return unreachable(cfg, "timeout", fmt.Errorf("SSH handshake with %s not finished after %s: %w", cfg.Endpoint(), timeout, context.DeadlineExceeded))
	case err != nil && strings.Contains(err.Error(), "unable to authenticate"):
		return unreachable(cfg, "auth", auth.explain(fmt.Errorf("%s@%s: %w", cfg.User, cfg.Endpoint(), err)))
	case err == nil:
		err = errors.New("connection closed")
	}
	return unreachable(cfg, "handshake", fmt.Errorf("%s: %w", cfg.Endpoint(), err))
}

// dialTCP opens the TCP connection to cfg within its connect timeout.
func dialTCP(ctx context.Context, cfg *Config) (net.Conn, error) {
	d := net.Dialer{Timeout: cfg.connectTimeout(), KeepAlive: 30 * time.Second}
	c, err := d.DialContext(ctx, "tcp", cfg.Endpoint())
	if err == nil {
		return c, nil
	}
	var ne net.Error
	if ctx.Err() != nil {
		return nil, unreachable(cfg, "timeout", fmt.Errorf("connecting to %s: %w", cfg.Endpoint(), ctx.Err()))
	}
	if errors.As(err, &ne) && ne.Timeout() {
		return nil, unreachable(cfg, "timeout", fmt.Errorf("connecting to %s: not connected after %s: %w", cfg.Endpoint(), cfg.connectTimeout(), context.DeadlineExceeded))
	}
	return nil, unreachable(cfg, "dial", err)
}

func unreachable(cfg *Config, reason string, err error) *UnreachableError {
	return &UnreachableError{Host: cfg.displayName(), Reason: reason, Err: err}
}

// keepalive sends keepalive@openssh.com every interval; a peer that does not answer
// within the connect timeout is declared dead and the connection closed, so the next
// operation re-dials.
func (c *sshClient) keepalive(cfg *Config, p *Pool) {
	interval := cfg.aliveInterval()
	if interval < 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-c.dead:
			return
		case <-t.C:
		}
		reply := make(chan error, 1)
		go func() {
			_, _, err := c.SendRequest("keepalive@openssh.com", true, nil)
			reply <- err
		}()
		select {
		case err := <-reply:
			if err == nil {
				continue
			}
			p.log.Warn("SSH connection lost", "host", cfg.displayName(), "error", err)
		case <-time.After(cfg.connectTimeout()):
			p.log.Warn("SSH peer not answering keepalives; closing the connection", "host", cfg.displayName(), "timeout", cfg.connectTimeout())
		case <-c.dead:
			return
		}
		c.kill()
		return
	}
}
