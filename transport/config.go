package transport

import (
	"fmt"
	"net"
	"strconv"
	"time"
)

// Host key checking modes (OpenSSH's StrictHostKeyChecking).
const (
	StrictYes       = "yes"        // unknown and changed keys are refused (the default)
	StrictAcceptNew = "accept-new" // unknown keys are recorded, changed keys refused
	StrictNo        = "no"         // every key is accepted, with a warning
)

// Defaults, as OpenSSH and Ansible have them.
const (
	DefaultPort           = 22
	DefaultConnectTimeout = 10 * time.Second
	DefaultMaxSessions    = 10 // OpenSSH's MaxSessions
	DefaultAliveInterval  = 15 * time.Second
)

// Config says how to reach one host over SSH (or locally, when Local is set).
type Config struct {
	Name  string // inventory name, used in errors and logs; Addr when empty
	Local bool   // ansible_connection=local: run on the controller, no SSH

	Addr          string   // host name or IP address to connect to
	Port          int      // 0 means 22
	User          string   // login user
	IdentityFiles []string // private key files, tried after the agent's keys
	// IdentitiesOnly restricts agent keys to those whose public key matches an
	// IdentityFile, like OpenSSH's IdentitiesOnly.
	IdentitiesOnly bool
	AgentSocket    string // ssh-agent socket (SSH_AUTH_SOCK); empty: no agent
	Password       string // login password; empty: no password authentication

	KnownHostsFiles       []string // first one receives accept-new entries
	StrictHostKeyChecking string   // StrictYes (when empty), StrictAcceptNew or StrictNo

	ProxyJump *Config // the hop to connect through; it may have a ProxyJump itself

	ConnectTimeout      time.Duration // dial + whole handshake; 0 means 10s
	ServerAliveInterval time.Duration // keepalive period; 0 means 15s, negative disables

	Become Become // default privilege escalation for commands
}

// Become describes privilege escalation. An empty Method means none.
type Become struct {
	Method   string // "sudo" or "su"
	User     string // target user; empty means root
	Password string // become password; empty: sudo -n, su without a password
	Flags    string // extra flags (ansible_become_flags), shell words
}

// Endpoint returns "addr:port", ready for net.Dial and known_hosts lookups.
func (c *Config) Endpoint() string {
	return net.JoinHostPort(c.Addr, strconv.Itoa(c.port()))
}

func (c *Config) port() int {
	if c.Port == 0 {
		return DefaultPort
	}
	return c.Port
}

func (c *Config) connectTimeout() time.Duration {
	if c.ConnectTimeout <= 0 {
		return DefaultConnectTimeout
	}
	return c.ConnectTimeout
}

func (c *Config) aliveInterval() time.Duration {
	if c.ServerAliveInterval == 0 {
		return DefaultAliveInterval
	}
	return c.ServerAliveInterval
}

func (c *Config) strict() string {
	if c.StrictHostKeyChecking == "" {
		return StrictYes
	}
	return c.StrictHostKeyChecking
}

func (c *Config) displayName() string {
	if c.Name != "" {
		return c.Name
	}
	return c.Addr
}

// key identifies a connection: two Configs with the same key share one connection.
func (c *Config) key() string {
	k := fmt.Sprintf("%s@%s", c.User, c.Endpoint())
	if c.ProxyJump != nil {
		k += " via " + c.ProxyJump.key()
	}
	return k
}

// Validate reports a Config that cannot be used.
func (c *Config) Validate() error {
	if c.Local {
		return nil
	}
	if c.Addr == "" {
		return fmt.Errorf("transport: host %q has no address", c.Name)
	}
	if c.Port < 0 || c.Port > 65535 {
		return fmt.Errorf("transport: host %q: invalid port %d", c.displayName(), c.Port)
	}
	switch c.strict() {
	case StrictYes, StrictAcceptNew, StrictNo:
	default:
		return fmt.Errorf("transport: host %q: invalid StrictHostKeyChecking %q", c.displayName(), c.StrictHostKeyChecking)
	}
	switch c.Become.Method {
	case "", "sudo", "su":
	default:
		return fmt.Errorf("transport: host %q: unsupported become method %q (sudo, su)", c.displayName(), c.Become.Method)
	}
	if c.ProxyJump != nil {
		return c.ProxyJump.Validate()
	}
	return nil
}

// String describes the Config without its secrets, so that printing one (%v, %+v, logs)
// never reveals a password.
func (c Config) String() string {
	s := fmt.Sprintf("%s (%s@%s", c.displayName(), c.User, c.Endpoint())
	if c.Local {
		s = fmt.Sprintf("%s (local", c.displayName())
	}
	if c.Password != "" {
		s += ", password set"
	}
	if c.ProxyJump != nil {
		s += ", via " + c.ProxyJump.String()
	}
	if c.Become.Method != "" {
		s += ", become " + c.Become.String()
	}
	return s + ")"
}

// GoString keeps %#v from printing secrets too.
func (c Config) GoString() string { return "transport.Config{" + c.String() + "}" }

// String describes the Become settings without the password.
func (b Become) String() string {
	s := b.Method + " to " + b.User
	if b.Password != "" {
		s += " with password"
	}
	return s
}

// GoString keeps %#v from printing the password.
func (b Become) GoString() string { return "transport.Become{" + b.String() + "}" }
