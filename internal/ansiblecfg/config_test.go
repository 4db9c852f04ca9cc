package ansiblecfg

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseINI(t *testing.T) {
	cases := []struct {
		name, src string
		want      ini
		err       string
	}{
		{"basic", "[defaults]\ninventory = hosts\nForks: 20\n", ini{"defaults": {"inventory": "hosts", "forks": "20"}}, ""},
		{"comments", "# top\n; also\n[defaults]\nremote_user = deploy ; inline\nkey=a;b\n  # indented comment\n",
			ini{"defaults": {"remote_user": "deploy", "key": "a;b"}}, ""},
		{"continuation", "[ssh_connection]\nssh_args = -o A=1\n    -o B=2\n\nother = x\n",
			ini{"ssh_connection": {"ssh_args": "-o A=1\n-o B=2", "other": "x"}}, ""},
		{"empty value", "[defaults]\nlibrary =\n", ini{"defaults": {"library": ""}}, ""},
		{"no section", "inventory = x\n", nil, "line 1: file contains no section headers"},
		{"duplicate option", "[defaults]\nforks = 1\nFORKS = 2\n", nil, `line 3: option "forks" already exists`},
		{"duplicate section", "[a]\n[a]\n", nil, `line 2: section "a" already exists`},
		{"not an option", "[defaults]\njust words\n", nil, "line 2: not an option"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseINI("ansible.cfg", []byte(c.src))
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one with %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %#v, want %#v", got, c.want)
			}
		})
	}
}

// testEnv is a project directory with a home directory and the given variables.
func testEnv(t *testing.T, vars map[string]string) (Env, string) {
	t.Helper()
	root := t.TempDir()
	proj, home := filepath.Join(root, "proj"), filepath.Join(root, "home")
	for _, d := range []string{proj, home} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return Env{Cwd: proj, Home: home, SystemFile: filepath.Join(root, "etc-ansible.cfg"),
		Lookup: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }}, root
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestFind(t *testing.T) {
	cases := []struct {
		name  string
		files []string // relative to the root: proj/ansible.cfg, home/.ansible.cfg, etc-ansible.cfg, other/x.cfg
		env   string   // ANSIBLE_CONFIG, relative to the root
		want  string
	}{
		{"none", nil, "", ""},
		{"system", []string{"etc-ansible.cfg"}, "", "etc-ansible.cfg"},
		{"home over system", []string{"etc-ansible.cfg", "home/.ansible.cfg"}, "", "home/.ansible.cfg"},
		{"cwd over home", []string{"home/.ansible.cfg", "proj/ansible.cfg"}, "", "proj/ansible.cfg"},
		{"env over cwd", []string{"proj/ansible.cfg", "other/x.cfg"}, "other/x.cfg", "other/x.cfg"},
		{"env directory", []string{"proj/ansible.cfg", "other/ansible.cfg"}, "other", "other/ansible.cfg"},
		{"env missing falls through", []string{"proj/ansible.cfg"}, "other/nope.cfg", "proj/ansible.cfg"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			vars := map[string]string{}
			env, root := testEnv(t, vars)
			if c.env != "" {
				vars["ANSIBLE_CONFIG"] = filepath.Join(root, c.env)
			}
			for _, f := range c.files {
				write(t, filepath.Join(root, f), "[defaults]\n")
			}
			got, _ := Find(env)
			want := ""
			if c.want != "" {
				want = filepath.Join(root, c.want)
			}
			if got != want {
				t.Errorf("found %q, want %q", got, want)
			}
		})
	}
}

func TestFindWorldWritableCwd(t *testing.T) {
	env, root := testEnv(t, map[string]string{})
	write(t, filepath.Join(env.Cwd, "ansible.cfg"), "[defaults]\n")
	write(t, filepath.Join(root, "home/.ansible.cfg"), "[defaults]\n")
	if err := os.Chmod(env.Cwd, 0o777); err != nil {
		t.Fatal(err)
	}
	got, warnings := Find(env)
	if got != filepath.Join(root, "home/.ansible.cfg") {
		t.Errorf("found %q, want the home file: ./ansible.cfg of a world-writable directory is ignored", got)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "world writable") {
		t.Errorf("warnings %q", warnings)
	}
}

