package rollout

import (
	"context"
	"sync"

	"github.com/kpxdev/kpx/modules"
	"github.com/kpxdev/kpx/transport"
)

// PoolConnector connects the engine to hosts: SSH connections from a transport pool,
// configured from each host's variables as Ansible's ssh plugin would, or the controller
// itself for ansible_connection=local. A host's configuration is worked out once per run.
type PoolConnector struct {
	Pool    *transport.Pool
	Options transport.HostVarsOptions
	// Warn receives, once per host, what kpx ignores of its connection settings.
	Warn func(host, msg string)
	// Password is the login password for hosts whose variables set none (-k).
	Password string

	mu      sync.Mutex
	configs map[string]*transport.Config
	locals  map[string]*transport.LocalConn
}

// Conn returns the connection to host.
func (c *PoolConnector) Conn(ctx context.Context, host string, vars map[string]any) (modules.Host, error) {
	cfg, err := c.config(host, vars)
	if err != nil {
		return nil, err
	}
	if cfg.Local {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.locals == nil {
			c.locals = map[string]*transport.LocalConn{}
		}
		if _, ok := c.locals[host]; !ok {
			c.locals[host] = transport.NewLocal(cfg)
		}
		return c.locals[host], nil
	}
	return c.Pool.Get(ctx, cfg)
}

func (c *PoolConnector) config(host string, vars map[string]any) (*transport.Config, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cfg, ok := c.configs[host]; ok {
		return cfg, nil
	}
	cfg, warnings, err := transport.FromHostVars(host, vars, c.Options)
	if err != nil {
		return nil, &transport.UnreachableError{Host: host, Reason: "configuration", Err: err}
	}
	if c.Warn != nil {
		for _, w := range warnings {
			c.Warn(host, w)
		}
	}
	if cfg.Password == "" {
		cfg.Password = c.Password
	}
	if c.configs == nil {
		c.configs = map[string]*transport.Config{}
	}
	c.configs[host] = cfg
	return cfg, nil
}
