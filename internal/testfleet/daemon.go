package testfleet

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// daemon is a background process that dies with the test binary and, when killed, takes
// its descendants along (sshd's per-connection children start sessions of their own).
type daemon struct {
	cmd  *exec.Cmd
	done chan struct{}
	once sync.Once
}

func startDaemon(path string, args ...string) (*daemon, error) {
	cmd := exec.Command(path, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	d := &daemon{cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(d.done)
	}()
	return d, nil
}

func (d *daemon) exited() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// kill stops the daemon and every process it started: SIGTERM first, SIGKILL for what is
// still there after a grace period. It is idempotent.
func (d *daemon) kill() {
	d.once.Do(func() {
		pid := d.cmd.Process.Pid
		kids := descendants(pid)
		_ = syscall.Kill(-pid, syscall.SIGTERM)
		for _, k := range kids {
			_ = syscall.Kill(k, syscall.SIGTERM)
		}
		select {
		case <-d.done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			<-d.done
		}
		for _, k := range kids {
			_ = syscall.Kill(k, syscall.SIGKILL)
		}
	})
}

// descendants lists the pids below pid in the process tree, read from /proc. Per-connection
// sshd children start their own sessions (setsid), so killing the process group alone
// would leave them running.
func descendants(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]int{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// Fields after the command name, which is in parentheses and may hold spaces.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 2 {
			continue
		}
		if ppid, err := strconv.Atoi(f[1]); err == nil {
			children[ppid] = append(children[ppid], p)
		}
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}
