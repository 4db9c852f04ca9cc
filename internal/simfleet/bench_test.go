package simfleet_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/kpxdev/kpx/internal/simfleet"
	"github.com/kpxdev/kpx/transport"
)

// BenchmarkConnect measures a new kpx connection to a simulated host: TCP, key exchange,
// host key verified against known_hosts, publickey authentication.
func BenchmarkConnect(b *testing.B) {
	f, err := simfleet.Start(context.Background(), simfleet.Options{Hosts: 1, Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	cfg := benchConfig(b, f)
	for b.Loop() {
		c, err := transport.Dial(context.Background(), cfg, transport.PoolOptions{})
		if err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
}

// BenchmarkPooledCommand measures one command (a real /bin/sh running `true`) on an
// established connection.
func BenchmarkPooledCommand(b *testing.B) {
	f, err := simfleet.Start(context.Background(), simfleet.Options{Hosts: 1, Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	c, err := transport.Dial(context.Background(), benchConfig(b, f), transport.PoolOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	for b.Loop() {
		if _, err := c.Run(context.Background(), transport.Cmd{Argv: []string{"true"}}); err != nil {
			b.Fatal(err)
		}
	}
}

func benchConfig(b *testing.B, f *simfleet.Fleet) *transport.Config {
	h := f.Hosts[0]
	return &transport.Config{Name: h.Name, Addr: h.Addr, Port: h.Port, User: f.User,
		IdentityFiles: []string{f.ClientKey}, IdentitiesOnly: true, KnownHostsFiles: []string{f.KnownHosts}}
}

// BenchmarkPoolMemoryPerHost measures the controller's memory per pooled connection: 500
// hosts, one command each through one transport.Pool, then the Go heap in use (after a GC)
// and the goroutines, per host. The fleet's own servers live in the same process, so the
// heap is measured with and without the pool's connections.
func BenchmarkPoolMemoryPerHost(b *testing.B) {
	const n = 500
	if err := simfleet.RaiseOpenFiles(4*n + 1024); err != nil {
		b.Skip(err)
	}
	f, err := simfleet.Start(context.Background(), simfleet.Options{Hosts: n, Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	for b.Loop() {
		before, g0 := heapInUse()
		pool := transport.NewPool(transport.PoolOptions{MaxDials: 50})
		sem := make(chan struct{}, 50)
		errs := make(chan error, n)
		for _, h := range f.Hosts {
			sem <- struct{}{}
			go func() {
				defer func() { <-sem }()
				cfg := &transport.Config{Name: h.Name, Addr: h.Addr, Port: h.Port, User: f.User,
					IdentityFiles: []string{f.ClientKey}, IdentitiesOnly: true, KnownHostsFiles: []string{f.KnownHosts}}
				c, err := pool.Get(context.Background(), cfg)
				if err == nil {
					_, err = c.Run(context.Background(), transport.Cmd{Argv: []string{"true"}})
				}
				errs <- err
			}()
		}
		for range n {
			if err := <-errs; err != nil {
				b.Fatal(err)
			}
		}
		with, g1 := heapInUse()
		pool.Close()
		time.Sleep(time.Second)
		after, g2 := heapInUse()
		b.ReportMetric(float64(with-before)/n/1024, "heapKB/host")
		b.ReportMetric(float64(with-after)/n/1024, "clientHeapKB/host")
		b.ReportMetric(float64(g1-g0)/n, "goroutines/host")
		b.ReportMetric(float64(g1-g2)/n, "clientGoroutines/host")
	}
}

func heapInUse() (uint64, int) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse, runtime.NumGoroutine()
}
