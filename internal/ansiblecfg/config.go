// Package ansiblecfg reads Ansible's configuration as ansible-core 2.14 finds it: the first
// of $ANSIBLE_CONFIG, ./ansible.cfg (unless the directory is world-writable),
// ~/.ansible.cfg and /etc/ansible/ansible.cfg, read whole (files are never merged), with
// the ANSIBLE_* environment variables of the settings kpx honours overriding the file.
// Command-line flags override both; that is the caller's part.
package ansiblecfg

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Config holds the settings kpx honours. A zero field is unset: the caller keeps its own
// default (which is Ansible's).
type Config struct {
	// File is the configuration file read; "" when none was found.
	File string

	Inventory       []string // [defaults] inventory, ANSIBLE_INVENTORY: comma-separated sources
	Forks           int      // [defaults] forks, ANSIBLE_FORKS
	RemoteUser      string   // [defaults] remote_user, ANSIBLE_REMOTE_USER
	PrivateKeyFile  string   // [defaults] private_key_file, ANSIBLE_PRIVATE_KEY_FILE
	HostKeyChecking *bool    // [defaults] host_key_checking, ANSIBLE_HOST_KEY_CHECKING
	Timeout         int      // [defaults] timeout, ANSIBLE_TIMEOUT: SSH connect timeout, seconds
	RolesPath       []string // [defaults] roles_path, ANSIBLE_ROLES_PATH: colon-separated
	Library         []string // [defaults] library, ANSIBLE_LIBRARY: colon-separated
	Gathering       string   // [defaults] gathering, ANSIBLE_GATHERING: implicit, explicit or smart
	AskPass         bool     // [defaults] ask_pass, ANSIBLE_ASK_PASS

	// VaultPasswordFile ([defaults] vault_password_file, ANSIBLE_VAULT_PASSWORD_FILE) and
	// VaultIdentityList ([defaults] vault_identity_list, ANSIBLE_VAULT_IDENTITY_LIST) are
	// read here for Vault support, which decrypts with them; this package does not.
	VaultPasswordFile string
	VaultIdentityList []string

	Become        *bool  // [privilege_escalation] become, ANSIBLE_BECOME
	BecomeMethod  string // [privilege_escalation] become_method, ANSIBLE_BECOME_METHOD
	BecomeUser    string // [privilege_escalation] become_user, ANSIBLE_BECOME_USER
	BecomeFlags   string // [privilege_escalation] become_flags, ANSIBLE_BECOME_FLAGS
	BecomeAskPass bool   // [privilege_escalation] become_ask_pass, ANSIBLE_BECOME_ASK_PASS

	// The ssh connection's arguments, as written ([ssh_connection] ssh_args,
	// ssh_common_args, ssh_extra_args; ANSIBLE_SSH_ARGS, ANSIBLE_SSH_COMMON_ARGS,
	// ANSIBLE_SSH_EXTRA_ARGS). SSHArgsSet tells an explicit empty ssh_args from none.
	SSHArgs       string
	SSHArgsSet    bool
	SSHCommonArgs string
	SSHExtraArgs  string

	// Origins says where each setting kpx took came from: the file's path or
	// "env: ANSIBLE_X", by Ansible's setting name.
	Origins map[string]string
	// Warnings are what Ansible would warn about (an ignored world-writable ./ansible.cfg).
	Warnings []string
}

// Env is where Load looks: the environment, the working directory and the home
// directory. The zero value means the process's own.
type Env struct {
	Lookup func(string) (string, bool)
	Cwd    string
	Home   string
	// SystemFile replaces /etc/ansible/ansible.cfg (for tests).
	SystemFile string
}

func (e Env) withDefaults() Env {
	if e.Lookup == nil {
		e.Lookup = os.LookupEnv
	}
	if e.Cwd == "" {
		e.Cwd, _ = os.Getwd()
	}
	if e.Home == "" {
		e.Home, _ = os.UserHomeDir()
	}
	if e.SystemFile == "" {
		e.SystemFile = "/etc/ansible/ansible.cfg"
	}
	return e
}