func TestLoadSettings(t *testing.T) {
	cfg := `# a project's ansible.cfg
[defaults]
inventory = inventory/, extra.ini
forks = 20
remote_user = "deploy"
private_key_file = keys/id_ed25519
host_key_checking = False
timeout = 30
roles_path = roles:~/shared-roles:/opt/roles
library = ./library
vault_password_file = .vault-pass
gathering = explicit
stdout_callback = yaml
retry_files_enabled = no
nocows = 1

[privilege_escalation]
become = yes
become_user = postgres
become_method = su

[ssh_connection]
ssh_args = -o ControlMaster=auto -o ControlPersist=60s
pipelining = True
`
	t.Run("file", func(t *testing.T) {
		env, root := testEnv(t, map[string]string{})
		write(t, filepath.Join(env.Cwd, "ansible.cfg"), cfg)
		c, err := Load(env)
		if err != nil {
			t.Fatal(err)
		}
		proj := env.Cwd
		no, yes := false, true
		want := &Config{File: filepath.Join(proj, "ansible.cfg"),
			Inventory: []string{proj + "/inventory", proj + "/extra.ini"}, Forks: 20, RemoteUser: "deploy",
			PrivateKeyFile: proj + "/keys/id_ed25519", HostKeyChecking: &no, Timeout: 30,
			RolesPath: []string{proj + "/roles", root + "/home/shared-roles", "/opt/roles"},
			Library:   []string{proj + "/library"}, VaultPasswordFile: proj + "/.vault-pass", Gathering: "explicit",
			Become: &yes, BecomeUser: "postgres", BecomeMethod: "su",
			SSHArgs: "-o ControlMaster=auto -o ControlPersist=60s", SSHArgsSet: true}
		c.Origins, c.Warnings = nil, nil
		if !reflect.DeepEqual(c, want) {
			t.Errorf("got  %+v\nwant %+v", c, want)
		}
	})
	t.Run("environment wins", func(t *testing.T) {
		vars := map[string]string{"ANSIBLE_FORKS": "3", "ANSIBLE_INVENTORY": "other", "ANSIBLE_ROLES_PATH": "r1:r2",
			"ANSIBLE_HOST_KEY_CHECKING": "true", "ANSIBLE_BECOME_USER": "root", "ANSIBLE_SSH_ARGS": "",
			"ANSIBLE_VAULT_PASSWORD_FILE": "/secret/pass", "ANSIBLE_GATHERING": "smart", "ANSIBLE_SSH_TIMEOUT": "7"}
		env, _ := testEnv(t, vars)
		write(t, filepath.Join(env.Cwd, "ansible.cfg"), cfg)
		c, err := Load(env)
		if err != nil {
			t.Fatal(err)
		}
		if c.Forks != 3 || c.Inventory[0] != env.Cwd+"/other" || c.RolesPath[1] != env.Cwd+"/r2" ||
			!*c.HostKeyChecking || c.BecomeUser != "root" || c.VaultPasswordFile != "/secret/pass" ||
			c.Gathering != "smart" || c.Timeout != 7 || c.SSHArgs != "-o ControlMaster=auto -o ControlPersist=60s" {
			t.Errorf("environment not applied over the file: %+v", c)
		}
		if c.Origins["forks"] != "env: ANSIBLE_FORKS" || c.Origins["remote_user"] != c.File {
			t.Errorf("origins %v", c.Origins)
		}
	})
	t.Run("relative to the file", func(t *testing.T) {
		vars := map[string]string{}
		env, root := testEnv(t, vars)
		vars["ANSIBLE_CONFIG"] = filepath.Join(root, "conf/ansible.cfg")
		write(t, vars["ANSIBLE_CONFIG"], "[defaults]\ninventory = hosts\nroles_path = {{CWD}}/roles\n")
		c, err := Load(env)
		if err != nil {
			t.Fatal(err)
		}
		if c.Inventory[0] != root+"/conf/hosts" || c.RolesPath[0] != env.Cwd+"/roles" {
			t.Errorf("paths %v %v", c.Inventory, c.RolesPath)
		}
	})
	for _, bad := range []struct{ src, want string }{
		{"[defaults]\nforks = many\n", "forks"},
		{"[defaults]\ngathering = sometimes\n", "gathering"},
		{"forks = 3\n", "no section headers"},
	} {
		t.Run("invalid "+bad.want, func(t *testing.T) {
			env, _ := testEnv(t, map[string]string{})
			write(t, filepath.Join(env.Cwd, "ansible.cfg"), bad.src)
			_, err := Load(env)
			if err == nil || !strings.Contains(err.Error(), bad.want) || !strings.Contains(err.Error(), "ansible.cfg") {
				t.Errorf("error %v, want one naming %s and the file", err, bad.want)
			}
		})
	}
	t.Run("no file", func(t *testing.T) {
		env, _ := testEnv(t, map[string]string{"ANSIBLE_REMOTE_USER": "ops"})
		c, err := Load(env)
		if err != nil || c.File != "" || c.RemoteUser != "ops" {
			t.Errorf("got %+v, %v", c, err)
		}
	})
}
