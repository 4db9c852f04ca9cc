package main

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kpxdev/kpx/internal/testfleet"
	"github.com/kpxdev/kpx/internal/vault"
)

// inAnsibleProject makes dir the working directory of the test, with no ANSIBLE_*
// variable and an empty home: Ansible's configuration is dir's ansible.cfg alone.
func inAnsibleProject(t *testing.T, dir string) {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "ANSIBLE_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	t.Setenv("HOME", t.TempDir())
	t.Chdir(dir)
}

// copyTree copies the directory src (hidden files included, modes kept) to a new
// directory that is not world-writable (Ansible ignores ./ansible.cfg in one).
func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// TestInventoryReadsAnsibleConfig runs kpx inventory with no -i in the dbcluster project,
// whose ansible.cfg names the inventory directory and the password of its vaulted
// group_vars: the inventory is the one ansible.cfg names, decrypted. When
// ansible-inventory is installed, its output in the same directory must be the same.
func TestInventoryReadsAnsibleConfig(t *testing.T) {
	work := copyTree(t, filepath.Join(projectsDir, "dbcluster"))
	ansibleInventory, _ := exec.LookPath("ansible-inventory")
	inAnsibleProject(t, work)
	cases := []struct {
		name string
		args []string
		has  string // in kpx's output
	}{
		{"list-hosts", []string{"--list-hosts", "postgres"}, "host01\nhost02\nhost03\n"},
		{"graph", []string{"--graph"}, "@replicas:"},
		{"host with vaulted group_vars", []string{"--host", "host02"}, `"vault_replication_password": "s3cret-replication"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := run(context.Background(), append([]string{"inventory"}, c.args...), &out, &errOut); code != ExitOK {
				t.Fatalf("exit code %d\nstderr: %s", code, errOut.String())
			}
			if !strings.Contains(out.String(), c.has) {
				t.Errorf("output lacks %q:\n%s", c.has, out.String())
			}
			if ansibleInventory == "" || c.args[0] == "--list-hosts" { // ansible-inventory has no --list-hosts
				return
			}
			cmd := exec.Command(ansibleInventory, c.args...)
			cmd.Env = append(os.Environ(), "ANSIBLE_LOCAL_TEMP="+t.TempDir())
			want, err := cmd.Output()
			if err != nil {
				t.Fatalf("ansible-inventory %v: %v", c.args, err)
			}
			if d := testfleet.Diff(strings.TrimRight(out.String(), "\n"), strings.TrimRight(string(want), "\n")); d != "" {
				t.Errorf("kpx inventory and ansible-inventory differ:\n%s", d)
			}
		})
	}
}

// TestExecReadsAnsibleConfig runs kpx exec with no -i, -u or --private-key in the
// dbcluster project against the OpenSSH fleet: the inventory, the login user, the key,
// the known_hosts file (ssh_common_args) and the vault password (the inventory's vaulted
// group_vars) all come from its ansible.cfg.
func TestExecReadsAnsibleConfig(t *testing.T) {
	f := testfleet.Start(t, testfleet.Options{Hosts: 3})
	work := projectCopy(t, f, filepath.Join(projectsDir, "dbcluster"), "dbcluster-exec")
	inAnsibleProject(t, work)
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if code := run(ctx, []string{"exec", "replicas", "-o", "--", "echo", "hi"}, &out, &errOut); code != ExitOK {
		t.Fatalf("exit code %d\nstdout: %s\nstderr: %s", code, out.String(), errOut.String())
	}
	for _, h := range []string{"host02", "host03"} {
		if want := h + " | CHANGED | rc=0 | (stdout) hi"; !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "host01") {
		t.Errorf("host01 is not a replica:\n%s", out.String())
	}
}

// replayProject is a project whose run waits, on each host, for a file the test creates:
// the test kills kpx while it waits, then resumes or rolls back the run from the
// project's directory. The values it writes come from a vaulted group_vars file.
const replayPlay = `- name: replay
  hosts: all
  gather_facts: false
  tasks:
    - name: start
      copy:
        content: "{{ payload }}\n"
        dest: "{{ fleet_root }}/started"
    - name: wait for the test
      shell: while [ ! -e "{{ fleet_root }}/go" ]; do sleep 0.1; done
    - name: finish
      copy:
        content: "done\n"
        dest: "{{ fleet_root }}/done"
  rollback:
    tasks:
      - name: undo
        file:
          path: "{{ fleet_root }}/{{ item }}"
          state: absent
        loop: [started, done]
`

// TestResumeRollbackReadAnsibleConfig kills a run of a project whose ansible.cfg gives the
// login user, the key, the known_hosts file and the vault password (its group_vars are
// vaulted), then runs kpx resume and kpx rollback from the project's directory with no
// other flag than --state-dir: both must reach the hosts and decrypt the variables.
func TestResumeRollbackReadAnsibleConfig(t *testing.T) {
	f := testfleet.Start(t, testfleet.Options{Hosts: 2})
	bin := buildKPX(t)
	src := filepath.Join(t.TempDir(), "replay")
	const password = "kpx-test-password-not-a-secret\n"
	env, err := vault.Seal([]byte("payload: vaulted-payload\n"), []byte(strings.TrimSpace(password)), "")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"ansible.cfg": "[defaults]\ninventory = inventory\nremote_user = @FLEET_USER@\nprivate_key_file = .fleet/id_ed25519\n" +
			"vault_password_file = .vault_pass\n[ssh_connection]\nssh_common_args = -o UserKnownHostsFile=.fleet/known_hosts\n",
		".vault_pass":                  password,
		"inventory/group_vars/all.yml": string(env.Format()),
		"site.yml":                     replayPlay,
	}
	for name, data := range files {
		p := filepath.Join(src, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, verb := range []string{"resume", "rollback"} {
		t.Run(verb, func(t *testing.T) {
			work := projectCopy(t, f, src, "replay-"+verb)
			environ := append(withoutAnsibleEnv(os.Environ()), "HOME="+t.TempDir())
			state := t.TempDir()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			var runOut bytes.Buffer
			cmd := exec.CommandContext(ctx, bin, "run", "site.yml", "--state-dir", state)
			cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = work, environ, &runOut, &runOut
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			started := func() bool {
				for _, h := range f.Hosts {
					if !exists(filepath.Join(projectRoot(h, "replay-"+verb), "started")) {
						return false
					}
				}
				return true
			}
			for !started() {
				select {
				case err := <-exited:
					t.Fatalf("kpx run ended (%v) before the hosts started:\n%s", err, runOut.String())
				case <-time.After(50 * time.Millisecond):
				}
			}
			_ = cmd.Process.Kill()
			<-exited
			journal := onlyJournal(t, state)
			if journal == "" {
				t.Fatalf("no journal\n%s", runOut.String())
			}
			id := strings.TrimSuffix(filepath.Base(journal), ".jsonl")
			for _, h := range f.Hosts {
				if err := os.WriteFile(filepath.Join(projectRoot(h, "replay-"+verb), "go"), nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			rec := exec.CommandContext(ctx, bin, verb, id, "--state-dir", state)
			rec.Dir, rec.Env = work, environ
			if out, err := rec.CombinedOutput(); err != nil {
				t.Fatalf("kpx %s: %v\n%s", verb, err, out)
			} else if strings.Contains(string(out), "vaulted-payload") {
				t.Errorf("kpx %s shows the vaulted value:\n%s", verb, out)
			}
			for _, h := range f.Hosts {
				root := projectRoot(h, "replay-"+verb)
				started, _ := os.ReadFile(filepath.Join(root, "started"))
				done := exists(filepath.Join(root, "done"))
				switch {
				case verb == "resume" && (string(started) != "vaulted-payload\n" || !done):
					t.Errorf("%s after resume: started %q, done %v; want the vaulted payload and done", h.Name, started, done)
				case verb == "rollback" && (started != nil || done):
					t.Errorf("%s after rollback: started %q, done %v; want both removed", h.Name, started, done)
				}
			}
		})
	}
}
