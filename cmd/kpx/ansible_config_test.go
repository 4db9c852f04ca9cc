package main

import (
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/spf13/pflag"

	"github.com/kpxdev/kpx/transport"
)

// TestAnsibleConfigPrecedence: a flag beats ANSIBLE_*, which beats ansible.cfg, which
// beats the default.
func TestAnsibleConfigPrecedence(t *testing.T) {
	cfg := "[defaults]\ninventory = inv/hosts\nforks = 20\nremote_user = deploy\nprivate_key_file = keys/id\n" +
		"host_key_checking = false\ntimeout = 7\n[privilege_escalation]\nbecome = true\nbecome_user = postgres\n" +
		"[ssh_connection]\nssh_args = -o ControlMaster=auto -o UserKnownHostsFile=kh\n"
	cases := []struct {
		name  string
		args  []string
		env   map[string]string
		check func(t *testing.T, o runOptions, dir string)
	}{
		{"file", nil, nil, func(t *testing.T, o runOptions, dir string) {
			want := runOptions{sources: []string{dir + "/inv/hosts"}, forks: 20, user: "deploy", privateKey: dir + "/keys/id",
				become: true, becomeUser: "postgres", becomeMethod: "sudo"}
			got := runOptions{sources: o.sources, forks: o.forks, user: o.user, privateKey: o.privateKey, become: o.become,
				becomeUser: o.becomeUser, becomeMethod: o.becomeMethod}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		}},
		{"environment", nil, map[string]string{"ANSIBLE_FORKS": "3", "ANSIBLE_INVENTORY": "a,b", "ANSIBLE_BECOME": "no"},
			func(t *testing.T, o runOptions, dir string) {
				if o.forks != 3 || !reflect.DeepEqual(o.sources, []string{dir + "/a", dir + "/b"}) || o.become || o.becomeUser != "" {
					t.Errorf("forks %d sources %v become %v %q", o.forks, o.sources, o.become, o.becomeUser)
				}
			}},
		{"become_user reaches tasks that become, without turning become on",
			nil, map[string]string{"ANSIBLE_BECOME": "no", "ANSIBLE_BECOME_USER": "app", "ANSIBLE_BECOME_METHOD": "su"},
			func(t *testing.T, o runOptions, dir string) {
				if o.become || o.becomeUser != "" {
					t.Errorf("become %v, become user %q: want become off", o.become, o.becomeUser)
				}
				if got, want := becomeDefaults(o, "pw"), (transport.Become{Method: "su", User: "app", Password: "pw"}); got != want {
					t.Errorf("becomeDefaults = %#v, want %#v", got, want)
				}
			}},
		{"--become-user beats ansible.cfg's become_user for tasks that become", []string{"--become-user", "dba"},
			map[string]string{"ANSIBLE_BECOME": "no"}, func(t *testing.T, o runOptions, dir string) {
				if got := becomeDefaults(o, ""); got.User != "dba" || got.Method != "sudo" {
					t.Errorf("becomeDefaults = %#v, want sudo to dba", got)
				}
			}},
		{"flags", []string{"-f", "9", "-i", "x.ini", "-u", "me", "--private-key", "k2", "--become-user", "root"},
			map[string]string{"ANSIBLE_FORKS": "3"}, func(t *testing.T, o runOptions, dir string) {
				if o.forks != 9 || !reflect.DeepEqual(o.sources, []string{"x.ini"}) || o.user != "me" || o.privateKey != "k2" || o.becomeUser != "root" {
					t.Errorf("flags lost: %+v", o)
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "ansible.cfg"), []byte(cfg), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Chdir(dir)
			t.Setenv("ANSIBLE_CONFIG", filepath.Join(dir, "ansible.cfg"))
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			var o runOptions
			f := pflag.NewFlagSet("run", pflag.ContinueOnError)
			f.StringArrayVarP(&o.sources, "inventory", "i", nil, "")
			f.IntVarP(&o.forks, "forks", "f", 5, "")
			f.StringVarP(&o.user, "user", "u", "", "")
			f.StringVar(&o.privateKey, "private-key", "", "")
			f.BoolVarP(&o.become, "become", "b", false, "")
			f.StringVar(&o.becomeUser, "become-user", "", "")
			f.StringVar(&o.becomeMethod, "become-method", "sudo", "")
			if err := f.Parse(c.args); err != nil {
				t.Fatal(err)
			}
			if err := applyAnsibleConfig(&o, f, io.Discard); err != nil {
				t.Fatal(err)
			}
			c.check(t, o, dir)
			var hv transport.HostVarsOptions
			configHostVars(o, &hv)
			if hv.FirstSSHArgs[0] != "-o ControlMaster=auto -o UserKnownHostsFile=kh" || hv.DefaultVars["ansible_host_key_checking"] != false ||
				hv.DefaultVars["ansible_ssh_timeout"] != 7 {
				t.Errorf("ssh settings %+v", hv)
			}
		})
	}
}
