package simfleet_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/kpxdev/kpx/internal/simfleet"
	"github.com/kpxdev/kpx/inventory"
	"github.com/kpxdev/kpx/transport"
)

func startFleet(t *testing.T, opts simfleet.Options) *simfleet.Fleet {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	f, err := simfleet.Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// configs reads the fleet's inventory as kpx does and returns each host's SSH config.
func configs(t *testing.T, f *simfleet.Fleet) map[string]*transport.Config {
	t.Helper()
	inv, err := inventory.Load([]string{f.Inventory})
	if err != nil {
		t.Fatal(err)
	}
	hv := transport.HostVarsOptions{Home: t.TempDir(), LocalUser: "nobody"}
	out := map[string]*transport.Config{}
	for _, h := range f.Hosts {
		cfg, warnings, err := transport.FromHostVars(h.Name, inv.HostVars(h.Name), hv)
		if err != nil || len(warnings) > 0 {
			t.Fatalf("%s: %v %v", h.Name, err, warnings)
		}
		cfg.ConnectTimeout = 30 * time.Second
		out[h.Name] = cfg
	}
	return out
}

func TestInventoryGroupsAndTransport(t *testing.T) {
	f := startFleet(t, simfleet.Options{Groups: []simfleet.Group{
		{Name: "web", Hosts: []string{"web1", "web2"}},
		{Name: "db", Hosts: []string{"db1", "web2"}, Vars: map[string]string{"role": "database"}},
		{Name: "prod", Children: []string{"web", "db"}},
	}})
	inv, err := inventory.Load([]string{f.Inventory})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		pattern string
		want    string
	}{{"web", "web1 web2"}, {"db", "db1 web2"}, {"prod", "web1 web2 db1"}, {"all", "web1 web2 db1"}} {
		hosts, _, err := inv.MatchLimit(tc.pattern, "")
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, h := range hosts {
			names = append(names, h.Name)
		}
		if got := strings.Join(names, " "); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.pattern, got, tc.want)
		}
	}
	if v := inv.HostVars("db1")["role"]; v != "database" {
		t.Errorf("db1 role = %v", v)
	}

	pool := transport.NewPool(transport.PoolOptions{})
	defer pool.Close()
	ctx := context.Background()
	for name, cfg := range configs(t, f) {
		c, err := pool.Get(ctx, cfg)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		res, err := c.Run(ctx, transport.Cmd{Shell: `echo "$SIMFLEET_HOST $HOME $(pwd)"`})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		dir := f.Host(name).Dir
		if want := name + " " + dir + " " + dir + "\n"; string(res.Stdout) != want {
			t.Errorf("%s: got %q, want %q", name, res.Stdout, want)
		}
	}
}

func TestRun(t *testing.T) {
	f := startFleet(t, simfleet.Options{Hosts: 1, Prepare: func(_ context.Context, h *simfleet.Host) (map[string]string, error) {
		return map[string]string{"KERNEL": "6.1.0-sim-" + h.Name}, os.WriteFile(filepath.Join(h.Dir, "motd"), []byte("hello"), 0o644)
	}})
	cfg := configs(t, f)["host0001"]
	pool := transport.NewPool(transport.PoolOptions{})
	defer pool.Close()
	ctx := context.Background()
	c, err := pool.Get(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		cmd        transport.Cmd
		stdout     string
		stderr     string
		status     int
		wantErr    bool
		wantSignal string
	}{
		{name: "argv", cmd: transport.Cmd{Argv: []string{"printf", "%s|", "a b", "c"}}, stdout: "a b|c|"},
		{name: "prepared env and sandbox", cmd: transport.Cmd{Shell: `echo "$KERNEL"; cat motd`}, stdout: "6.1.0-sim-host0001\nhello"},
		{name: "cmd env", cmd: transport.Cmd{Shell: `echo "$X"`, Env: map[string]string{"X": "it's"}}, stdout: "it's\n"},
		{name: "stdin", cmd: transport.Cmd{Argv: []string{"tr", "a-z", "A-Z"}, Stdin: strings.NewReader("up")}, stdout: "UP"},
		{name: "stderr and status", cmd: transport.Cmd{Shell: "echo oops >&2; exit 3"}, stderr: "oops\n", status: 3, wantErr: true},
		// On a session of its own (stdin set) a command reports the signal that ended it;
		// through the connection's kept shell, as a shell does: 128+n.
		{name: "signal", cmd: transport.Cmd{Shell: "kill -TERM $$", Stdin: strings.NewReader("")}, status: -1, wantErr: true, wantSignal: "TERM"},
		{name: "signal through the shell", cmd: transport.Cmd{Shell: "kill -TERM $$"}, status: 143, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := c.Run(ctx, tc.cmd)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			if string(res.Stdout) != tc.stdout || string(res.Stderr) != tc.stderr || res.ExitStatus != tc.status || res.Signal != tc.wantSignal {
				t.Errorf("got stdout %q stderr %q status %d signal %q", res.Stdout, res.Stderr, res.ExitStatus, res.Signal)
			}
			var ee *transport.ExitError
			if tc.wantErr && !errors.As(err, &ee) {
				t.Errorf("err %v is not an *ExitError", err)
			}
		})
	}
}

