package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/kpxdev/kpx/internal/testfleet"
)

const projectsDir = "../../testdata/projects"

// TestProjects runs each Ansible project of testdata/projects (ansible.cfg, an inventory
// directory, roles, FQCN module names) from its own directory, as its operators would:
// `ansible-playbook site.yml` and `kpx run site.yml`, with no other argument, against a
// fleet of OpenSSH hosts. Both must give the summary recorded in <project>.golden (plays,
// tasks with per-host statuses, the recap, the exit code) and leave the same files on the
// hosts (listed in the golden file too). `make golden-projects` regenerates the golden
// files from ansible-playbook (this test with -update); when ansible-playbook is installed
// its live run is checked against them too.
//
// Each project is copied to a temporary directory with what reaches the fleet added:
// .fleet/ (the client key and known_hosts, which ansible.cfg names), inventory/00-fleet
// (each host's address and port, and fleet_root: the directory on the host the project
// writes under), and the fleet's user in place of @FLEET_USER@ in ansible.cfg.
func TestProjects(t *testing.T) {
	if testing.Short() {
		t.Skip("the projects run two tools over a fleet")
	}
	dirs, _ := filepath.Glob(filepath.Join(projectsDir, "*", "ansible.cfg"))
	if len(dirs) < 3 {
		t.Fatalf("%d projects in %s, want at least 3", len(dirs), projectsDir)
	}
	kpx := buildSuiteKPX(t)
	ansible, _ := exec.LookPath("ansible-playbook")
	if ansible == "" && (*updateGolden || os.Getenv("CI") == "true") {
		t.Fatal("ansible-playbook is needed to regenerate or check the golden files (make test-deps)")
	}
	f := testfleet.Start(t, testfleet.Options{Hosts: 4})
	for _, cfg := range dirs {
		src := filepath.Dir(cfg)
		name := filepath.Base(src)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			golden := filepath.Join(projectsDir, name+".golden")
			if _, err := os.Stat(golden); errors.Is(err, os.ErrNotExist) && !*updateGolden {
				t.Skipf("no golden file recorded from ansible-playbook yet for %s: make golden-projects", name)
			}
			work := projectCopy(t, f, src, name)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			if ansible != "" {
				out, code := runProjectTool(ctx, t, work, ansible, []string{"site.yml"}, ansibleProjectEnv(t))
				live := summarize(out, code, false) + hostFiles(t, f, name)
				if *updateGolden {
					if err := os.WriteFile(golden, []byte(live), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, _ := os.ReadFile(golden)
				if d := testfleet.Diff(live, string(want)); d != "" {
					t.Errorf("ansible-playbook no longer gives %s (make golden-projects):\n%s\n--- ansible-playbook output\n%s", golden, d, out)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (make golden-projects)", err)
			}
			env := append(withoutAnsibleEnv(os.Environ()), "KPX_STATE_DIR="+t.TempDir(), "HOME="+t.TempDir())
			out, code := runProjectTool(ctx, t, work, kpx, []string{"run", "site.yml"}, env)
			if d := testfleet.Diff(summarize(out, code, false)+hostFiles(t, f, name), string(want)); d != "" {
				t.Errorf("kpx run differs from ansible-playbook (%s; got: kpx, want: ansible):\n%s\n--- kpx output\n%s", golden, d, out)
			}
		})
	}
}

// projectCopy copies the project src to a private directory and adds what reaches the
// fleet. Each host's fleet_root is its own directory for this project, emptied.
func projectCopy(t *testing.T, f *testfleet.Fleet, src, name string) string {
	t.Helper()
	work := filepath.Join(t.TempDir(), name)
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		dst := filepath.Join(work, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if rel == "ansible.cfg" {
			data = []byte(strings.ReplaceAll(string(data), "@FLEET_USER@", f.User))
		}
		return os.WriteFile(dst, data, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
	// Ansible ignores ./ansible.cfg in a world-writable directory.
	if err := os.Chmod(work, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(work, ".fleet"), 0o700); err != nil {
		t.Fatal(err)
	}
	for from, to := range map[string]string{f.ClientKey: "id_ed25519", f.KnownHosts: "known_hosts"} {
		data, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(work, ".fleet", to), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var b strings.Builder
	b.WriteString("# written by the test: where the fleet's hosts listen\n")
	for _, h := range f.Hosts {
		root := projectRoot(h, name)
		if err := os.RemoveAll(root); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(root, 0o755); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s ansible_host=%s ansible_port=%d fleet_root=%s\n", h.Name, h.Addr, h.Port, root)
	}
	if err := os.WriteFile(filepath.Join(work, "inventory", "00-fleet"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return work
}

func projectRoot(h *testfleet.Host, project string) string {
	return filepath.Join(h.StateDir, "projects", project)
}

// hostFiles lists what the run left under each host's fleet_root (path, mode, the start
// of the content's sha256, fleet_root in it written @FLEET_ROOT@), then empties it for the
// next run.
func hostFiles(t *testing.T, f *testfleet.Fleet, project string) string {
	t.Helper()
	var lines []string
	for _, h := range f.Hosts {
		root := projectRoot(h, project)
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || p == root {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			info, err := d.Info()
			if err != nil {
				return err
			}
			if d.IsDir() {
				lines = append(lines, fmt.Sprintf("  %s %s/ %04o", h.Name, rel, info.Mode().Perm()))
				return nil
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			// Files may name the directory they are in, which differs between runs.
			sum := sha256.Sum256(bytes.ReplaceAll(data, []byte(root), []byte("@FLEET_ROOT@")))
			lines = append(lines, fmt.Sprintf("  %s %s %04o %x", h.Name, rel, info.Mode().Perm(), sum[:6]))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := os.RemoveAll(root); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(root, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	sort.Strings(lines)
	return "FILES\n" + strings.Join(lines, "\n") + "\n"
}

// ansibleProjectEnv is the environment ansible-playbook runs a project in: the project's
// own ansible.cfg (no ANSIBLE_CONFIG, no ANSIBLE_SSH_ARGS), its temporary files and SSH
// control sockets in the test's directory.
func ansibleProjectEnv(t *testing.T) []string {
	dir := t.TempDir()
	return append(withoutAnsibleEnv(os.Environ()),
		"ANSIBLE_LOCAL_TEMP="+filepath.Join(dir, "ansible-local"),
		"ANSIBLE_SSH_CONTROL_PATH_DIR="+filepath.Join(dir, "cp"),
		"ANSIBLE_NOCOLOR=1",
		"ANSIBLE_FORCE_COLOR=0",
		"HOME="+dir,
		"LC_ALL=C.UTF-8",
	)
}

// withoutAnsibleEnv drops ANSIBLE_* variables (the developer's own settings).
func withoutAnsibleEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "ANSIBLE_") {
			out = append(out, kv)
		}
	}
	return out
}

func runProjectTool(ctx context.Context, t *testing.T, dir, tool string, args, env []string) (string, int) {
	t.Helper()
	cmd := exec.CommandContext(ctx, tool, args...)
	cmd.Dir = dir
	cmd.Env = env
	// Output goes to a file: SSH master connections (ControlPersist) would hold a pipe open.
	outFile, err := os.CreateTemp(t.TempDir(), "stdout")
	if err != nil {
		t.Fatal(err)
	}
	defer outFile.Close()
	cmd.Stdout = outFile
	errFile, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer errFile.Close()
	cmd.Stderr = errFile
	err = cmd.Run()
	out, rerr := os.ReadFile(outFile.Name())
	if rerr != nil {
		t.Fatal(rerr)
	}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		if ee.ExitCode() != 0 && ee.ExitCode() != 2 {
			stderr, _ := os.ReadFile(errFile.Name())
			t.Logf("%s exited %d; stderr:\n%s", filepath.Base(tool), ee.ExitCode(), stderr)
		}
		return string(out), ee.ExitCode()
	case err != nil:
		t.Fatalf("%s: %v", filepath.Base(tool), err)
	}
	return string(out), 0
}
