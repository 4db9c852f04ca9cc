package transport

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/kpxdev/kpx/internal/testfleet"
)

// stallingServer listens on 127.0.0.1:0; stall decides what each connection does.
func stallingServer(t *testing.T, stall func(net.Conn)) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { close(done); ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				stall(c)
				<-done
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// An in-process x/crypto/ssh server whose authentication never answers.
func stallInAuth(done <-chan struct{}) func(net.Conn) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, _ := ssh.NewSignerFromKey(priv)
	conf := &ssh.ServerConfig{PublicKeyCallback: func(ssh.ConnMetadata, ssh.PublicKey) (*ssh.Permissions, error) {
		<-done
		return nil, errors.New("stalled")
	}}
	conf.AddHostKey(signer)
	return func(c net.Conn) { _, _, _, _ = ssh.NewServerConn(c, conf) }
}

func TestHandshakeStallTimesOut(t *testing.T) {
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	tests := []struct {
		name  string
		stall func(net.Conn)
	}{
		{name: "silent after TCP accept", stall: func(net.Conn) {}},
		{name: "banner only", stall: func(c net.Conn) { _, _ = c.Write([]byte("SSH-2.0-stall\r\n")) }},
		{name: "x/crypto server stalling in auth", stall: stallInAuth(done)},
	}
	_, _, keyPEM := ed25519Key(t)
	key := t.TempDir() + "/id"
	writeFile(t, key, string(keyPEM), 0o600)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			port := stallingServer(t, tt.stall)
			cfg := &Config{Addr: "127.0.0.1", Port: port, User: "u", IdentityFiles: []string{key},
				StrictHostKeyChecking: StrictNo, ConnectTimeout: time.Second}
			start := time.Now()
			_, err := Dial(context.Background(), cfg, PoolOptions{})
			elapsed := time.Since(start)
			wantUnreachable(t, err, "timeout")
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error %v does not match context.DeadlineExceeded", err)
			}
			if elapsed > 10*time.Second {
				t.Errorf("returned after %s with a 1s connect timeout", elapsed)
			}
		})
	}
}

// A peer that stops answering (its link frozen) is detected by keepalives and the next
// command re-dials instead of hanging.
func TestKeepaliveDetectsDeadPeer(t *testing.T) {
	f := testfleet.Start(t, testfleet.Options{Hosts: 1})
	h := f.Hosts[0]
	proxy := startProxy(t, h.Endpoint(), 0)
	cfg := fleetConfig(f, h)
	cfg.Port = proxy.port()
	cfg.ServerAliveInterval = 200 * time.Millisecond
	cfg.ConnectTimeout = 2 * time.Second
	cfg.KnownHostsFiles = []string{t.TempDir() + "/kh"}
	writeFile(t, cfg.KnownHostsFiles[0], "[127.0.0.1]:"+itoa(proxy.port())+" "+string(marshalKey(h)), 0o600)
	c := dialFleet(t, cfg)
	mustRun(t, c, "true")
	old, _ := c.live()
	// A command running when the peer vanishes ends as unreachable, not as a hang.
	started := filepath.Join(t.TempDir(), "started")
	ran := make(chan error, 1)
	go func() {
		_, err := c.Run(testCtx(t), Cmd{Shell: "touch " + Quote(started) + "; sleep 60"})
		ran <- err
	}()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(started); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("command did not start")
		}
	}
	proxy.freeze()
	select {
	case <-old.dead:
	case <-time.After(30 * time.Second):
		t.Fatal("dead peer not detected within 30s (interval 200ms, timeout 2s)")
	}
	select {
	case err := <-ran:
		var ue *UnreachableError
		if !errors.As(err, &ue) {
			t.Errorf("command on a dead connection: %v, want *UnreachableError", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("command on a dead connection did not return")
	}
	mustRun(t, c, "true")
	if c.Dials() != 2 || proxy.accepted.Load() != 2 {
		t.Errorf("dials %d, proxied links %d; want 2 and 2", c.Dials(), proxy.accepted.Load())
	}
}
