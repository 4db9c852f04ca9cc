// Package playbook50 benchmarks `kpx run` against ansible-playbook on a fleet of 50 real
// OpenSSH hosts: the same playbook, the same forks, Ansible with pipelining and
// ControlPersist. Run it with bench/playbook50.sh; it is skipped unless KPX_BENCH=1.
package playbook50

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/kpxdev/kpx/internal/testfleet"
)

type sample struct {
	wall, cpu time.Duration
}

// TestPlaybook50 runs the tools in turn (kpx, ansible, kpx, ansible, ...) KPX_BENCH_RUNS
// times each (default 3) and prints wall time and controller CPU (user+system of the tool
// and every process it started, SSH masters included) per run, with medians and ranges.
func TestPlaybook50(t *testing.T) {
	if os.Getenv("KPX_BENCH") != "1" {
		t.Skip("set KPX_BENCH=1 (bench/playbook50.sh)")
	}
	runs := 3
	if n, err := strconv.Atoi(os.Getenv("KPX_BENCH_RUNS")); err == nil && n > 0 {
		runs = n
	}
	hosts := 50
	forks := "50"
	ansible := testfleet.RequireTool(t, "ansible-playbook")
	// Orphaned SSH masters (ControlPersist) become our children, so their CPU is counted.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	kpx := filepath.Join(t.TempDir(), "kpx")
	if out, err := exec.Command("go", "build", "-o", kpx, "../../cmd/kpx").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	f := testfleet.Start(t, testfleet.Options{Hosts: hosts})
	play, _ := filepath.Abs("site.yml")
	tools := map[string][]sample{}
	for i := 0; i < runs; i++ {
		for _, tool := range []string{"kpx", "ansible-playbook"} {
			var cmd *exec.Cmd
			if tool == "kpx" {
				cmd = exec.Command(kpx, "run", "-f", forks, "-i", f.Inventory, play)
				cmd.Env = os.Environ()
			} else {
				dir := t.TempDir()
				cmd = exec.Command(ansible, "-f", forks, "-i", f.Inventory, play)
				cmd.Env = append(testfleet.AnsibleEnv(dir),
					"ANSIBLE_PIPELINING=1",
					"ANSIBLE_SSH_ARGS=-o ControlMaster=auto -o ControlPersist=60s",
					"ANSIBLE_SSH_CONTROL_PATH_DIR="+filepath.Join(dir, "cp"))
			}
			s, err := measure(t, cmd)
			if err != nil {
				t.Fatalf("%s run %d: %v", tool, i+1, err)
			}
			t.Logf("run %d %-16s wall %7.2fs  cpu %7.2fs", i+1, tool, s.wall.Seconds(), s.cpu.Seconds())
			tools[tool] = append(tools[tool], s)
		}
	}
	for _, tool := range []string{"kpx", "ansible-playbook"} {
		ss := tools[tool]
		fmt.Printf("RESULT %s hosts=%d forks=%s runs=%d wall median %.2fs (%.2f-%.2f) cpu median %.2fs (%.2f-%.2f)\n",
			tool, hosts, forks, len(ss), median(ss, wallOf), minOf(ss, wallOf), maxOf(ss, wallOf),
			median(ss, cpuOf), minOf(ss, cpuOf), maxOf(ss, cpuOf))
	}
}

// measure runs cmd to its end, then ends and reaps the processes it left behind (SSH
// masters), and returns its wall time and the CPU time of everything it started.
func measure(t *testing.T, cmd *exec.Cmd) (sample, error) {
	cmd.Stdout, cmd.Stderr = nil, nil
	out, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		return sample{}, err
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	before := childrenCPU()
	start := time.Now()
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			return sample{}, err
		}
		b, _ := os.ReadFile(out.Name())
		return sample{}, fmt.Errorf("%v\n%s", err, b)
	}
	wall := time.Since(start)
	reapLeftovers()
	return sample{wall: wall, cpu: childrenCPU() - before}, nil
}

func childrenCPU() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_CHILDREN, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reapLeftovers ends our children that are ssh clients (ControlPersist masters adopted by
// this subreaper), not the fleet's sshd daemons, and waits for them.
func reapLeftovers() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	me := strconv.Itoa(os.Getpid())
	procs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		s := string(b)
		open, closeIdx := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || closeIdx < 0 {
			continue
		}
		comm := s[open+1 : closeIdx]
		fields := strings.Fields(s[closeIdx+1:])
		if len(fields) < 2 || fields[1] != me || comm != "ssh" {
			continue
		}
		pid, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(filepath.Dir(p), "/proc/"), "/"))
		syscall.Kill(pid, syscall.SIGTERM)
		for ctx.Err() == nil {
			var ws unix.WaitStatus
			if got, _ := unix.Wait4(pid, &ws, unix.WNOHANG, nil); got == pid {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func wallOf(s sample) time.Duration { return s.wall }
func cpuOf(s sample) time.Duration  { return s.cpu }

func median(ss []sample, f func(sample) time.Duration) float64 {
	v := make([]float64, len(ss))
	for i, s := range ss {
		v[i] = f(s).Seconds()
	}
	sort.Float64s(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func minOf(ss []sample, f func(sample) time.Duration) float64 {
	m := f(ss[0])
	for _, s := range ss {
		m = min(m, f(s))
	}
	return m.Seconds()
}

func maxOf(ss []sample, f func(sample) time.Duration) float64 {
	m := f(ss[0])
	for _, s := range ss {
		m = max(m, f(s))
	}
	return m.Seconds()
}
