package transport

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFromHostVars(t *testing.T) {
	home := t.TempDir()
	sshDir := filepath.Join(home, ".ssh")
	if err := os.MkdirAll(sshDir, 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(sshDir, "config"), `
Host db*
    User dbadmin
    Port 2200
    IdentityFile ~/.ssh/db_key
    ProxyJump jump1
Host jump1
    HostName 10.9.9.9
    User jumper
    Port 2022
Host web1
    HostName web1.example.internal
    StrictHostKeyChecking accept-new
    UserKnownHostsFile ~/.ssh/kh_web
    ServerAliveInterval 0
`, 0o600)
	alt := filepath.Join(home, "alt_config")
	writeFile(t, alt, "Host *\n    User fromF\n    ConnectTimeout 3\n", 0o600)
	opts := HostVarsOptions{Home: home, LocalUser: "me", AgentSocket: "/agent.sock"}

	tests := []struct {
		name    string
		host    string
		vars    map[string]any
		check   func(t *testing.T, c *Config)
		warn    []string
		wantErr string
	}{
		{name: "defaults", host: "plain", vars: nil, check: func(t *testing.T, c *Config) {
			eq(t, "addr", c.Addr, "plain")
			eq(t, "port", c.port(), 22)
			eq(t, "user", c.User, "me")
			eq(t, "strict", c.StrictHostKeyChecking, StrictYes)
			eq(t, "agent", c.AgentSocket, "/agent.sock")
			eq(t, "timeout", c.connectTimeout(), 10*time.Second)
			eq(t, "known_hosts[0]", c.KnownHostsFiles[0], filepath.Join(home, ".ssh/known_hosts"))
		}},
		{name: "inventory vars", host: "h1", vars: map[string]any{"ansible_host": "127.0.0.5", "ansible_port": 2222, "ansible_user": "ops",
			"ansible_ssh_private_key_file": "~/k", "ansible_ssh_timeout": 7, "ansible_password": "pw"}, check: func(t *testing.T, c *Config) {
			eq(t, "addr", c.Addr, "127.0.0.5")
			eq(t, "port", c.Port, 2222)
			eq(t, "user", c.User, "ops")
			eq(t, "key", strings.Join(c.IdentityFiles, ","), filepath.Join(home, "k"))
			eq(t, "timeout", c.ConnectTimeout, 7*time.Second)
			eq(t, "password", c.Password, "pw")
			eq(t, "name", c.Name, "h1")
		}},
		{name: "ssh config with jump host", host: "db01", vars: nil, check: func(t *testing.T, c *Config) {
			eq(t, "user", c.User, "dbadmin")
			eq(t, "port", c.Port, 2200)
			eq(t, "key", c.IdentityFiles[0], filepath.Join(home, ".ssh/db_key"))
			if c.ProxyJump == nil {
				t.Fatal("no jump host")
			}
			eq(t, "jump addr", c.ProxyJump.Addr, "10.9.9.9")
			eq(t, "jump user", c.ProxyJump.User, "jumper")
			eq(t, "jump port", c.ProxyJump.Port, 2022)
			eq(t, "jump inherits key", c.ProxyJump.IdentityFiles[0], filepath.Join(home, ".ssh/db_key"))
		}},
		{name: "inventory vars beat ssh config", host: "db02", vars: map[string]any{"ansible_user": "root", "ansible_port": "22"}, check: func(t *testing.T, c *Config) {
			eq(t, "user", c.User, "root")
			eq(t, "port", c.Port, 22)
		}},
		{name: "common args beat ssh config, extra args come after", host: "db03", vars: map[string]any{
			"ansible_ssh_common_args": "-o ProxyJump=ops@b1:2201,b2 -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null",
			"ansible_ssh_extra_args":  "-o ProxyJump=ignored -p 9"}, check: func(t *testing.T, c *Config) {
			eq(t, "port from extra args", c.Port, 9)
			eq(t, "strict", c.StrictHostKeyChecking, StrictNo)
			eq(t, "known hosts", c.KnownHostsFiles[0], "/dev/null")
			eq(t, "last hop", c.ProxyJump.Addr, "b2")
			eq(t, "first hop", c.ProxyJump.ProxyJump.Addr, "b1")
			eq(t, "first hop user", c.ProxyJump.ProxyJump.User, "ops")
			eq(t, "first hop port", c.ProxyJump.ProxyJump.Port, 2201)
			eq(t, "hops inherit strictness", c.ProxyJump.ProxyJump.StrictHostKeyChecking, StrictNo)
		}},
		{name: "-J none disables config jump", host: "db04", vars: map[string]any{"ansible_ssh_common_args": "-J none"}, check: func(t *testing.T, c *Config) {
			if c.ProxyJump != nil {
				t.Fatalf("jump %+v", c.ProxyJump)
			}
		}},
		{name: "ssh config hostname and options", host: "web1", check: func(t *testing.T, c *Config) {
			eq(t, "addr", c.Addr, "web1.example.internal")
			eq(t, "strict", c.StrictHostKeyChecking, StrictAcceptNew)
			eq(t, "known hosts", c.KnownHostsFiles[0], filepath.Join(home, ".ssh/kh_web"))
			eq(t, "alive disabled", c.ServerAliveInterval, time.Duration(-1))
		}},
		{name: "ansible_host selects the ssh config entry", host: "inv-name", vars: map[string]any{"ansible_host": "web1"}, check: func(t *testing.T, c *Config) {
			eq(t, "addr", c.Addr, "web1.example.internal")
			eq(t, "name", c.Name, "inv-name")
		}},
		{name: "-F replaces ~/.ssh/config", host: "db01", vars: map[string]any{"ansible_ssh_common_args": "-F " + alt}, check: func(t *testing.T, c *Config) {
			eq(t, "user", c.User, "fromF")
			eq(t, "timeout", c.ConnectTimeout, 3*time.Second)
			if c.ProxyJump != nil {
				t.Error("~/.ssh/config was read despite -F")
			}
		}},
		{name: "identity agent none", host: "x", vars: map[string]any{"ansible_ssh_common_args": "-o IdentityAgent=none -o IdentitiesOnly=yes"}, check: func(t *testing.T, c *Config) {
			eq(t, "agent", c.AgentSocket, "")
			eq(t, "identities only", c.IdentitiesOnly, true)
		}},
		{name: "become vars", host: "x", vars: map[string]any{"ansible_become": "yes", "ansible_become_user": "postgres", "ansible_become_pass": "bpw"}, check: func(t *testing.T, c *Config) {
			eq(t, "become", c.Become, Become{Method: "sudo", User: "postgres", Password: "bpw"})
		}},
		{name: "become off", host: "x", vars: map[string]any{"ansible_become": false, "ansible_become_user": "postgres"}, check: func(t *testing.T, c *Config) {
			eq(t, "become", c.Become, Become{})
		}},
		{name: "local connection", host: "localhost", vars: map[string]any{"ansible_connection": "local", "ansible_become": true}, check: func(t *testing.T, c *Config) {
			eq(t, "local", c.Local, true)
			eq(t, "become", c.Become.Method, "sudo")
		}},
		{name: "warnings name options", host: "x", vars: map[string]any{"ansible_ssh_common_args": "-o ForwardAgent=yes", "ansible_ssh_extra_args": "-X"},
			warn: []string{"ForwardAgent", "-X"}, check: func(*testing.T, *Config) {}},
		{name: "host_key_checking false", host: "x", vars: map[string]any{"ansible_host_key_checking": false}, check: func(t *testing.T, c *Config) {
			eq(t, "strict", c.StrictHostKeyChecking, StrictNo)
		}},
		{name: "host_key_checking true keeps strict", host: "x", vars: map[string]any{"ansible_ssh_host_key_checking": "True"}, check: func(t *testing.T, c *Config) {
			eq(t, "strict", c.StrictHostKeyChecking, StrictYes)
		}},
		{name: "unsupported connection", host: "x", vars: map[string]any{"ansible_connection": "winrm"}, wantErr: "winrm"},
		{name: "bad port", host: "x", vars: map[string]any{"ansible_port": "http"}, wantErr: "invalid port"},
		{name: "bad strict mode", host: "x", vars: map[string]any{"ansible_ssh_common_args": "-o StrictHostKeyChecking=maybe"}, wantErr: "StrictHostKeyChecking"},
		{name: "bad become bool", host: "x", vars: map[string]any{"ansible_become": "sometimes"}, wantErr: "boolean"},
		{name: "bad become method", host: "x", vars: map[string]any{"ansible_become": true, "ansible_become_method": "runas"}, wantErr: "runas"},
		{name: "missing -F file", host: "x", vars: map[string]any{"ansible_ssh_common_args": "-F /nonexistent/cfg"}, wantErr: "ssh config"},
		{name: "unbalanced quote", host: "x", vars: map[string]any{"ansible_ssh_common_args": "-o 'User=x"}, wantErr: "unterminated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, warnings, err := FromHostVars(tt.host, tt.vars, opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(warnings) != len(tt.warn) {
				t.Fatalf("warnings %q, want %q", warnings, tt.warn)
			}
			for i, w := range tt.warn {
				if !strings.Contains(warnings[i], w) {
					t.Errorf("warning %q does not name %q", warnings[i], w)
				}
			}
			tt.check(t, c)
		})
	}
}

func TestPasswordsStayOutOfErrors(t *testing.T) {
	c, _, err := FromHostVars("x", map[string]any{"ansible_password": "pw-123", "ansible_port": "bad"}, HostVarsOptions{Home: t.TempDir()})
	if err == nil || strings.Contains(err.Error(), "pw-123") || c != nil {
		t.Fatalf("%v", err)
	}
}

func eq[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func TestConfigPrintsNoSecrets(t *testing.T) {
	c := &Config{Name: "h", Addr: "a", User: "u", Password: "login-pw", Become: Become{Method: "sudo", User: "root", Password: "become-pw"},
		ProxyJump: &Config{Addr: "b", Password: "jump-pw"}}
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		for _, v := range []any{c, *c, c.Become} {
			out := fmt.Sprintf(format, v)
			for _, secret := range []string{"login-pw", "become-pw", "jump-pw"} {
				if strings.Contains(out, secret) {
					t.Errorf("%s of %T prints %q: %s", format, v, secret, out)
				}
			}
		}
	}
}
