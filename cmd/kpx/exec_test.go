package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/kpxdev/kpx/internal/testfleet"
	"github.com/kpxdev/kpx/rollout"
)

// execInventory is the fleet's inventory plus a host nothing answers for (a port that was
// listening a moment ago and is closed now), in the group "down".
func execInventory(t *testing.T, f *testfleet.Fleet) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	base, err := os.ReadFile(f.Inventory)
	if err != nil {
		t.Fatal(err)
	}
	// The fleet's [fleet:vars] apply to the down host too, when it is a member.
	inv := strings.Replace(string(base), "[fleet:vars]",
		fmt.Sprintf("[down]\ndown01 ansible_host=127.0.0.1 ansible_port=%d\n\n[fleet:children]\ndown\n\n[fleet:vars]", port), 1)
	inv = strings.Replace(inv, "[fleet]\n", "[fleet]\n", 1)
	p := filepath.Join(t.TempDir(), "inventory.ini")
	if err := os.WriteFile(p, []byte(inv), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// adhocBlocks splits ad-hoc output into one block per host, keyed by host, after
// removing what differs between the tools for reasons of transport, not of kpx: Ansible
// runs raw commands on a pseudo-terminal (CRLF line ends, stderr merged into stdout, and
// OpenSSH's "Connection to ... closed." line), and the wording of connection errors.
func adhocBlocks(out string) map[string]string {
	out = strings.ReplaceAll(out, "\r", "")
	out = regexp.MustCompile(`(?m)^(Shared c|C)onnection to \S+ closed\.\n`).ReplaceAllString(out, "")
	out = regexp.MustCompile(`"msg": ".*"`).ReplaceAllString(out, `"msg": "MSG"`)
	blocks := map[string]string{}
	head := regexp.MustCompile(`(?m)^(\S+) \| `)
	idx := head.FindAllStringSubmatchIndex(out, -1)
	for i, m := range idx {
		end := len(out)
		if i+1 < len(idx) {
			end = idx[i+1][0]
		}
		blocks[out[m[2]:m[3]]] = out[m[0]:end]
	}
	return blocks
}

// TestExecMatchesAnsibleRaw runs the same ad-hoc commands with kpx exec and with
// `ansible PATTERN -m raw -a CMD` on one OpenSSH fleet and compares each host's output
// and the exit status.
func TestExecMatchesAnsibleRaw(t *testing.T) {
	f := testfleet.Start(t, testfleet.Options{Hosts: 3})
	ansible := testfleet.RequireTool(t, "ansible")
	inv := execInventory(t, f)
	// Each host's sessions get KPX_HOST_DIR, its own state directory: host02 fails.
	const mixed = `case "$KPX_HOST_DIR" in */host02*) echo broken; exit 3;; esac; echo fine`
	cases := []struct {
		name     string
		pattern  string
		cmd      string
		wantCode int
	}{
		{"all succeed", "fleet:!down", "echo hello; echo to-stderr >&2", ExitOK},
		{"one fails", "fleet:!down", mixed, ExitHostFailed},
		{"unreachable wins over failed", "all", mixed, ExitUnreachable},
		{"no host matches", "nosuchgroup", "true", ExitOK},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			want, wantCode := testfleet.RunAnsible(ctx, t, f.Dir, ansible, c.pattern, "-i", inv, "-f", "5", "-T", "5", "-m", "raw", "-a", c.cmd)
			var out, errOut bytes.Buffer
			code := run(ctx, []string{"exec", c.pattern, "-i", inv, "-f", "5", "-T", "5", "--", c.cmd}, &out, &errOut)
			if code != wantCode || code != c.wantCode {
				t.Errorf("exit code %d, ansible %d, want %d\nstderr: %s", code, wantCode, c.wantCode, errOut.String())
			}
			t.Logf("--- kpx exec\n%s--- ansible -m raw\n%s", out.String(), want)
			g, w := adhocBlocks(out.String()), adhocBlocks(string(want))
			if len(g) != len(w) {
				t.Errorf("kpx reported %d hosts, ansible %d\n--- kpx\n%s--- ansible\n%s", len(g), len(w), out.String(), want)
			}
			for host, wb := range w {
				if d := testfleet.Diff(g[host], wb); d != "" {
					t.Errorf("host %s: kpx exec and ansible differ: %s\n--- kpx\n%s--- ansible\n%s", host, d, g[host], wb)
				}
			}
		})
	}
}

