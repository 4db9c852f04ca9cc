package transport

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	sshconfig "github.com/kevinburke/ssh_config"
)

// maxJumpDepth bounds ProxyJump chains (and catches loops between config entries).
const maxJumpDepth = 8

// settings collects OpenSSH options in precedence order: the first value set wins, except
// IdentityFile, whose values accumulate, as in ssh.
type settings struct {
	vals       map[string]string
	identities []string
}

func newSettings() *settings { return &settings{vals: map[string]string{}} }

func (s *settings) set(key, val string) {
	if val == "" {
		return
	}
	if key == "IdentityFile" {
		s.identities = append(s.identities, val)
		return
	}
	if _, ok := s.vals[key]; !ok {
		s.vals[key] = val
	}
}

func (s *settings) addVar(key, val string) { s.set(key, val) }

func (s *settings) first(key string) string { return s.vals[key] }

// addArgs applies the ssh arguments in the shell-quoted string args.
func (s *settings) addArgs(args string) ([]string, error) {
	if strings.TrimSpace(args) == "" {
		return nil, nil
	}
	words, err := SplitShellWords(args)
	if err != nil {
		return nil, err
	}
	opts, warnings, err := ParseSSHArgs(words)
	if err != nil {
		return warnings, err
	}
	for _, o := range opts {
		s.set(o.Key, o.Value)
	}
	return warnings, nil
}

// inheritedKeys pass from a target to its jump hosts, below the jump host's own
// ssh_config entries (OpenSSH does not pass them; kpx does, because inventories rely on
// one key and one known_hosts for a whole fleet).
var inheritedKeys = []string{"UserKnownHostsFile", "GlobalKnownHostsFile", "StrictHostKeyChecking",
	"ConnectTimeout", "ServerAliveInterval", "IdentityAgent", "IdentitiesOnly"}

// resolver turns settings plus the ssh_config file into Configs.
type resolver struct {
	opts   HostVarsOptions
	file   string // -F, if given
	loaded bool
	conf   *sshconfig.Config
}

func (r *resolver) config() (*sshconfig.Config, error) {
	if r.loaded {
		return r.conf, nil
	}
	r.loaded = true
	path, explicit := r.file, r.file != ""
	if !explicit {
		path = r.opts.SSHConfigFile
	}
	if path == "" {
		path = filepath.Join(r.opts.Home, ".ssh", "config")
	}
	if path == "none" {
		return nil, nil
	}
	path = expandPath(path, r.opts, "", "", "")
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) && !explicit {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ssh config: %w", err)
	}
	defer f.Close()
	if r.conf, err = sshconfig.Decode(f); err != nil {
		return nil, fmt.Errorf("ssh config %s: %w", path, err)
	}
	return r.conf, nil
}

// fromFile adds the ssh_config values for alias below what s already holds.
func (r *resolver) fromFile(alias string, s *settings) error {
	c, err := r.config()
	if err != nil || c == nil {
		return err
	}
	for _, key := range honouredKeys {
		if key == "IdentityFile" {
			all, err := c.GetAll(alias, key)
			if err != nil {
				return err
			}
			for _, v := range all {
				s.set(key, v)
			}
			continue
		}
		v, err := c.Get(alias, key)
		if err != nil {
			return err
		}
		s.set(key, v)
	}
	return nil
}

func (r *resolver) resolve(dest string, s *settings, depth int) (*Config, error) {
	if depth > maxJumpDepth {
		return nil, fmt.Errorf("ProxyJump chain deeper than %d (a loop?)", maxJumpDepth)
	}
	if err := r.fromFile(dest, s); err != nil {
		return nil, err
	}
	c := &Config{Addr: dest, User: s.first("User")}
	if hn := s.first("HostName"); hn != "" {
		c.Addr = expandPath(hn, r.opts, dest, "", "")
	}
	if c.User == "" {
		c.User = r.opts.LocalUser
	}
	if p := s.first("Port"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 || n > 65535 {
			return nil, fmt.Errorf("invalid port %q", p)
		}
		c.Port = n
	}
	if err := r.applyOptions(c, s); err != nil {
		return nil, err
	}
	jump := s.first("ProxyJump")
	if jump == "" || strings.EqualFold(jump, "none") {
		return c, nil
	}
	var err error
	c.ProxyJump, err = r.resolveJump(jump, s, depth)
	return c, err
}

