package transport

import (
	"context"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The contract both connection types keep (consumers declare their own subsets).
type contract interface {
	Run(context.Context, Cmd) (Result, error)
	Upload(context.Context, UploadSpec) error
	Download(ctx context.Context, remote, local string) error
	Close() error
}

var (
	_ contract = (*SSHConn)(nil)
	_ contract = (*LocalConn)(nil)
)

// Five hosts that never answer, MaxDials 2: two connection attempts are made, and no
// third while they are outstanding.
func TestPoolBoundsDials(t *testing.T) {
	var accepted atomic.Int32
	hold := func(c net.Conn) {
		accepted.Add(1)
		_, _ = io.Copy(io.Discard, c) // until the client gives up and closes
	}
	p := NewPool(PoolOptions{MaxDials: 2})
	defer p.Close()
	_, _, keyPEM := ed25519Key(t)
	key := t.TempDir() + "/id"
	writeFile(t, key, string(keyPEM), 0o600)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for i := 0; i < 5; i++ {
		port := stallingServer(t, hold)
		wg.Add(1)
		go func() {
			defer wg.Done()
			cfg := &Config{Addr: "127.0.0.1", Port: port, User: "u", IdentityFiles: []string{key},
				StrictHostKeyChecking: StrictNo, ConnectTimeout: time.Minute}
			if _, err := p.Get(ctx, cfg); err == nil {
				t.Error("dial to a silent server succeeded")
			}
		}()
	}
	deadline := time.Now().Add(30 * time.Second)
	for accepted.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // room for a third dial, were dialing unbounded
	if got := accepted.Load(); got != 2 {
		t.Errorf("%d connection attempts outstanding, want 2 (MaxDials)", got)
	}
	cancel()
	wg.Wait()
}