// TestExecJSON checks --ui json: one host_result event per host, as kpx run writes them.
func TestExecJSON(t *testing.T) {
	f := testfleet.Start(t, testfleet.Options{Hosts: 2})
	inv := execInventory(t, f)
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"exec", "all", "-i", inv, "-T", "5", "--ui", "json", "--", "echo", "hi"}, &out, &errOut)
	if code != ExitUnreachable {
		t.Errorf("exit code %d, want %d\nstderr: %s", code, ExitUnreachable, errOut.String())
	}
	got := map[string]rollout.Status{}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		_, ev, err := rollout.DecodeEvent([]byte(line))
		if err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		hr, ok := ev.(rollout.HostResult)
		if !ok {
			t.Fatalf("line %q: want a host_result event, got %T", line, ev)
		}
		if hr.Status == rollout.StatusChanged && hr.Result["stdout"] != "hi\n" {
			t.Errorf("%s: stdout %q, want %q", hr.Host, hr.Result["stdout"], "hi\n")
		}
		got[hr.Host] = hr.Status
	}
	want := map[string]rollout.Status{"host01": rollout.StatusChanged, "host02": rollout.StatusChanged, "down01": rollout.StatusUnreachable}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
}

// TestExecListHosts lists the hosts a pattern selects, in inventory order, and contacts none.
func TestExecListHosts(t *testing.T) {
	inv := filepath.Join(t.TempDir(), "hosts")
	os.WriteFile(inv, []byte("[web]\nw1 ansible_port=9\nw2 ansible_port=9\n[db]\nd1 ansible_port=9\n"), 0o644)
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"exec", "web:db", "-i", inv, "--list-hosts"}, &out, &errOut); code != ExitOK {
		t.Fatalf("exit code %d: %s", code, errOut.String())
	}
	if want := "  hosts (3):\n    w1\n    w2\n    d1\n"; out.String() != want {
		t.Errorf("output %q, want %q", out.String(), want)
	}
}

// TestExecUsageErrors: every mistake on the command line is an error naming what is wrong,
// before any host is contacted.
func TestExecUsageErrors(t *testing.T) {
	inv := filepath.Join(t.TempDir(), "hosts")
	os.WriteFile(inv, []byte("h1 ansible_host=127.0.0.1 ansible_port=9\n"), 0o644)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no pattern", []string{"exec", "-i", inv, "--", "true"}, "give a host pattern"},
		{"no command", []string{"exec", "all", "-i", inv}, "give the command after --"},
		{"two patterns", []string{"exec", "all", "h1", "-i", inv, "--", "true"}, "one host pattern expected"},
		{"both -a and --", []string{"exec", "all", "-i", inv, "-a", "true", "--", "true"}, "not both"},
		{"no inventory", []string{"exec", "all", "--", "true"}, "-i"},
		{"bad forks", []string{"exec", "all", "-i", inv, "-f", "0", "--", "true"}, "--forks"},
		{"bad ui", []string{"exec", "all", "-i", inv, "--ui", "tui", "--", "true"}, "--ui"},
		{"bad become method", []string{"exec", "all", "-i", inv, "--become-method", "doas", "--", "true"}, "--become-method"},
		{"bad task timeout", []string{"exec", "all", "-i", inv, "--task-timeout", "-1", "--", "true"}, "--task-timeout"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(context.Background(), c.args, &out, &errOut)
			if code != ExitError || !strings.Contains(errOut.String(), c.want) || out.Len() != 0 {
				t.Errorf("exit code %d, stderr %q, stdout %q; want %d and an error containing %q", code, errOut.String(), out.String(), ExitError, c.want)
			}
		})
	}
}

// TestExecArgs: the command is the words after -- joined by spaces, or -a.
func TestExecArgs(t *testing.T) {
	cases := []struct {
		dash    int
		pos     []string
		a       string
		pattern string
		cmd     string
	}{
		{1, []string{"web", "uptime"}, "", "web", "uptime"},
		{1, []string{"all", "echo", "a b", "$HOME"}, "", "all", "echo a b $HOME"},
		{-1, []string{"db"}, "df -h /", "db", "df -h /"},
		{1, []string{"g[0]", "true"}, "", "g[0]", "true"},
	}
	for _, c := range cases {
		var o execOptions
		if err := execArgs(c.dash, c.pos, c.a, &o); err != nil {
			t.Errorf("%v: %v", c.pos, err)
			continue
		}
		if o.pattern != c.pattern || o.command != c.cmd {
			t.Errorf("%v -a %q: pattern %q command %q, want %q %q", c.pos, c.a, o.pattern, o.command, c.pattern, c.cmd)
		}
	}
}

// TestExecTaskTimeout: a host whose command outlives --task-timeout fails with Ansible's
// message, and the others are not held up.
func TestExecTaskTimeout(t *testing.T) {
	f := testfleet.Start(t, testfleet.Options{Hosts: 2})
	// The timeout covers connecting too, as Ansible's does: generous, for loaded machines.
	const cmd = `case "$KPX_HOST_DIR" in */host02*) sleep 600;; esac; echo done`
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"exec", "fleet", "-i", f.Inventory, "--task-timeout", "10", "-o", "--", cmd}, &out, &errOut)
	if code != ExitHostFailed {
		t.Errorf("exit code %d, want %d\nstderr: %s", code, ExitHostFailed, errOut.String())
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	sort.Strings(lines)
	want := []string{
		`host01 | CHANGED | rc=0 | (stdout) done\n`,
		`host02 | FAILED | rc=-1 | (stdout) `,
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("output:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}
