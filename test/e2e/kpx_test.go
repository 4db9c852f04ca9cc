//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kpxdev/kpx/internal/vmfleet"
	"github.com/kpxdev/kpx/rollout"
)

// kpxRun is one run of the kpx binary: its combined output, exit code and the events its
// journal recorded.
type kpxRun struct {
	out    string
	code   int
	events []rollout.Event
}

// env is what every step of the end-to-end test shares.
type env struct {
	t     *testing.T
	fleet *vmfleet.Fleet
	bin   string // the kpx binary under test
	play  string // a copy of testdata/e2e with the built modules in files/
	runs  *int   // kpx runs so far, shared by the steps
}

// buildKpx builds cmd/kpx as the tests run it.
func buildKpx(dir string) (string, error) {
	bin := filepath.Join(dir, "kpx")
	cmd := exec.Command("go", "build", "-o", bin, "../../cmd/kpx")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build cmd/kpx: %v\n%s", err, out)
	}
	return bin, nil
}

// buildPatches builds testdata/livepatch against the fleet's kernel headers into
// files/kpx_e2e_cmdline.ko, and a copy whose vermagic names another release into
// files/other-release.ko.
func buildPatches(k *vmfleet.Kernel, files string) error {
	cmd := exec.Command("../../testdata/livepatch/build.sh", k.Release, files)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building the live patch: %v\n%s", err, out)
	}
	ko, err := os.ReadFile(filepath.Join(files, "kpx_e2e_cmdline.ko"))
	if err != nil {
		return err
	}
	other, err := otherRelease(ko, k.Release)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(files, "other-release.ko"), other, 0o644)
}

// otherRelease rewrites the module's vermagic to name a release of the same length that
// is not release (the ELF layout stays as it was).
func otherRelease(ko []byte, release string) ([]byte, error) {
	old := []byte("vermagic=" + release + " ")
	if bytes.Count(ko, old) != 1 {
		return nil, errors.New("vermagic=" + release + " not found once in the module")
	}
	fake := []byte(release)
	for i, c := range fake {
		if c >= '0' && c <= '9' {
			fake[i] = '9'
		}
	}
	if string(fake) == release {
		return nil, errors.New("cannot make another release from " + release)
	}
	return bytes.Replace(ko, old, []byte("vermagic="+string(fake)+" "), 1), nil
}

// copyDir copies the playbooks of testdata/e2e to dir.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// kpx runs the kpx binary with args (and the fleet's inventory for run), with its own
// journal directory, and reads the events the run journaled.
func (e *env) kpx(ctx context.Context, args ...string) kpxRun {
	e.t.Helper()
	*e.runs++
	state := filepath.Join(e.fleet.Dir, "state", strings.ReplaceAll(e.t.Name(), "/", "_"))
	cmd := exec.CommandContext(ctx, e.bin, args...)
	cmd.Dir = e.play
	cmd.Env = append(os.Environ(), "KPX_STATE_DIR="+state)
	out, err := cmd.CombinedOutput()
	r := kpxRun{out: string(out)}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		e.t.Fatalf("kpx %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	e.t.Logf("kpx %s: exit %d\n%s", strings.Join(args, " "), r.code, out)
	journals, _ := filepath.Glob(filepath.Join(state, "runs", "*.jsonl"))
	for _, j := range journals {
		r.events = append(r.events, readJournal(e.t, j)...)
	}
	return r
}

func readJournal(t *testing.T, path string) []rollout.Event {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []rollout.Event
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		_, ev, err := rollout.DecodeEvent(sc.Bytes())
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, ev)
	}
	return out
}

// waves returns the final state and hosts of each wave of a run's events.
func (r kpxRun) waves() map[int]rollout.WaveChanged {
	out := map[int]rollout.WaveChanged{}
	for _, ev := range r.events {
		if w, ok := ev.(rollout.WaveChanged); ok {
			prev := out[w.Wave]
			if len(w.Hosts) == 0 {
				w.Hosts = prev.Hosts
			}
			out[w.Wave] = w
		}
	}
	return out
}

func stepContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	t.Cleanup(cancel)
	return ctx
}