func (r *resolver) applyOptions(c *Config, s *settings) error {
	port := strconv.Itoa(c.port())
	for _, id := range s.identities {
		c.IdentityFiles = append(c.IdentityFiles, expandPath(id, r.opts, c.Addr, port, c.User))
	}
	if len(s.identities) == 0 {
		c.IdentityFiles = r.defaultIdentities()
	}
	c.IdentitiesOnly = strings.EqualFold(s.first("IdentitiesOnly"), "yes")
	c.AgentSocket = r.opts.AgentSocket
	switch a := s.first("IdentityAgent"); {
	case a == "":
	case strings.EqualFold(a, "none"):
		c.AgentSocket = ""
	case a != "SSH_AUTH_SOCK":
		c.AgentSocket = expandPath(strings.TrimPrefix(a, "$"), r.opts, c.Addr, port, c.User)
	}
	c.KnownHostsFiles = r.knownHosts(s, c, port)
	switch strings.ToLower(s.first("StrictHostKeyChecking")) {
	case "", "yes", "ask", "true":
		c.StrictHostKeyChecking = StrictYes
	case "accept-new":
		c.StrictHostKeyChecking = StrictAcceptNew
	case "no", "off", "false":
		c.StrictHostKeyChecking = StrictNo
	default:
		return fmt.Errorf("invalid StrictHostKeyChecking %q", s.first("StrictHostKeyChecking"))
	}
	var err error
	if v := s.first("ConnectTimeout"); v != "" {
		if c.ConnectTimeout, err = parseTimeout("ConnectTimeout", v); err != nil {
			return err
		}
	}
	if v := s.first("ServerAliveInterval"); v != "" {
		if c.ServerAliveInterval, err = parseTimeout("ServerAliveInterval", v); err != nil {
			return err
		}
		if c.ServerAliveInterval == 0 {
			c.ServerAliveInterval = -1 // 0 disables keepalives in OpenSSH
		}
	}
	return nil
}

func (r *resolver) defaultIdentities() []string {
	var ids []string
	for _, n := range []string{"id_rsa", "id_ecdsa", "id_ed25519"} {
		p := filepath.Join(r.opts.Home, ".ssh", n)
		if _, err := os.Stat(p); err == nil {
			ids = append(ids, p)
		}
	}
	return ids
}

func (r *resolver) knownHosts(s *settings, c *Config, port string) []string {
	user := s.first("UserKnownHostsFile")
	if user == "" {
		user = "~/.ssh/known_hosts ~/.ssh/known_hosts2"
	}
	global := s.first("GlobalKnownHostsFile")
	if global == "" {
		global = "/etc/ssh/ssh_known_hosts /etc/ssh/ssh_known_hosts2"
	}
	var files []string
	for _, f := range strings.Fields(user + " " + global) {
		if !strings.EqualFold(f, "none") {
			files = append(files, expandPath(f, r.opts, c.Addr, port, c.User))
		}
	}
	return files
}

// resolveJump resolves a ProxyJump value "[user@]host[:port],..." into the last hop's
// Config, whose own ProxyJump holds the hops before it.
func (r *resolver) resolveJump(spec string, target *settings, depth int) (*Config, error) {
	hops := strings.Split(spec, ",")
	last := strings.TrimSpace(hops[len(hops)-1])
	user, host, port, err := parseJumpHop(last)
	if err != nil {
		return nil, err
	}
	s := newSettings()
	s.set("User", user)
	s.set("Port", port)
	if len(hops) > 1 {
		s.set("ProxyJump", strings.Join(hops[:len(hops)-1], ","))
	}
	if err := r.fromFile(host, s); err != nil {
		return nil, err
	}
	for _, k := range inheritedKeys {
		s.set(k, target.first(k))
	}
	if len(s.identities) == 0 {
		s.identities = append(s.identities, target.identities...)
	}
	c, err := r.resolve(host, s, depth+1)
	if err != nil {
		return nil, fmt.Errorf("jump host %s: %w", last, err)
	}
	c.Name = last
	return c, nil
}

// parseJumpHop parses "[user@]host[:port]" or "ssh://[user@]host[:port]".
func parseJumpHop(h string) (user, host, port string, err error) {
	h = strings.TrimPrefix(h, "ssh://")
	if i := strings.LastIndexByte(h, '@'); i >= 0 {
		user, h = h[:i], h[i+1:]
	}
	host = h
	if hp, p, e := net.SplitHostPort(h); e == nil {
		host, port = hp, p
	} else if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		host = h[1 : len(h)-1]
	}
	if host == "" || strings.ContainsAny(host, " \t/") {
		return "", "", "", fmt.Errorf("invalid ProxyJump host %q", h)
	}
	return user, host, port, nil
}
