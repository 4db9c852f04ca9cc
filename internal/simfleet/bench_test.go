package simfleet_test

import (
	"context"
	"testing"

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
