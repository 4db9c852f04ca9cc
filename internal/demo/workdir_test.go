package demo

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

// TestWorkDirRemovesOnlyStaleDirectories: a directory whose owner has ended goes; one of
// a live process, one without an owner file and an unrelated one stay.
func TestWorkDirRemovesOnlyStaleDirectories(t *testing.T) {
	tmp := t.TempDir()
	// A process that has ended and been reaped: nothing runs under its pid (pids are
	// reused only after the whole range has been cycled through).
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	mk := func(name, owner string) string {
		dir := filepath.Join(tmp, name)
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if owner != "" {
			if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(owner), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	staleDir := mk("kpx-demo-1", strconv.Itoa(dead.Process.Pid))
	live := mk("kpx-demo-2", strconv.Itoa(os.Getpid()))
	noOwner := mk("kpx-demo-3", "")
	other := mk("kpx-simfleet-4", strconv.Itoa(dead.Process.Pid))

	dir, err := WorkDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{live, noOwner, other, dir} {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("%s was removed: %v", d, err)
		}
	}
	if _, err := os.Stat(staleDir); !os.IsNotExist(err) {
		t.Errorf("%s (owner ended) is still there", staleDir)
	}
	b, err := os.ReadFile(filepath.Join(dir, ownerFile))
	if err != nil || string(b) != strconv.Itoa(os.Getpid())+"\n" {
		t.Errorf("owner file %q, %v: want this process", b, err)
	}
	if got := RemoveStale(tmp); !slices.Equal(got, nil) {
		t.Errorf("second RemoveStale removed %v", got)
	}
}
