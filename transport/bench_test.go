package transport

import (
	"context"
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

	"github.com/kpxdev/kpx/internal/testfleet"
)

// Benchmarks against the real OpenSSH fleet on loopback; results and method are in
// docs/BENCHMARKS.md. Run: go test -run '^$' -bench . -benchtime 20x ./transport/

// BenchmarkConnect: a new connection (TCP, key exchange, host key check, publickey auth)
// per iteration.
func BenchmarkConnect(b *testing.B) {
	f := testfleet.Start(b, testfleet.Options{Hosts: 1})
	cfg, _ := benchConfig(b, f)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c, err := Dial(ctx, cfg, PoolOptions{})
		if err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
}

// BenchmarkPooledCommand: one command ("true") on an established connection, through the
// connection's shell and (with MaxSessions 2, which keeps none) on a session of its own;
// reports the median besides Go's mean, and the machine's CPU time per command (the
// host's sshd and shells, and kpx: run it on a quiet machine).
func BenchmarkPooledCommand(b *testing.B) {
	for _, bc := range []struct {
		name        string
		maxSessions int
	}{{"shell", 0}, {"session", 2}} {
		b.Run(bc.name, func(b *testing.B) {
			f := testfleet.Start(b, testfleet.Options{Hosts: 1})
			cfg, _ := benchConfig(b, f)
			c, err := Dial(context.Background(), cfg, PoolOptions{MaxSessions: bc.maxSessions})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			ctx := context.Background()
			durs := make([]time.Duration, 0, b.N)
			cpu0 := machineCPU(b)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				if _, err := c.Run(ctx, Cmd{Argv: []string{"true"}}); err != nil {
					b.Fatal(err)
				}
				durs = append(durs, time.Since(start))
			}
			b.StopTimer()
			b.ReportMetric(float64((machineCPU(b)-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
			reportMedian(b, durs)
		})
	}
}

// machineCPU is the CPU time all of the machine's processors spent busy so far, from
// /proc/stat (user, nice, system, irq, softirq).
func machineCPU(b *testing.B) time.Duration {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		b.Skip("no /proc/stat")
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	var ticks int64
	for _, i := range []int{1, 2, 3, 6, 7} {
		n, _ := strconv.ParseInt(f[i], 10, 64)
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond // USER_HZ is 100 on Linux
}

// BenchmarkRawSession is the floor under BenchmarkPooledCommand: a bare x/crypto/ssh
// session running the same command on the same kind of connection, with no kpx code.
func BenchmarkRawSession(b *testing.B) {
	f := testfleet.Start(b, testfleet.Options{Hosts: 1})
	cfg, _ := benchConfig(b, f)
	c, err := Dial(context.Background(), cfg, PoolOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	cl, _ := c.live()
	durs := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		s, err := cl.NewSession()
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Run("exec true"); err != nil {
			b.Fatal(err)
		}
		s.Close()
		durs = append(durs, time.Since(start))
	}
	b.StopTimer()
	reportMedian(b, durs)
}

func reportMedian(b *testing.B, durs []time.Duration) {
	b.ReportMetric(float64(medianOf(durs).Microseconds())/1000, "ms-median")
}

func BenchmarkUpload(b *testing.B) {
	for _, size := range []int{1 << 20, 100 << 20} {
		b.Run(sizeName(size), func(b *testing.B) {
			f := testfleet.Start(b, testfleet.Options{Hosts: 1})
			cfg, dir := benchConfig(b, f)
			c, err := Dial(context.Background(), cfg, PoolOptions{})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			local, _ := randomFile(b, size)
			remote := filepath.Join(dir, "dst")
			b.SetBytes(int64(size))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := c.Upload(context.Background(), UploadSpec{Local: local, Remote: remote}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkUploadVsSCP compares a kpx upload with OpenSSH's scp on the same fleet, one
// after the other in every iteration, so that load from other processes on a shared
// machine hits both alike. It reports the median throughput of each and their ratio.
// "scp" starts scp with a new connection each time (what a user or Ansible without
// ControlPersist gets); "scp-master" reuses a ControlMaster connection, so it measures
// the transfer alone, like the pooled kpx upload. scp neither fsyncs nor verifies.
func BenchmarkUploadVsSCP(b *testing.B) {
	for _, size := range []int{1 << 20, 100 << 20} {
		b.Run(sizeName(size), func(b *testing.B) { benchVsSCP(b, size) })
	}
}

func benchVsSCP(b *testing.B, size int) {
	f := testfleet.Start(b, testfleet.Options{Hosts: 1})
	scpBin := testfleet.RequireTool(b, "scp")
	sshBin := testfleet.RequireTool(b, "ssh")
	h := f.Hosts[0]
	cfg, dir := benchConfig(b, f)
	c, err := Dial(context.Background(), cfg, PoolOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	local, _ := randomFile(b, size)
	base := []string{"-F", "/dev/null", "-i", f.ClientKey, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
		"-o", "UserKnownHostsFile=" + f.KnownHosts, "-o", "StrictHostKeyChecking=yes"}
	cp := filepath.Join(b.TempDir(), "cm")
	master := append(append([]string{}, base...), "-o", "ControlMaster=auto", "-o", "ControlPath="+cp, "-o", "ControlPersist=120")
	b.Cleanup(func() {
		_ = exec.Command(sshBin, "-o", "ControlPath="+cp, "-O", "exit", "-p", fmt.Sprint(h.Port), cfg.User+"@"+h.Addr).Run()
	})
	scp := func(opts []string, name string) time.Duration {
		args := append(append([]string{"-q", "-P", fmt.Sprint(h.Port)}, opts...), local, cfg.User+"@"+h.Addr+":"+filepath.Join(dir, name))
		start := time.Now()
		if out, err := exec.Command(scpBin, args...).CombinedOutput(); err != nil {
			b.Fatalf("scp: %v\n%s", err, out)
		}
		return time.Since(start)
	}
	scp(master, "warm") // open the master outside the timing
	var kpx, cold, warm []time.Duration
	b.SetBytes(int64(size))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// Each transfer starts with no dirty pages left by the previous one: scp does not
		// fsync, and its write-back would otherwise slow the next kpx fsync.
		settle(b)
		start := time.Now()
		if err := c.Upload(context.Background(), UploadSpec{Local: local, Remote: filepath.Join(dir, "kpx")}); err != nil {
			b.Fatal(err)
		}
		kpx = append(kpx, time.Since(start))
		settle(b)
		cold = append(cold, scp(base, "cold"))
		settle(b)
		warm = append(warm, scp(master, "warm"))
	}
	b.StopTimer()
	mbps := func(d []time.Duration) float64 { return float64(size) / medianOf(d).Seconds() / 1e6 }
	b.ReportMetric(mbps(kpx), "kpx-MB/s")
	b.ReportMetric(mbps(cold), "scp-MB/s")
	b.ReportMetric(mbps(warm), "scp-master-MB/s")
	b.ReportMetric(mbps(kpx)/mbps(cold), "kpx/scp")
	b.ReportMetric(mbps(kpx)/mbps(warm), "kpx/scp-master")
}

// settle flushes dirty pages to disk outside the timing.
func settle(b *testing.B) {
	b.StopTimer()
	syscall.Sync()
	b.StartTimer()
}

func medianOf(durs []time.Duration) time.Duration {
	sort.Slice(durs, func(i, j int) bool { return durs[i] < durs[j] })
	return durs[len(durs)/2]
}

// benchConfig returns a Config for the fleet's first host that logs in as a fresh user
// whose shell is /bin/sh when the benchmark runs as root: the fleet user's own shell
// start-up files (root's ~/.bashrc on the reference machine runs pyenv init, ~150 ms)
// would otherwise be measured instead of the transport.
// The second result is a directory the user can write to.
func benchConfig(b *testing.B, f *testfleet.Fleet) (*Config, string) {
	cfg := fleetConfig(f, f.Hosts[0])
	if os.Geteuid() != 0 {
		return cfg, b.TempDir()
	}
	u := f.AddUser(b, testfleet.UserOptions{})
	cfg.User = u.Name
	return cfg, u.Home
}

func sizeName(n int) string { return fmt.Sprintf("%dMiB", n>>20) }
