// Package etcdtest starts real etcd members (Debian's etcd-server) on loopback ports for
// tests: a single member or a cluster, each member a process with its own data directory,
// which a test can kill and restart. A cluster lives for one test: Start registers its
// teardown with t.Cleanup. When etcd is not installed, tests are skipped, except under
// CI=true, where they fail with the reason.
package etcdtest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Cluster is a running etcd cluster.
type Cluster struct {
	Members []*Member
}

// Member is one etcd process.
type Member struct {
	Name      string
	ClientURL string // http://127.0.0.1:PORT
	Client    string // 127.0.0.1:PORT
	dir       string
	args      []string
	log       string

	mu  sync.Mutex
	cmd *exec.Cmd
}

// Path finds the etcd binary.
func Path() (string, error) {
	if p, err := exec.LookPath("etcd"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("etcd not found (install etcd-server: bash scripts/test-deps)")
}

// Require skips the test when etcd is missing, or fails it under CI=true.
func Require(t testing.TB) string {
	t.Helper()
	p, err := Path()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("etcdtest: %v (CI=true: etcd must run)", err)
		}
		t.Skipf("etcdtest: %v", err)
	}
	return p
}

// freePort asks the kernel for a free loopback port.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Start starts n members as one cluster and waits until it has a leader.
func Start(t testing.TB, n int) *Cluster {
	t.Helper()
	bin := Require(t)
	base := t.TempDir()
	c := &Cluster{}
	var initial []string
	peers := make([]string, n)
	for i := range n {
		peers[i] = fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
		initial = append(initial, fmt.Sprintf("m%d=%s", i, peers[i]))
	}
	for i := range n {
		port := freePort(t)
		m := &Member{Name: fmt.Sprintf("m%d", i), Client: fmt.Sprintf("127.0.0.1:%d", port),
			dir: filepath.Join(base, fmt.Sprintf("m%d", i))}
		m.ClientURL = "http://" + m.Client
		m.log = m.dir + ".log"
		m.args = []string{bin,
			"--name", m.Name, "--data-dir", m.dir,
			"--listen-client-urls", m.ClientURL, "--advertise-client-urls", m.ClientURL,
			"--listen-peer-urls", peers[i], "--initial-advertise-peer-urls", peers[i],
			"--initial-cluster", strings.Join(initial, ","), "--initial-cluster-state", "new",
			"--initial-cluster-token", filepath.Base(base),
			"--heartbeat-interval", "100", "--election-timeout", "1000",
			"--logger", "zap", "--log-outputs", "stderr",
		}
		c.Members = append(c.Members, m)
	}
	for _, m := range c.Members {
		if err := m.start(); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(c.Stop)
	if err := c.WaitHealthy(60 * time.Second); err != nil {
		for _, m := range c.Members {
			b, _ := os.ReadFile(m.log)
			t.Logf("%s log:\n%s", m.Name, tail(string(b), 3000))
		}
		t.Fatal(err)
	}
	return c
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func (m *Member) start() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	logf, err := os.OpenFile(m.log, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(m.args[0], m.args[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Killed with the test binary, so that no member outlives a crashed test.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("etcdtest: start %s: %w", m.Name, err)
	}
	m.cmd = cmd
	go func() { _ = cmd.Wait() }()
	return nil
}

// Kill stops the member with SIGKILL, as when its machine dies. It is idempotent.
func (m *Member) Kill() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd != nil {
		_ = m.cmd.Process.Kill()
		m.cmd = nil
	}
}

// Restart starts a killed member again on its data directory.
func (m *Member) Restart() error {
	m.Kill()
	return m.start()
}

// Endpoints are the members' client addresses.
func (c *Cluster) Endpoints() []string {
	var out []string
	for _, m := range c.Members {
		out = append(out, m.Client)
	}
	return out
}

// URL is a kpx --journal URL for the cluster with prefix and query (may be empty).
func (c *Cluster) URL(prefix, query string) string {
	u := "etcd://" + strings.Join(c.Endpoints(), ",") + prefix
	if query != "" {
		u += "?" + query
	}
	return u
}

// Stop kills every member.
func (c *Cluster) Stop() {
	for _, m := range c.Members {
		m.Kill()
	}
}

// WaitHealthy waits until a live member reports the cluster healthy (a leader, and a
// quorum that answers).
func (c *Cluster) WaitHealthy(d time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var last error
	for ctx.Err() == nil {
		for _, m := range c.Members {
			m.mu.Lock()
			up := m.cmd != nil
			m.mu.Unlock()
			if !up {
				continue
			}
			if last = m.healthy(ctx); last == nil {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("etcdtest: cluster not healthy after %s: %v", d, last)
}

func (m *Member) healthy(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, m.ClientURL+"/health", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var buf [256]byte
	n, _ := resp.Body.Read(buf[:])
	if !strings.Contains(string(buf[:n]), `"health":"true"`) {
		return fmt.Errorf("%s: %s", m.Name, buf[:n])
	}
	return nil
}
