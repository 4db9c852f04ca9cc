package transport

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// HostVarsOptions carry the controller-side facts FromHostVars needs, so that it reads no
// environment of its own. DefaultHostVarsOptions fills them from the current process.
type HostVarsOptions struct {
	Home          string // home directory for ~ and the default files
	LocalUser     string // login user when none is configured
	AgentSocket   string // SSH_AUTH_SOCK
	SSHConfigFile string // used when no -F is given; empty: Home/.ssh/config; "none": no file
	// SSHArgs are ssh arguments given on kpx's command line (--ssh-common-args); they come
	// after the host's variables, like Ansible's.
	SSHArgs []string
	// FirstSSHArgs come before everything else, as ansible.cfg's ssh_args come first on
	// Ansible's ssh command line (and so win: ssh keeps an option's first value).
	FirstSSHArgs []string
	// DefaultVars stand in for connection variables a host does not set (ansible.cfg's
	// host_key_checking, timeout, ssh_common_args as ansible_host_key_checking,
	// ansible_ssh_timeout, ansible_ssh_common_args, ...).
	DefaultVars map[string]any
}

// DefaultHostVarsOptions returns options for the current user and environment.
func DefaultHostVarsOptions() HostVarsOptions {
	o := HostVarsOptions{AgentSocket: os.Getenv("SSH_AUTH_SOCK")}
	o.Home, _ = os.UserHomeDir()
	if u, err := user.Current(); err == nil {
		o.LocalUser = u.Username
	}
	return o
}

// FromHostVars builds the Config of inventory host name from its variables the way
// Ansible's ssh connection plugin would: ansible_host, ansible_port, ansible_user,
// ansible_ssh_private_key_file and ansible_ssh_timeout first, then the OpenSSH options of
// ansible_ssh_common_args and ansible_ssh_extra_args (first value wins, as in ssh), then
// the ssh_config file, then defaults. It returns warnings for options kpx ignores.
func FromHostVars(name string, vars map[string]any, o HostVarsOptions) (*Config, []string, error) {
	conn := strings.ToLower(varString(vars, "ansible_connection"))
	switch conn {
	case "", "ssh", "smart", "paramiko", "paramiko_ssh":
	case "local":
		b, err := becomeFromVars(vars)
		return &Config{Name: name, Local: true, Become: b}, nil, err
	default:
		return nil, nil, fmt.Errorf("host %s: ansible_connection=%s is not supported (ssh, local)", name, conn)
	}
	var warnings []string
	s := newSettings()
	if len(o.DefaultVars) > 0 {
		merged := make(map[string]any, len(vars)+len(o.DefaultVars))
		for k, v := range o.DefaultVars {
			merged[k] = v
		}
		for k, v := range vars {
			merged[k] = v
		}
		vars = merged
	}
	for _, a := range o.FirstSSHArgs {
		w, err := s.addArgs(a)
		if err != nil {
			return nil, nil, fmt.Errorf("host %s: ssh_args: %w", name, err)
		}
		warnings = append(warnings, w...)
	}
	if v, ok := firstVar(vars, "ansible_ssh_host_key_checking", "ansible_host_key_checking"); ok {
		on, err := ansibleBool(v)
		if err != nil {
			return nil, nil, fmt.Errorf("host %s: host_key_checking: %w", name, err)
		}
		if !on {
			s.addVar("StrictHostKeyChecking", StrictNo) // Ansible's host_key_checking=False
		}
	}
	s.addVar("Port", varString(vars, "ansible_port", "ansible_ssh_port"))
	s.addVar("User", varString(vars, "ansible_user", "ansible_ssh_user"))
	s.addVar("IdentityFile", varString(vars, "ansible_ssh_private_key_file", "ansible_private_key_file"))
	s.addVar("ConnectTimeout", varString(vars, "ansible_ssh_timeout", "ansible_timeout"))
	for _, v := range []string{"ansible_ssh_common_args", "ansible_ssh_extra_args"} {
		w, err := s.addArgs(varString(vars, v))
		if err != nil {
			return nil, nil, fmt.Errorf("host %s: %s: %w", name, v, err)
		}
		warnings = append(warnings, w...)
	}
	for _, a := range o.SSHArgs {
		w, err := s.addArgs(a)
		if err != nil {
			return nil, nil, fmt.Errorf("host %s: ssh args: %w", name, err)
		}
		warnings = append(warnings, w...)
	}
	dest := varString(vars, "ansible_host", "ansible_ssh_host")
	if dest == "" {
		dest = name
	}
	r := resolver{opts: o, file: s.first("ConfigFile")}
	cfg, err := r.resolve(dest, s, 0)
	if err != nil {
		return nil, warnings, fmt.Errorf("host %s: %w", name, err)
	}
	cfg.Name = name
	cfg.Password = varString(vars, "ansible_password", "ansible_ssh_pass", "ansible_ssh_password")
	if cfg.Become, err = becomeFromVars(vars); err != nil {
		return nil, warnings, fmt.Errorf("host %s: %w", name, err)
	}
	return cfg, warnings, cfg.Validate()
}

func becomeFromVars(vars map[string]any) (Become, error) {
	on, err := ansibleBool(vars["ansible_become"])
	if err != nil {
		return Become{}, fmt.Errorf("ansible_become: %w", err)
	}
	if !on {
		return Become{}, nil
	}
	b := Become{
		Method:   varString(vars, "ansible_become_method"),
		User:     varString(vars, "ansible_become_user"),
		Password: varString(vars, "ansible_become_password", "ansible_become_pass"),
		Flags:    varString(vars, "ansible_become_flags"),
	}
	if b.Method == "" {
		b.Method = "sudo"
	}
	if b.User == "" {
		b.User = "root"
	}
	return b, nil
}

// firstVar returns the value of the first of keys that is set.
func firstVar(vars map[string]any, keys ...string) (any, bool) {
	for _, k := range keys {
		if v, ok := vars[k]; ok && v != nil {
			return v, true
		}
	}
	return nil, false
}

// varString returns the first of keys that is set, rendered as text.
func varString(vars map[string]any, keys ...string) string {
	for _, k := range keys {
		if v, ok := vars[k]; ok && v != nil {
			return strings.TrimSpace(fmt.Sprint(v))
		}
	}
	return ""
}

// ansibleBool interprets a value the way Ansible's boolean() does.
func ansibleBool(v any) (bool, error) {
	switch x := v.(type) {
	case nil:
		return false, nil
	case bool:
		return x, nil
	case int:
		return x != 0, nil
	case int64:
		return x != 0, nil
	case float64:
		return x != 0, nil
	}
	switch strings.ToLower(strings.TrimSpace(fmt.Sprint(v))) {
	case "y", "yes", "on", "1", "true", "t", "1.0":
		return true, nil
	case "n", "no", "off", "0", "false", "f", "0.0", "":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean", fmt.Sprint(v))
}

// parseTimeout reads ConnectTimeout/ServerAliveInterval values: seconds, or a Go duration.
func parseTimeout(key, v string) (time.Duration, error) {
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return d, nil
	}
	return 0, fmt.Errorf("%s: invalid value %q (seconds)", key, v)
}

// expandPath expands ~ and OpenSSH's %d (home), %u (local user), %h, %p, %r tokens.
func expandPath(p string, o HostVarsOptions, host, port, ruser string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		p = filepath.Join(o.Home, p[1:])
	}
	if !strings.Contains(p, "%") {
		return p
	}
	r := strings.NewReplacer("%%", "%", "%d", o.Home, "%u", o.LocalUser, "%h", host, "%p", port, "%r", ruser)
	return r.Replace(p)
}
