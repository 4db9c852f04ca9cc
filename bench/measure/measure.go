// Package measure runs a benchmarked program and measures what it costs the controller:
// wall time, CPU time (user+system of the program and of every process it started, SSH
// ControlPersist masters included) and peak memory of that process tree. It is shared by
// the benchmark harnesses under bench/.
//
// Children that outlive the program (ControlPersist masters daemonize) are adopted by
// the benchmark's process once SubReaper was called, so that their CPU time is counted
// and they are ended and reaped after each run.
package measure

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Sample is one run of a program.
type Sample struct {
	Wall time.Duration
	CPU  time.Duration // user+system of the program's whole process tree
	// PeakPSS is the largest sum, over the samples taken every Interval, of the
	// proportional set size of the program's processes (shared pages divided among the
	// processes sharing them, so that 50 forked workers are not counted 50 times over).
	PeakPSS int64
	// MaxRSS is the largest resident set of any single process of the tree (getrusage).
	MaxRSS int64
	// TargetCPU is the CPU time the hosts spent serving the run: user+system of the
	// processes that were already this process's children when the run began (a test
	// fleet's sshd daemons) and of the per-connection and session processes they reaped.
	TargetCPU time.Duration
	Exit      int
	Output    []byte // standard output and error, kept for failures
}

// Interval is how often the process tree's memory is sampled.
const Interval = 100 * time.Millisecond

// SubReaper makes the calling process adopt its orphaned descendants (Linux only).
func SubReaper() error {
	return unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
}

// Run starts cmd, waits for it, ends and reaps what it left behind, and measures it.
// Processes that were already this process's children (a test fleet's daemons) are not
// the program's and are neither measured nor ended. A nonzero exit is reported in
// Sample.Exit, not as an error.
func Run(cmd *exec.Cmd) (Sample, error) {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	before := childrenCPU()
	own := map[int]bool{}
	for _, p := range children(os.Getpid()) {
		own[p] = true
	}
	targetsBefore := treeCPU(own)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return Sample{}, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var peak int64
	tick := time.NewTicker(Interval)
	defer tick.Stop()
	var werr error
wait:
	for {
		select {
		case werr = <-done:
			break wait
		case <-tick.C:
			peak = max(peak, treePSS(own))
		}
	}
	s := Sample{Wall: time.Since(start), Output: out.Bytes(), PeakPSS: peak}
	var ee *exec.ExitError
	switch {
	case errors.As(werr, &ee):
		s.Exit = ee.ExitCode()
	case werr != nil:
		return s, werr
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		s.MaxRSS = ru.Maxrss * 1024
	}
	reapLeftovers(own)
	s.CPU = childrenCPU() - before
	settle(own)
	s.TargetCPU = treeCPU(own) - targetsBefore
	return s, nil
}

// settle waits (10 s at most) until the processes in own have no children left: the
// sessions of a run have ended and been reaped, and count for it, not for the next.
func settle(own map[int]bool) {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		busy := false
		for p := range own {
			if len(children(p)) > 0 {
				busy = true
				break
			}
		}
		if !busy {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// clockTick is USER_HZ, the unit of /proc/PID/stat's times (100 on every Linux port).
const clockTick = 100

// treeCPU sums user+system time of the processes in own and of their reaped children
// (/proc/PID/stat utime, stime, cutime, cstime).
func treeCPU(own map[int]bool) time.Duration {
	var ticks int64
	for p := range own {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p))
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		// after the command: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14)
		if len(f) < 15 {
			continue
		}
		for _, i := range []int{11, 12, 13, 14} {
			n, _ := strconv.ParseInt(f[i], 10, 64)
			ticks += n
		}
	}
	return time.Duration(ticks) * time.Second / clockTick
}

func childrenCPU() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_CHILDREN, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// children lists pid's child processes (every thread's).
func children(pid int) []int {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var out []int
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(f); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// descendants lists our children that are not in own, and all their descendants.
func descendants(own map[int]bool) []int {
	var out []int
	queue := []int{}
	for _, c := range children(os.Getpid()) {
		if !own[c] {
			queue = append(queue, c)
		}
	}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		out = append(out, p)
		queue = append(queue, children(p)...)
	}
	return out
}

func treePSS(own map[int]bool) int64 {
	var sum int64
	for _, p := range descendants(own) {
		sum += pss(p)
	}
	return sum
}

// pss reads a process's proportional set size in bytes (0 when it is gone).
func pss(pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "Pss:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// reapLeftovers ends the processes a run left behind (adopted ControlPersist masters)
// and waits for them, so that their CPU time is counted.
func reapLeftovers(own map[int]bool) {
	deadline := time.Now().Add(30 * time.Second)
	for _, pid := range children(os.Getpid()) {
		if own[pid] {
			continue
		}
		syscall.Kill(pid, syscall.SIGTERM)
		for time.Now().Before(deadline) {
			var ws unix.WaitStatus
			if got, _ := unix.Wait4(pid, &ws, unix.WNOHANG, nil); got == pid || got < 0 {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// Stats are the median and range of one measure over several samples.
type Stats struct{ Median, Min, Max float64 }

// Of computes Stats of f over samples.
func Of(samples []Sample, f func(Sample) float64) Stats {
	if len(samples) == 0 {
		return Stats{}
	}
	v := make([]float64, len(samples))
	for i, s := range samples {
		v[i] = f(s)
	}
	sort.Float64s(v)
	m := v[len(v)/2]
	if len(v)%2 == 0 {
		m = (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return Stats{Median: m, Min: v[0], Max: v[len(v)-1]}
}

// Wall, CPU, TargetCPU and PeakMiB select a measure of a Sample, in seconds and MiB.
func Wall(s Sample) float64      { return s.Wall.Seconds() }
func CPU(s Sample) float64       { return s.CPU.Seconds() }
func TargetCPU(s Sample) float64 { return s.TargetCPU.Seconds() }
func PeakMiB(s Sample) float64   { return float64(max(s.PeakPSS, s.MaxRSS)) / (1 << 20) }