// Find returns the configuration file Ansible would read ("" for none) and warnings.
func Find(env Env) (string, []string) {
	env = env.withDefaults()
	var candidates []string
	fromEnv, hasEnv := env.Lookup("ANSIBLE_CONFIG")
	if hasEnv {
		p := resolvePath(fromEnv, env.Cwd, env)
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			p = filepath.Join(p, "ansible.cfg")
		}
		candidates = append(candidates, p)
		fromEnv = p
	}
	var warnings []string
	cwdCfg := filepath.Join(env.Cwd, "ansible.cfg")
	publicCwd := false
	if fi, err := os.Stat(env.Cwd); err == nil {
		if fi.Mode().Perm()&0o002 != 0 {
			_, err := os.Stat(cwdCfg)
			publicCwd = err == nil
		} else {
			candidates = append(candidates, cwdCfg)
		}
	}
	candidates = append(candidates, filepath.Join(env.Home, ".ansible.cfg"), env.SystemFile)
	found := ""
	for _, c := range candidates {
		if f, err := os.Open(c); err == nil {
			fi, serr := f.Stat()
			f.Close()
			if serr == nil && !fi.IsDir() {
				found = c
				break
			}
		}
	}
	if publicCwd && (!hasEnv || fromEnv != found) {
		warnings = append(warnings, fmt.Sprintf("Ansible is being run in a world writable directory (%s), ignoring it as an ansible.cfg source.", env.Cwd))
	}
	return found, warnings
}

// Load finds and reads the configuration, then applies the environment's overrides.
func Load(env Env) (*Config, error) {
	env = env.withDefaults()
	file, warnings := Find(env)
	var f ini
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("error reading config file %s: %w", file, err)
		}
		if f, err = parseINI(file, data); err != nil {
			return nil, err
		}
	}
	c := &Config{File: file, Warnings: warnings, Origins: map[string]string{}}
	for _, s := range settings {
		raw, origin, ok := s.lookup(f, file, env)
		if !ok {
			continue
		}
		base := env.Cwd
		if origin == file {
			base = filepath.Dir(file)
		}
		if err := s.apply(c, raw, base, env); err != nil {
			where := origin
			if origin == file {
				where = "ansible.cfg " + file
			}
			return nil, fmt.Errorf("invalid value for configuration setting %s (%s): %w", s.name, where, err)
		}
		c.Origins[s.name] = origin
	}
	return c, nil
}

// setting is one configuration setting kpx honours: where Ansible reads it (later entries
// win, as in Ansible's config manager) and how to store it.
type setting struct {
	name  string
	ini   [][2]string // section, key
	env   []string
	apply func(c *Config, v, base string, env Env) error
}

func (s setting) lookup(f ini, file string, env Env) (value, origin string, ok bool) {
	for _, name := range s.env {
		if v, set := env.Lookup(name); set && v != "" {
			value, origin, ok = v, "env: "+name, true
		}
	}
	if ok {
		return value, origin, true
	}
	for _, e := range s.ini {
		if v, set := f.get(e[0], e[1]); set {
			value, origin, ok = unquote(v), file, true
		}
	}
	return value, origin, ok
}

func defaults(key string) [][2]string { return [][2]string{{"defaults", key}} }
func escalation(key string) [][2]string {
	return [][2]string{{"privilege_escalation", key}}
}
func sshConn(key string) [][2]string { return [][2]string{{"ssh_connection", key}} }