// TestQuickCommandsAnswered runs many commands that end at once: the exec request's
// answer must reach the client before the command's exit closes the channel.
func TestQuickCommandsAnswered(t *testing.T) {
	f := startFleet(t, simfleet.Options{Hosts: 1})
	c, err := transport.Dial(context.Background(), configs(t, f)["host0001"], transport.PoolOptions{MaxSessions: 20})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	errs := make(chan error, 200)
	for range 200 {
		go func() {
			_, err := c.Run(context.Background(), transport.Cmd{Shell: "exit 0"})
			errs <- err
		}()
	}
	for range 200 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func TestUploadDownload(t *testing.T) {
	f := startFleet(t, simfleet.Options{Hosts: 1})
	cfg := configs(t, f)["host0001"]
	c, err := transport.Dial(context.Background(), cfg, transport.PoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	data := bytes.Repeat([]byte("live patch module "), 50000) // ~900 KB: several SFTP packets
	local := filepath.Join(t.TempDir(), "patch.ko")
	if err := os.WriteFile(local, data, 0o644); err != nil {
		t.Fatal(err)
	}
	remote := filepath.Join(f.Host("host0001").Dir, "lib", "patch.ko")
	ctx := context.Background()
	if _, err := c.Run(ctx, transport.Cmd{Shell: "mkdir -p lib"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Upload(ctx, transport.UploadSpec{Local: local, Remote: remote, Mode: 0o600}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(remote)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("uploaded file differs (%v)", err)
	}
	if fi, _ := os.Stat(remote); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode())
	}
	sum := sha256.Sum256(data)
	res, err := c.Run(ctx, transport.Cmd{Shell: "sha256sum lib/patch.ko"})
	if err != nil || !strings.HasPrefix(string(res.Stdout), hex.EncodeToString(sum[:])) {
		t.Errorf("remote sha256: %q %v", res.Stdout, err)
	}
	back := filepath.Join(t.TempDir(), "back.ko")
	if err := c.Download(ctx, remote, back); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(back); !bytes.Equal(got, data) {
		t.Error("downloaded file differs")
	}
}

func TestWrongHostKeyRefused(t *testing.T) {
	f := startFleet(t, simfleet.Options{Hosts: 2})
	cfgs := configs(t, f)
	// host0001's known_hosts line, but naming host0002's address: the key is wrong.
	kh, err := os.ReadFile(f.KnownHosts)
	if err != nil {
		t.Fatal(err)
	}
	h1, h2 := f.Host("host0001"), f.Host("host0002")
	var wrong string
	for _, line := range strings.Split(string(kh), "\n") {
		if strings.HasPrefix(line, h1.KnownHostsName()+" ") {
			wrong = h2.KnownHostsName() + strings.TrimPrefix(line, h1.KnownHostsName()) + "\n"
		}
	}
	bad := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(bad, []byte(wrong), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := *cfgs["host0002"]
	cfg.KnownHostsFiles = []string{bad}
	_, err = transport.Dial(context.Background(), &cfg, transport.PoolOptions{})
	var hk *transport.HostKeyError
	if !errors.As(err, &hk) || !hk.Changed {
		t.Fatalf("want a changed-host-key error, got %v", err)
	}
	if hk.Fingerprint != sshFingerprint(h2) {
		t.Errorf("error names fingerprint %s, want host0002's %s", hk.Fingerprint, sshFingerprint(h2))
	}
	if h2.Sessions() != 0 {
		t.Errorf("a session ran on a host whose key was refused")
	}
}

func TestStalledHandshakeTimesOut(t *testing.T) {
	f := startFleet(t, simfleet.Options{Hosts: 1})
	f.Host("host0001").Stall(true)
	cfg := *configs(t, f)["host0001"]
	cfg.ConnectTimeout = 500 * time.Millisecond
	start := time.Now()
	_, err := transport.Dial(context.Background(), &cfg, transport.PoolOptions{})
	var ue *transport.UnreachableError
	if !errors.As(err, &ue) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want an unreachable timeout, got %v", err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("timed out after %s", d)
	}
}

func TestCancelKillsCommandAndCloseCleansUp(t *testing.T) {
	before := runtime.NumGoroutine()
	dir := t.TempDir()
	f, err := simfleet.Start(context.Background(), simfleet.Options{Hosts: 2, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	cfgs := configs(t, f)
	pool := transport.NewPool(transport.PoolOptions{})
	ctx := context.Background()
	c, err := pool.Get(ctx, cfgs["host0001"])
	if err != nil {
		t.Fatal(err)
	}
	pidFile := filepath.Join(dir, "pid")
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := c.Run(cctx, transport.Cmd{Shell: "echo $$ > " + pidFile + "; exec sleep 300"})
		done <- err
	}()
	pid := waitPID(t, pidFile)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled run: %v", err)
	}
	waitGone(t, pid)

	// A command still running when the fleet closes is killed with it.
	c2, err := pool.Get(ctx, cfgs["host0002"])
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(pidFile)
	go func() {
		_, err := c2.Run(ctx, transport.Cmd{Shell: "echo $$ > " + pidFile + "; sleep 300 & wait"})
		done <- err
	}()
	pid = waitPID(t, pidFile)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	waitGone(t, pid)
	if err := <-done; err == nil {
		t.Error("command on a closed fleet succeeded")
	}
	pool.Close()
	deadline := time.Now().Add(30 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines after Close, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

func waitPID(t *testing.T, file string) int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(file)
		var pid int
		if err == nil && len(b) > 0 && b[len(b)-1] == '\n' {
			if _, err := fmtSscan(string(b), &pid); err == nil {
				return pid
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("command did not start")
	return 0
}

// waitGone waits until the process group led by pid has no process left.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if !groupAlive(pid) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("process group %d still running", pid)
}
