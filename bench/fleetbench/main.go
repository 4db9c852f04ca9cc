// Command fleetbench measures kpx's engine overhead on a simulated fleet: it starts an
// in-process fleet (internal/simfleet) of N hosts, runs the real `kpx run` binary on a
// playbook of three command tasks against the fleet's inventory, and reports wall time,
// the rate at which kpx brings new hosts in (connect, authenticate, verify the host key
// and run the first task), and kpx's peak RSS per host. The fleet runs in this process and
// kpx in its own, so the RSS measured is the controller's alone.
//
//	go run ./bench/fleetbench -kpx bin/kpx -hosts 1000 -forks 200
//
// A fleet larger than -shard hosts is split over child processes (this program started
// again with -serve-shard), each serving its part of the fleet with a shared client key:
// one process holds a listener and a connection per host, and a machine's limit on open
// files caps how many hosts one process can serve.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/kpxdev/kpx/internal/simfleet"
)

const playbook = `- name: engine overhead, three command tasks
  hosts: all
  gather_facts: false
  tasks:
    - name: first contact
      command: "true"
    - name: kernel release
      command: uname -r
    - name: host name from the environment
      shell: echo "$SIMFLEET_HOST"
`

func main() {
	hosts := flag.Int("hosts", 1000, "simulated hosts")
	forks := flag.Int("forks", 200, "kpx -f")
	kpx := flag.String("kpx", "bin/kpx", "kpx binary")
	sshArgs := flag.String("ssh-args", "", "more ansible_ssh_common_args for the fleet's inventory")
	profile := flag.String("fleet-cpuprofile", "", "write the fleet's CPU profile here")
	kpxProfile := flag.String("kpx-cpuprofile", "", "write kpx's CPU profile here (kpx --cpuprofile)")
	shard := flag.Int("shard", 4000, "most hosts one fleet process serves")
	serve := flag.String("serve-shard", "", "internal: serve hosts FIRST:COUNT of -hosts with -client-key in -dir")
	clientKey := flag.String("client-key", "", "internal: the shared client key")
	dir := flag.String("dir", "", "internal: the shard's directory")
	flag.Parse()
	if *serve != "" {
		if err := serveShard(*serve, *hosts, *clientKey, *dir); err != nil {
			fmt.Fprintln(os.Stderr, "fleetbench shard:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*kpx, *hosts, *forks, *shard, *sshArgs, *profile, *kpxProfile); err != nil {
		fmt.Fprintln(os.Stderr, "fleetbench:", err)
		os.Exit(1)
	}
}

func run(kpx string, hosts, forks, shard int, sshArgs, profile, kpxProfile string) error {
	if err := raiseNoFile(); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "kpx-fleetbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	t0 := time.Now()
	var inventory string
	if hosts <= shard {
		f, err := simfleet.Start(ctx, simfleet.Options{Hosts: hosts, Dir: filepath.Join(dir, "fleet"), SSHArgs: sshArgs})
		if err != nil {
			return err
		}
		defer f.Close()
		inventory = f.Inventory
	} else {
		sf, err := startShards(dir, hosts, shard, sshArgs)
		if err != nil {
			return err
		}
		defer sf.close()
		inventory = sf.inventory
	}
	fmt.Printf("fleet of %d hosts started in %s\n", hosts, time.Since(t0).Round(time.Millisecond))
	play := filepath.Join(dir, "bench.yml")
	if err := os.WriteFile(play, []byte(playbook), 0o644); err != nil {
		return err
	}
	if profile != "" {
		pf, err := os.Create(profile)
		if err != nil {
			return err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	args := []string{"run", play, "-i", inventory, "-f", fmt.Sprint(forks)}
	if kpxProfile != "" {
		args = append(args, "--cpuprofile", kpxProfile)
	}
	cmd := exec.Command(kpx, args...)
	cmd.Env = append(os.Environ(), "HOME="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	log, err := os.Create(filepath.Join(os.TempDir(), "fleetbench-kpx.out"))
	if err != nil {
		return err
	}
	defer log.Close()
	marks, counts := scan(io.TeeReader(out, log))
	runErr := cmd.Wait()
	wall := time.Since(start)
	if runErr != nil {
		return fmt.Errorf("kpx run: %w (ok lines: %d)", runErr, counts["ok"])
	}
	if want := 3 * hosts; counts["ok"]+counts["changed"] != want {
		return fmt.Errorf("kpx reported %d task results, want %d", counts["ok"]+counts["changed"], want)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	rss := ru.Maxrss * 1024
	first := marks[1].Sub(marks[0])
	fmt.Printf("hosts %d, forks %d: wall %.2f s; first task (connect + run) %.2f s = %.0f new hosts/s; tasks 2-3 %.2f s\n",
		hosts, forks, wall.Seconds(), first.Seconds(), float64(hosts)/first.Seconds(), marks[2].Sub(marks[1]).Seconds()+time.Since(marks[2]).Seconds()-time.Since(start.Add(wall)).Seconds())
	fmt.Printf("kpx peak RSS %.1f MB = %.1f KB per host; kpx CPU user %.2f s sys %.2f s\n",
		float64(rss)/1e6, float64(rss)/1e3/float64(hosts),
		time.Duration(ru.Utime.Nano()).Seconds(), time.Duration(ru.Stime.Nano()).Seconds())
	return nil
}

// scan reads kpx's plain output, timing each "TASK [" header, and counts result lines.
func scan(r io.Reader) ([]time.Time, map[string]int) {
	var marks []time.Time
	counts := map[string]int{}
	s := bufio.NewScanner(r)
	shown := 0
	for s.Scan() {
		line := s.Text()
		if strings.HasPrefix(line, "fatal:") && shown < 5 {
			shown++
			fmt.Fprintln(os.Stderr, line)
		}
		switch {
		case strings.HasPrefix(line, "TASK ["):
			marks = append(marks, time.Now())
		case strings.HasPrefix(line, "ok: ["):
			counts["ok"]++
		case strings.HasPrefix(line, "changed: ["):
			counts["changed"]++
		}
	}
	for len(marks) < 3 {
		marks = append(marks, time.Now())
	}
	return marks, counts
}

// raiseNoFile lifts the open-files limit: the fleet holds a listener and a connection per
// host, and kpx (which inherits the limit) a connection per host.
func raiseNoFile() error {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return err
	}
	want := uint64(1 << 18)
	if rl.Max < want {
		rl.Max = want // allowed for root; otherwise keep what we may
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: want, Max: want}); err == nil {
			return nil
		}
		_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl)
	}
	rl.Cur = rl.Max
	return syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
}
