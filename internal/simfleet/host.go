package simfleet

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/crypto/ssh"
)

// FailMarker is the file, relative to a host's sandbox, whose presence marks the host as
// failing (see Host.SetFailing). Its path is exported to commands as SIMFLEET_FAIL_MARKER.
const FailMarker = ".simfleet/fail"

// Host is one simulated host.
type Host struct {
	Name    string
	Addr    string // 127.0.0.1
	Port    int
	Dir     string            // sandbox: the home and working directory of its commands
	HostKey ssh.PublicKey     // its ed25519 host key
	Env     map[string]string // environment of its commands (set before it serves)

	fleet    *Fleet
	config   *ssh.ServerConfig
	listener net.Listener
	stalled  atomic.Bool
	sessions atomic.Int64 // sessions (exec, shell, sftp) served so far
	mu       sync.Mutex
}

// Endpoint returns "127.0.0.1:port".
func (h *Host) Endpoint() string { return net.JoinHostPort(h.Addr, fmt.Sprint(h.Port)) }

// KnownHostsName is the name OpenSSH (and kpx) look the host up by in known_hosts.
func (h *Host) KnownHostsName() string { return fmt.Sprintf("[%s]:%d", h.Addr, h.Port) }

// Sessions reports how many sessions (commands and SFTP) the host has served.
func (h *Host) Sessions() int64 { return h.sessions.Load() }

// SetFailing creates (or removes) the host's fail marker, with reason as its content.
// Health checks of the demo look for it; any command may: `test -e "$SIMFLEET_FAIL_MARKER"`.
func (h *Host) SetFailing(failing bool, reason string) error {
	p := filepath.Join(h.Dir, FailMarker)
	if !failing {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			return err
		}
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	return os.WriteFile(p, []byte(reason+"\n"), 0o600)
}

// Stall makes the host accept connections but never answer the SSH handshake (until
// stall is false again), like a host whose sshd hangs.
func (h *Host) Stall(stall bool) { h.stalled.Store(stall) }

// start creates the sandbox and host key, runs prepare and starts listening.
func (h *Host) start(ctx context.Context, prepare PrepareFunc) error {
	for _, d := range []string{h.Dir, filepath.Join(h.Dir, "tmp")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return err
	}
	h.HostKey = signer.PublicKey()
	h.Env = h.defaultEnv()
	if prepare != nil {
		env, err := prepare(ctx, h)
		if err != nil {
			return fmt.Errorf("prepare: %w", err)
		}
		for k, v := range env {
			h.Env[k] = v
		}
	}
	h.config = h.serverConfig(signer)
	l, err := net.Listen("tcp", net.JoinHostPort(h.Addr, "0"))
	if err != nil {
		return err
	}
	h.mu.Lock()
	h.listener = l
	h.mu.Unlock()
	h.Port = l.Addr().(*net.TCPAddr).Port
	h.fleet.wg.Add(1)
	go h.serve(l)
	return nil
}

func (h *Host) defaultEnv() map[string]string {
	return map[string]string{
		"HOME":                 h.Dir,
		"USER":                 h.fleet.User,
		"LOGNAME":              h.fleet.User,
		"SHELL":                h.fleet.shell,
		"PATH":                 "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"TMPDIR":               filepath.Join(h.Dir, "tmp"),
		"LANG":                 "C.UTF-8",
		"SIMFLEET_HOST":        h.Name,
		"SIMFLEET_FAIL_MARKER": filepath.Join(h.Dir, FailMarker),
	}
}

// environ returns the host's environment as KEY=value lines, sorted.
func (h *Host) environ(extra map[string]string) []string {
	env := make([]string, 0, len(h.Env)+len(extra))
	for k, v := range h.Env {
		if _, ok := extra[k]; !ok {
			env = append(env, k+"="+v)
		}
	}
	for k, v := range extra {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	return env
}

func (h *Host) serverConfig(signer ssh.Signer) *ssh.ServerConfig {
	want := h.fleet.clientKey.Marshal()
	cfg := &ssh.ServerConfig{
		ServerVersion: "SSH-2.0-kpx-simfleet",
		PublicKeyCallback: func(meta ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if meta.User() == h.fleet.User && string(key.Marshal()) == string(want) {
				return &ssh.Permissions{}, nil
			}
			return nil, fmt.Errorf("simfleet: %s: key %s for user %q not authorized", h.Name, ssh.FingerprintSHA256(key), meta.User())
		},
	}
	cfg.AddHostKey(signer)
	return cfg
}

func (h *Host) closeListener() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.listener != nil {
		h.listener.Close()
	}
}

// validateGroups refuses names an Ansible inventory could not hold.
func validateGroups(groups []Group) error {
	for _, g := range groups {
		if !validName(g.Name) || g.Name == "all" || g.Name == "ungrouped" {
			return fmt.Errorf("simfleet: invalid group name %q", g.Name)
		}
		for _, h := range g.Hosts {
			if !validName(h) {
				return fmt.Errorf("simfleet: group %s: invalid host name %q", g.Name, h)
			}
		}
	}
	return nil
}

func validName(s string) bool {
	return s != "" && !strings.ContainsAny(s, " \t\r\n[]:=#;,'\"") && !strings.HasPrefix(s, "-")
}
