package demo

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// workDirPrefix names the demo's directories under the system's temporary directory.
const workDirPrefix = "kpx-demo-"

// ownerFile, in a demo directory, holds the process id of the demo that made it.
const ownerFile = ".owner"

// WorkDir makes the demo's private directory under tmp (os.TempDir() when empty) and
// records this process as its owner. The demo removes it when it ends; a demo that was
// killed outright (SIGKILL, or a crash) cannot, so WorkDir first removes the directories
// of earlier demos whose owner is no longer running (RemoveStale).
func WorkDir(tmp string) (string, error) {
	if tmp == "" {
		tmp = os.TempDir()
	}
	RemoveStale(tmp)
	dir, err := os.MkdirTemp(tmp, workDirPrefix)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

// RemoveStale removes the demo directories under tmp that belong to this user and whose
// owning process has ended, and returns the ones it removed. Directories without an
// owner file, of another user, or of a live process are left alone.
func RemoveStale(tmp string) []string {
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return nil
	}
	var removed []string
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), workDirPrefix) {
			continue
		}
		dir := filepath.Join(tmp, e.Name())
		if stale(dir) && os.RemoveAll(dir) == nil {
			removed = append(removed, dir)
		}
	}
	return removed
}

// stale says whether dir is this user's and its owner process has ended.
func stale(dir string) bool {
	var st syscall.Stat_t
	if err := syscall.Lstat(dir, &st); err != nil || int(st.Uid) != os.Getuid() {
		return false
	}
	b, err := os.ReadFile(filepath.Join(dir, ownerFile))
	if err != nil {
		return false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return false
	}
	return !alive(pid)
}

// alive says whether a process with that id exists (it may belong to another user).
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
