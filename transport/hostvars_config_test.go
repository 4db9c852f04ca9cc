package transport

import (
	"testing"
	"time"
)

// TestFromHostVarsConfigDefaults: ansible.cfg's ssh_args come first (and so win), its
// other connection settings stand in for variables a host does not set.
func TestFromHostVarsConfigDefaults(t *testing.T) {
	opts := HostVarsOptions{Home: t.TempDir(), LocalUser: "me", SSHConfigFile: "none",
		FirstSSHArgs: []string{"-o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=/cfg/kh"},
		DefaultVars: map[string]any{"ansible_host_key_checking": false, "ansible_ssh_timeout": 7,
			"ansible_ssh_common_args": "-o ServerAliveInterval=5 -o UserKnownHostsFile=/common/kh"}}
	tests := []struct {
		name    string
		vars    map[string]any
		strict  string
		timeout time.Duration
		known   string
	}{
		{"defaults from the configuration", nil, StrictNo, 7 * time.Second, "/cfg/kh"},
		{"host variables win over them", map[string]any{"ansible_host_key_checking": true, "ansible_ssh_timeout": 3,
			"ansible_ssh_common_args": "-o UserKnownHostsFile=/host/kh"}, StrictYes, 3 * time.Second, "/cfg/kh"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, warnings, err := FromHostVars("h", tt.vars, opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(warnings) != 0 {
				t.Errorf("warnings %q: ControlMaster and ControlPersist are accepted silently", warnings)
			}
			strict := c.StrictHostKeyChecking
			if strict == "" {
				strict = StrictYes
			}
			eq(t, "strict", strict, tt.strict)
			eq(t, "timeout", c.connectTimeout(), tt.timeout)
			if len(c.KnownHostsFiles) == 0 || c.KnownHostsFiles[0] != tt.known {
				t.Errorf("known hosts %q, want %s first", c.KnownHostsFiles, tt.known)
			}
		})
	}
}