var settings = []setting{
	{"inventory", [][2]string{{"defaults", "hostfile"}, {"defaults", "inventory"}}, []string{"ANSIBLE_HOSTS", "ANSIBLE_INVENTORY"},
		func(c *Config, v, base string, env Env) error { c.Inventory = pathList(v, ",", base, env); return nil }},
	{"forks", defaults("forks"), []string{"ANSIBLE_FORKS"}, func(c *Config, v, _ string, _ Env) error {
		n, err := positive(v)
		c.Forks = n
		return err
	}},
	{"remote_user", defaults("remote_user"), []string{"ANSIBLE_REMOTE_USER"},
		func(c *Config, v, _ string, _ Env) error { c.RemoteUser = v; return nil }},
	{"private_key_file", defaults("private_key_file"), []string{"ANSIBLE_PRIVATE_KEY_FILE"},
		func(c *Config, v, base string, env Env) error {
			c.PrivateKeyFile = resolvePath(v, base, env)
			return nil
		}},
	{"host_key_checking", [][2]string{{"defaults", "host_key_checking"}, {"ssh_connection", "host_key_checking"}},
		[]string{"ANSIBLE_HOST_KEY_CHECKING", "ANSIBLE_SSH_HOST_KEY_CHECKING"},
		func(c *Config, v, _ string, _ Env) error { b := boolean(v); c.HostKeyChecking = &b; return nil }},
	{"timeout", [][2]string{{"defaults", "timeout"}, {"ssh_connection", "timeout"}}, []string{"ANSIBLE_TIMEOUT", "ANSIBLE_SSH_TIMEOUT"},
		func(c *Config, v, _ string, _ Env) error {
			n, err := positive(v)
			c.Timeout = n
			return err
		}},
	{"roles_path", defaults("roles_path"), []string{"ANSIBLE_ROLES_PATH"},
		func(c *Config, v, base string, env Env) error { c.RolesPath = pathList(v, ":", base, env); return nil }},
	{"library", defaults("library"), []string{"ANSIBLE_LIBRARY"},
		func(c *Config, v, base string, env Env) error { c.Library = pathList(v, ":", base, env); return nil }},
	{"vault_password_file", defaults("vault_password_file"), []string{"ANSIBLE_VAULT_PASSWORD_FILE"},
		func(c *Config, v, base string, env Env) error {
			c.VaultPasswordFile = resolvePath(v, base, env)
			return nil
		}},
	{"vault_identity_list", defaults("vault_identity_list"), []string{"ANSIBLE_VAULT_IDENTITY_LIST"},
		func(c *Config, v, _ string, _ Env) error { c.VaultIdentityList = list(v, ","); return nil }},
	{"gathering", defaults("gathering"), []string{"ANSIBLE_GATHERING"}, func(c *Config, v, _ string, _ Env) error {
		switch v = strings.ToLower(v); v {
		case "implicit", "explicit", "smart":
			c.Gathering = v
			return nil
		}
		return fmt.Errorf("%q is not one of implicit, explicit, smart", v)
	}},
	{"ask_pass", defaults("ask_pass"), []string{"ANSIBLE_ASK_PASS"},
		func(c *Config, v, _ string, _ Env) error { c.AskPass = boolean(v); return nil }},
	{"become", escalation("become"), []string{"ANSIBLE_BECOME"},
		func(c *Config, v, _ string, _ Env) error { b := boolean(v); c.Become = &b; return nil }},
	{"become_method", escalation("become_method"), []string{"ANSIBLE_BECOME_METHOD"},
		func(c *Config, v, _ string, _ Env) error { c.BecomeMethod = v; return nil }},
	{"become_user", escalation("become_user"), []string{"ANSIBLE_BECOME_USER"},
		func(c *Config, v, _ string, _ Env) error { c.BecomeUser = v; return nil }},
	{"become_flags", escalation("become_flags"), []string{"ANSIBLE_BECOME_FLAGS"},
		func(c *Config, v, _ string, _ Env) error { c.BecomeFlags = v; return nil }},
	{"become_ask_pass", escalation("become_ask_pass"), []string{"ANSIBLE_BECOME_ASK_PASS"},
		func(c *Config, v, _ string, _ Env) error { c.BecomeAskPass = boolean(v); return nil }},
	{"ssh_args", sshConn("ssh_args"), []string{"ANSIBLE_SSH_ARGS"},
		func(c *Config, v, _ string, _ Env) error { c.SSHArgs, c.SSHArgsSet = v, true; return nil }},
	{"ssh_common_args", sshConn("ssh_common_args"), []string{"ANSIBLE_SSH_COMMON_ARGS"},
		func(c *Config, v, _ string, _ Env) error { c.SSHCommonArgs = v; return nil }},
	{"ssh_extra_args", sshConn("ssh_extra_args"), []string{"ANSIBLE_SSH_EXTRA_ARGS"},
		func(c *Config, v, _ string, _ Env) error { c.SSHExtraArgs = v; return nil }},
}

// boolean is Ansible's boolean() as its configuration uses it (not strict): anything but
// the true words is false.
func boolean(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "y", "yes", "on", "1", "true", "t", "1.0":
		return true
	}
	return false
}

func positive(v string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 1 {
		return 0, errors.New(strconv.Quote(v) + " is not a positive integer")
	}
	return n, nil
}

func list(v, sep string) []string {
	var out []string
	for _, p := range strings.Split(v, sep) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func pathList(v, sep, base string, env Env) []string {
	var out []string
	for _, p := range list(v, sep) {
		out = append(out, resolvePath(p, base, env))
	}
	return out
}

var envRef = regexp.MustCompile(`\$(\w+|\{[^}]*\})`)

// resolvePath is Ansible's resolve_path: {{CWD}}, ~ and $VARS expanded (unknown variables
// left as they are), a relative path taken from base (the configuration file's directory
// for a value from it, else the working directory), cleaned.
func resolvePath(p, base string, env Env) string {
	p = strings.ReplaceAll(p, "{{CWD}}", env.Cwd)
	if p == "~" || strings.HasPrefix(p, "~/") {
		p = env.Home + p[1:]
	}
	p = envRef.ReplaceAllStringFunc(p, func(ref string) string {
		name := strings.Trim(ref[1:], "{}")
		if v, ok := env.Lookup(name); ok {
			return v
		}
		return ref
	})
	if !filepath.IsAbs(p) {
		p = filepath.Join(base, p)
	}
	return filepath.Clean(p)
}
