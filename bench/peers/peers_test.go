// Package peers benchmarks kpx against its peers on fleets of real OpenSSH hosts on
// loopback, side by side in one run: a playbook (three commands, a 1 MiB copy, a template)
// under `kpx run`, ansible-playbook (pipelining, ControlPersist) and ansible-playbook with
// Mitogen's strategy; and a raw fan-out (`uptime` on every host) under `kpx exec`,
// `ansible -m raw` and parallel-ssh. Runs are interleaved (one of each tool per round) so
// that load from elsewhere hits every tool alike. Run it with `make bench` (bench/run);
// it is skipped unless KPX_BENCH=1.
//
// Environment: KPX_BENCH_HOSTS (fleet sizes, default "50 200"), KPX_BENCH_RUNS (rounds,
// default 5), KPX_BENCH_FORKS (default 50), KPX_BENCH_OUT (directory for the tables,
// samples and CPU profiles; default a temporary directory, printed), KPX_BENCH_ONLY
// (comma list of tool names to run, e.g. "kpx-run,kpx-exec"), KPX_BENCH_KPX (the kpx binary;
// default: built from this tree), KPX_BENCH_BUDGET (a duration per fleet size: once spent,
// a tool runs again only if its last run fits in what is left).
package peers

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kpxdev/kpx/bench/measure"
	"github.com/kpxdev/kpx/internal/testfleet"
)

// mitogenStrategies is where Debian's ansible-mitogen package puts Mitogen's strategy
// plugins.
const mitogenStrategies = "/usr/lib/python3/dist-packages/ansible_mitogen/plugins/strategy"

// connectTimeout is every tool's SSH connect timeout, in seconds.
const connectTimeout = 60

// bench is one fleet size's set-up: the fleet's first Hosts hosts.
type bench struct {
	t          *testing.T
	fleet      *testfleet.Fleet
	hosts      int
	forks      string
	inventory  string // INI inventory of the hosts, group "fleet"
	psshHosts  string // parallel-ssh's host file
	playDir    string // the playbook with files/ and templates/
	kpx        string // the kpx binary
	out        string // results directory
	scratchDir string // where the hosts' files go (bench_dir, one per run)
}

// tool is one program under test; args builds its command for a run.
type tool struct {
	name string
	kind string // "playbook" or "fanout"
	cmd  func(b *bench, run int) *exec.Cmd
}

func tools() []tool {
	return []tool{
		{"kpx-run", "playbook", (*bench).kpxRun},
		{"ansible-playbook", "playbook", (*bench).ansiblePlaybook},
		{"ansible-mitogen", "playbook", (*bench).ansibleMitogen},
		{"kpx-exec", "fanout", (*bench).kpxExec},
		{"ansible-raw", "fanout", (*bench).ansibleRaw},
		{"parallel-ssh", "fanout", (*bench).parallelSSH},
	}
}

func TestPeers(t *testing.T) {
	if os.Getenv("KPX_BENCH") != "1" {
		t.Skip("set KPX_BENCH=1 (make bench)")
	}
	sizes := []int{50, 200}
	if s := os.Getenv("KPX_BENCH_HOSTS"); s != "" {
		sizes = nil
		for _, f := range strings.Fields(s) {
			n, err := strconv.Atoi(f)
			if err != nil || n < 1 {
				t.Fatalf("KPX_BENCH_HOSTS: %q is not a number of hosts", f)
			}
			sizes = append(sizes, n)
		}
	}
	runs := envInt(t, "KPX_BENCH_RUNS", 5)
	forks := envInt(t, "KPX_BENCH_FORKS", 50)
	out := os.Getenv("KPX_BENCH_OUT")
	if out == "" {
		out = t.TempDir()
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := measure.SubReaper(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"ansible", "ansible-playbook", "parallel-ssh"} {
		testfleet.RequireTool(t, p)
	}
	kpx := os.Getenv("KPX_BENCH_KPX")
	if kpx == "" {
		kpx = filepath.Join(t.TempDir(), "kpx")
		if b, err := exec.Command("go", "build", "-trimpath", "-o", kpx, "../../cmd/kpx").CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, b)
		}
	}
	largest := 0
	for _, n := range sizes {
		largest = max(largest, n)
	}
	fleet := testfleet.Start(t, testfleet.Options{Hosts: largest})
	playDir := preparePlaybook(t)
	for _, n := range sizes {
		b := &bench{t: t, fleet: fleet, hosts: n, forks: strconv.Itoa(forks), kpx: kpx, out: out, playDir: playDir,
			scratchDir: t.TempDir()}
		b.writeInventories()
		b.run(runs)
		b.profile()
	}
	t.Logf("results in %s", out)
}

func envInt(t *testing.T, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		t.Fatalf("%s: %q is not a positive number", name, s)
	}
	return n
}

