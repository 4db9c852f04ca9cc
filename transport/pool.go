package transport

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
)

// PoolOptions configure a Pool.
type PoolOptions struct {
	// MaxSessions caps concurrent sessions (commands, SFTP) per host; 0 means 10,
	// OpenSSH's MaxSessions default.
	MaxSessions int
	// MaxDials caps concurrent connection attempts across all hosts (kpx's forks);
	// 0 means 10.
	MaxDials int
	// Logger receives warnings (host keys accepted unverified, dead peers); nil discards.
	Logger *slog.Logger
}

// Pool keeps one SSH connection per host and per jump host, shared by all users of the
// Pool. It is safe for concurrent use.
type Pool struct {
	opts  PoolOptions
	log   *slog.Logger
	dials chan struct{}
	// knownHosts shares parsed known_hosts files between dials.
	knownHosts *knownHostsCache

	mu     sync.Mutex
	conns  map[string]*SSHConn
	closed bool
}

// errPoolClosed is returned by a closed Pool.
var errPoolClosed = errors.New("transport: pool closed")

// NewPool returns an empty Pool.
func NewPool(opts PoolOptions) *Pool {
	if opts.MaxSessions <= 0 {
		opts.MaxSessions = DefaultMaxSessions
	}
	if opts.MaxDials <= 0 {
		opts.MaxDials = 10
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Pool{opts: opts, log: log, dials: make(chan struct{}, opts.MaxDials), conns: map[string]*SSHConn{}, knownHosts: newKnownHostsCache()}
}

// Get returns the connection to cfg's host, dialing it (and its jump hosts) when the pool
// holds none. Errors reaching the host are *UnreachableError.
func (p *Pool) Get(ctx context.Context, cfg *Config) (*SSHConn, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c, err := p.entry(cfg)
	if err != nil {
		return nil, err
	}
	if _, err := c.client(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// entry returns the pool's SSHConn for cfg, creating it undialed.
func (p *Pool) entry(cfg *Config) (*SSHConn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, errPoolClosed
	}
	k := cfg.key()
	if c, ok := p.conns[k]; ok {
		return c, nil
	}
	c := newSSHConn(p, cfg)
	p.conns[k] = c
	return c, nil
}

func (p *Pool) forget(c *SSHConn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns[c.cfg.key()] == c {
		delete(p.conns, c.cfg.key())
	}
}

// acquireDial takes one of the MaxDials slots.
func (p *Pool) acquireDial(ctx context.Context) error {
	select {
	case p.dials <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *Pool) releaseDial() { <-p.dials }

// Close closes every connection of the pool; later Gets fail.
func (p *Pool) Close() error {
	p.mu.Lock()
	p.closed = true
	conns := make([]*SSHConn, 0, len(p.conns))
	for _, c := range p.conns {
		conns = append(conns, c)
	}
	p.conns = map[string]*SSHConn{}
	p.mu.Unlock()
	// Idle shells first, all at once and while every connection (a jump host's too) still
	// carries them, so that each exits and is reaped by its sshd; then the connections.
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.endShell()
		}()
	}
	wg.Wait()
	for _, c := range conns {
		c.shutdown()
	}
	return nil
}

// Dial connects to one host outside any shared pool; closing the returned connection
// also closes its jump hosts.
func Dial(ctx context.Context, cfg *Config, opts PoolOptions) (*SSHConn, error) {
	p := NewPool(opts)
	c, err := p.Get(ctx, cfg)
	if err != nil {
		p.Close()
		return nil, err
	}
	c.ownPool = p
	return c, nil
}
