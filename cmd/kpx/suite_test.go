package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kpxdev/kpx/internal/testfleet"
)

const suiteDir = "../../testdata/playbooks/suite"

// suiteParallel bounds how many playbooks run at once (each runs ansible-playbook and then
// kpx against the shared fleet): enough to overlap Ansible's start-up, few enough for a
// loaded two-core machine. KPX_SUITE_PARALLEL overrides it.
func suiteParallel() int {
	if n, err := strconv.Atoi(os.Getenv("KPX_SUITE_PARALLEL")); err == nil && n > 0 {
		return n
	}
	return 3
}

// TestPlaybookSuite runs every playbook of testdata/playbooks/suite with the built kpx
// binary and with the real ansible-playbook against one fleet of ten OpenSSH hosts, and
// compares their summaries (plays and batches with their hosts, per-task statuses, the
// recap, the exit code) with the golden file regenerated from Ansible (make
// golden-playbooks, which runs this test with -update). When ansible-playbook is installed
// its live summary is checked against the golden file too.
func TestPlaybookSuite(t *testing.T) {
	if testing.Short() {
		t.Skip("the playbook suite runs two tools over ten hosts")
	}
	files, _ := filepath.Glob(filepath.Join(suiteDir, "*.yml"))
	if len(files) < 20 {
		t.Fatalf("%d playbooks in %s, want at least 20", len(files), suiteDir)
	}
	kpx := buildSuiteKPX(t)
	ansible, _ := exec.LookPath("ansible-playbook")
	if ansible == "" && (*updateGolden || os.Getenv("CI") == "true") {
		t.Fatal("ansible-playbook is needed to regenerate or check the golden files (make test-deps)")
	}
	f := testfleet.Start(t, testfleet.Options{Hosts: 10})
	inv := suiteInventory(t, f)
	sem := make(chan struct{}, suiteParallel())
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yml")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sem <- struct{}{}
			defer func() { <-sem }()
			args := suiteArgs(t, file)
			oneFork := slices.Contains(args, "-f") && args[slices.Index(args, "-f")+1] == "1"
			if !slices.Contains(args, "-f") {
				args = append(args, "-f", "10")
			}
			args = append(args, "-i", inv, filepath.Base(file))
			golden := filepath.Join(suiteDir, name+".golden")
			if _, err := os.Stat(golden); errors.Is(err, os.ErrNotExist) && !*updateGolden {
				t.Skipf("no golden file recorded from ansible-playbook yet for %s: make golden-playbooks", name)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 45*time.Minute)
			defer cancel()

			if ansible != "" {
				out, code := runSuiteTool(ctx, t, ansible, args, ansibleSuiteEnv(t))
				live := summarize(out, code, oneFork)
				if *updateGolden {
					if err := os.WriteFile(golden, []byte(live), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, _ := os.ReadFile(golden)
				if d := testfleet.Diff(live, string(want)); d != "" {
					t.Errorf("ansible-playbook no longer gives %s (make golden-playbooks):\n%s\n--- ansible-playbook output\n%s", golden, d, out)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (make golden-playbooks)", err)
			}
			out, code := runSuiteTool(ctx, t, kpx, append([]string{"run"}, args...), os.Environ())
			if d := testfleet.Diff(summarize(out, code, oneFork), string(want)); d != "" {
				t.Errorf("kpx run differs from ansible-playbook (%s; got: kpx, want: ansible):\n%s\n--- kpx output\n%s", golden, d, out)
			}
		})
	}
}

// buildSuiteKPX builds the kpx binary the suite runs, as `make build` does.
func buildSuiteKPX(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "kpx")
	goTool := filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		goTool = "go"
	}
	cmd := exec.Command(goTool, "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// suiteInventory is the fleet's inventory with the suite's groups (groups.ini) appended.
func suiteInventory(t *testing.T, f *testfleet.Fleet) string {
	t.Helper()
	base, err := os.ReadFile(f.Inventory)
	if err != nil {
		t.Fatal(err)
	}
	groups, err := os.ReadFile(filepath.Join(suiteDir, "groups.ini"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(f.Dir, "suite.ini")
	if err := os.WriteFile(path, append(append(base, '\n'), groups...), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// suiteArgs reads a playbook's "# args: ..." first line: arguments given to both tools.
func suiteArgs(t *testing.T, file string) []string {
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	line, _, _ := strings.Cut(string(src), "\n")
	rest, ok := strings.CutPrefix(line, "# args:")
	if !ok {
		return nil
	}
	return strings.Fields(rest)
}

// ansibleSuiteEnv is testfleet.AnsibleEnv with what makes Ansible fast over SSH: pipelining
// and persistent master connections (later entries win in exec's environment).
func ansibleSuiteEnv(t *testing.T) []string {
	dir := t.TempDir()
	return append(testfleet.AnsibleEnv(dir),
		"ANSIBLE_PIPELINING=1",
		"ANSIBLE_SSH_ARGS=-o ControlMaster=auto -o ControlPersist=30s",
		"ANSIBLE_SSH_CONTROL_PATH_DIR="+filepath.Join(dir, "cp"),
	)
}

func runSuiteTool(ctx context.Context, t *testing.T, tool string, args, env []string) (string, int) {
	t.Helper()
	cmd := exec.CommandContext(ctx, tool, args...)
	cmd.Dir = suiteDir
	cmd.Env = env
	// Output goes to a file, not a pipe: the SSH master connections Ansible leaves behind
	// (ControlPersist) inherit its stdout and would hold a pipe open.
	outFile, err := os.CreateTemp(t.TempDir(), "stdout")
	if err != nil {
		t.Fatal(err)
	}
	defer outFile.Close()
	cmd.Stdout = outFile
	err = cmd.Run()
	out, rerr := os.ReadFile(outFile.Name())
	if rerr != nil {
		t.Fatal(rerr)
	}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return string(out), ee.ExitCode()
	case err != nil:
		t.Fatalf("%s: %v", filepath.Base(tool), err)
	}
	return string(out), 0
}