// preparePlaybook copies the playbook and its template to a directory and writes the
// 1 MiB file the copy task sends (random bytes: nothing compresses it on the way).
func preparePlaybook(t *testing.T) string {
	dir := t.TempDir()
	for _, f := range []string{"site.yml", "templates/motd.j2"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Join(dir, filepath.Dir(f)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	blob := make([]byte, 1<<20)
	rand.Read(blob)
	os.MkdirAll(filepath.Join(dir, "files"), 0o755)
	if err := os.WriteFile(filepath.Join(dir, "files", "blob.bin"), blob, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// writeInventories writes the Ansible inventory (the fleet's, for the first b.hosts
// hosts) and parallel-ssh's host file.
func (b *bench) writeInventories() {
	f := b.fleet
	var inv, pssh strings.Builder
	fmt.Fprintf(&inv, "[fleet]\n")
	for _, h := range f.Hosts[:b.hosts] {
		fmt.Fprintf(&inv, "%s ansible_host=%s ansible_port=%d\n", h.Name, h.Addr, h.Port)
		fmt.Fprintf(&pssh, "%s@%s:%d\n", f.User, h.Addr, h.Port)
	}
	// A connect timeout of 60 s rather than 10 (every tool's default): on a loaded 2-core
	// machine a handshake with 200 hosts at once can take longer, and a run with an
	// unreachable host measures nothing.
	fmt.Fprintf(&inv, "\n[fleet:vars]\nansible_user=%s\nansible_ssh_private_key_file=%s\nansible_ssh_timeout=%d\n", f.User, f.ClientKey, connectTimeout)
	fmt.Fprintf(&inv, "ansible_ssh_common_args='-o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes'\n", f.KnownHosts)
	dir := b.t.TempDir()
	b.inventory = filepath.Join(dir, "inventory.ini")
	b.psshHosts = filepath.Join(dir, "pssh-hosts")
	if err := os.WriteFile(b.inventory, []byte(inv.String()), 0o644); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(b.psshHosts, []byte(pssh.String()), 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// benchDir is run's fresh directory on the hosts (they share this machine's file system;
// each host writes under its own name).
func (b *bench) benchDir(run int) string {
	return filepath.Join(b.scratchDir, fmt.Sprintf("run%03d", run))
}

func (b *bench) kpxRun(run int) *exec.Cmd {
	cmd := exec.Command(b.kpx, "run", "--ui", "plain", "-f", b.forks, "-i", b.inventory,
		"-e", "bench_dir="+b.benchDir(run), filepath.Join(b.playDir, "site.yml"))
	cmd.Env = append(os.Environ(), "KPX_STATE_DIR="+b.t.TempDir())
	return cmd
}

// ansibleEnv is Ansible's configuration for the benchmark: the test fleet's (no user
// configuration), with pipelining on and Ansible's default ControlPersist SSH arguments,
// and a fresh ControlPath directory per run: no run inherits another's masters.
func (b *bench) ansibleEnv() []string {
	dir := b.t.TempDir()
	return append(testfleet.AnsibleEnv(dir),
		"ANSIBLE_PIPELINING=1",
		"ANSIBLE_SSH_ARGS=-C -o ControlMaster=auto -o ControlPersist=60s",
		"ANSIBLE_SSH_CONTROL_PATH_DIR="+filepath.Join(dir, "cp"))
}

func (b *bench) ansiblePlaybook(run int) *exec.Cmd {
	cmd := exec.Command("ansible-playbook", "-f", b.forks, "-i", b.inventory,
		"-e", "bench_dir="+b.benchDir(run), filepath.Join(b.playDir, "site.yml"))
	cmd.Env = b.ansibleEnv()
	return cmd
}

func (b *bench) ansibleMitogen(run int) *exec.Cmd {
	cmd := b.ansiblePlaybook(run)
	cmd.Env = append(cmd.Env, "ANSIBLE_STRATEGY_PLUGINS="+mitogenStrategies, "ANSIBLE_STRATEGY=mitogen_linear")
	return cmd
}

func (b *bench) kpxExec(int) *exec.Cmd {
	return exec.Command(b.kpx, "exec", "fleet", "-f", b.forks, "-i", b.inventory, "--", "uptime")
}

func (b *bench) ansibleRaw(int) *exec.Cmd {
	cmd := exec.Command("ansible", "fleet", "-f", b.forks, "-i", b.inventory, "-m", "raw", "-a", "uptime")
	cmd.Env = b.ansibleEnv()
	return cmd
}

func (b *bench) parallelSSH(int) *exec.Cmd {
	f := b.fleet
	ssh := fmt.Sprintf("-F /dev/null -i %s -o IdentitiesOnly=yes -o BatchMode=yes -o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes -o ConnectTimeout=%d",
		f.ClientKey, f.KnownHosts, connectTimeout)
	return exec.Command("parallel-ssh", "-h", b.psshHosts, "-p", b.forks, "-t", "0", "-i", "-x", ssh, "uptime")
}

// run runs every tool runs times, interleaved, and writes the table.
func (b *bench) run(runs int) {
	only := map[string]bool{}
	for _, n := range strings.Split(os.Getenv("KPX_BENCH_ONLY"), ",") {
		if n != "" {
			only[n] = true
		}
	}
	var results []*result
	for _, tl := range tools() {
		if len(only) == 0 || only[tl.name] {
			results = append(results, &result{Tool: tl.name, Kind: tl.kind, Hosts: b.hosts, Forks: b.forks})
		}
	}
	byName := map[string]tool{}
	for _, tl := range tools() {
		byName[tl.name] = tl
	}
	// KPX_BENCH_BUDGET bounds the rounds: a tool runs again only while the time left is
	// more than its last run took, so that slow peers get fewer runs rather than none.
	deadline := time.Time{}
	if d, err := time.ParseDuration(os.Getenv("KPX_BENCH_BUDGET")); err == nil && d > 0 {
		deadline = time.Now().Add(d)
	}
	fits := func(r *result) bool {
		return deadline.IsZero() || len(r.Wall) == 0 || time.Until(deadline).Seconds() > r.Wall[len(r.Wall)-1]
	}
	seq := 0
	for round := 1; round <= runs; round++ {
		for _, r := range results {
			if r.Failure != "" {
				continue
			}
			if !fits(r) {
				b.t.Logf("%d hosts, round %d, %s: skipped, the time budget (KPX_BENCH_BUDGET) is spent", b.hosts, round, r.Tool)
				continue
			}
			seq++
			cmd := byName[r.Tool].cmd(b, seq)
			s, err := measure.Run(cmd)
			os.RemoveAll(b.benchDir(seq))
			switch {
			case err != nil:
				r.Failure = err.Error()
			case s.Exit != 0:
				r.Failure = fmt.Sprintf("exit status %d:\n%s", s.Exit, tail(s.Output, 40))
			}
			if r.Failure != "" {
				os.WriteFile(filepath.Join(b.out, fmt.Sprintf("output-%d-%s-failed.txt", b.hosts, r.Tool)), s.Output, 0o644)
				b.t.Logf("%d hosts, round %d, %s: FAILED (not run again): %s", b.hosts, round, r.Tool, r.Failure)
				continue
			}
			r.Samples = append(r.Samples, s)
			r.Wall = append(r.Wall, measure.Wall(s))
			r.CPU = append(r.CPU, measure.CPU(s))
			r.PeakMiB = append(r.PeakMiB, measure.PeakMiB(s))
			r.TargetCPU = append(r.TargetCPU, measure.TargetCPU(s))
			b.t.Logf("%d hosts, round %d, %-16s wall %7.2fs  cpu %7.2fs  peak %7.1f MiB  hosts' cpu %7.2fs", b.hosts, round, r.Tool,
				measure.Wall(s), measure.CPU(s), measure.PeakMiB(s), measure.TargetCPU(s))
			if round == 1 {
				os.WriteFile(filepath.Join(b.out, fmt.Sprintf("output-%d-%s.txt", b.hosts, r.Tool)), s.Output, 0o644)
			}
		}
	}
	table := formatTable(b.hosts, b.forks, results)
	fmt.Print(table)
	os.WriteFile(filepath.Join(b.out, fmt.Sprintf("table-%d.md", b.hosts)), []byte(table), 0o644)
	js, _ := json.MarshalIndent(results, "", "  ")
	os.WriteFile(filepath.Join(b.out, fmt.Sprintf("samples-%d.json", b.hosts)), js, 0o644)
}

// profile runs kpx once more per benchmark, outside the timed rounds, with --cpuprofile.
func (b *bench) profile() {
	for _, c := range []struct {
		name string
		cmd  *exec.Cmd
	}{
		{"kpx-run", b.kpxRun(9000 + b.hosts)},
		{"kpx-exec", b.kpxExec(0)},
	} {
		prof := filepath.Join(b.out, fmt.Sprintf("cpu-%d-%s.pprof", b.hosts, c.name))
		c.cmd.Args = append(c.cmd.Args[:2], append([]string{"--cpuprofile", prof}, c.cmd.Args[2:]...)...)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		s, err := measure.Run(c.cmd)
		cancel()
		_ = ctx
		os.RemoveAll(b.benchDir(9000 + b.hosts))
		if err != nil || s.Exit != 0 {
			b.t.Logf("profile %s: %v exit %d\n%s", c.name, err, s.Exit, tail(s.Output, 20))
			continue
		}
		b.t.Logf("profile %s (%d hosts): %s, wall %.2fs cpu %.2fs", c.name, b.hosts, prof, measure.Wall(s), measure.CPU(s))
	}
}

func tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
