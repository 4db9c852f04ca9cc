package playbooks

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/kpxdev/kpx/internal/testfleet"
)

func hostNames(n int) []string {
	hosts := make([]string, n)
	for i := range hosts {
		hosts[i] = fmt.Sprintf("h%02d", i+1)
	}
	return hosts
}

func parseSerial(t *testing.T, src string) Serial {
	t.Helper()
	var s Serial
	if err := yaml.Unmarshal([]byte(src), &s); err != nil {
		t.Fatalf("serial %q: %v", src, err)
	}
	return s
}

func batchSizes(b [][]string) []int {
	sizes := make([]int, len(b))
	for i := range b {
		sizes[i] = len(b[i])
	}
	return sizes
}

// serialCases are checked against fixed expectations here and against the real
// ansible-playbook in TestBatchesMatchAnsible.
var serialCases = []struct {
	serial string
	hosts  int
	want   []int
}{
	{`[]`, 5, []int{5}},
	{`1`, 3, []int{1, 1, 1}},
	{`2`, 5, []int{2, 2, 1}},
	{`"2"`, 5, []int{2, 2, 1}},
	{`0`, 4, []int{4}},
	{`-1`, 4, []int{4}},
	{`[1, "10%", "50%", "100%"]`, 24, []int{1, 2, 12, 9}},
	{`[1, "10%", "50%", "100%"]`, 5, []int{1, 1, 2, 1}},
	{`[1, "30%", "50%"]`, 7, []int{1, 2, 3, 1}},
	{`"10%"`, 25, []int{2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1}},
	{`"1%"`, 3, []int{1, 1, 1}},
	{`["150%"]`, 4, []int{4}},
	{`[1, 0]`, 6, []int{1, 5}},
	{`[2, 3]`, 10, []int{2, 3, 3, 2}},
	{`2.7`, 5, []int{2, 2, 1}},
	{`[1, "25%", 100]`, 12, []int{1, 3, 8}},
}

func TestBatches(t *testing.T) {
	for _, tc := range serialCases {
		t.Run(fmt.Sprintf("%s/%d", tc.serial, tc.hosts), func(t *testing.T) {
			hosts := hostNames(tc.hosts)
			got := Batches(hosts, parseSerial(t, tc.serial))
			if sizes := batchSizes(got); !reflect.DeepEqual(sizes, tc.want) {
				t.Fatalf("batch sizes %v, want %v", sizes, tc.want)
			}
			var flat []string
			for _, b := range got {
				flat = append(flat, b...)
			}
			if !reflect.DeepEqual(flat, hosts) {
				t.Fatalf("batches %v do not cover the hosts in order", got)
			}
		})
	}
}

func TestBatchesDoNotAlias(t *testing.T) {
	hosts := hostNames(4)
	b := Batches(hosts, Serial{{Count: 2}})
	b[0] = append(b[0], "extra")
	if hosts[2] != "h03" {
		t.Fatalf("appending to a batch overwrote the next batch's host: %v", hosts)
	}
}

func TestSerialErrors(t *testing.T) {
	tests := []struct {
		src, wantMsg string
		line, col    int
	}{
		{"serial: [1, abc]", `"abc" is neither a host count nor a percentage`, 1, 13},
		{"serial:\n  - 1\n  - \"x%\"", `"x%" is not a percentage`, 3, 5},
		{"serial: {a: 1}", "expected a number or a percentage", 1, 9},
		{"serial: [[1]]", "got a list", 1, 10},
		{"serial: '{{ n }}'", "templated values", 1, 9},
	}
	for _, tc := range tests {
		t.Run(tc.src, func(t *testing.T) {
			var v struct{ Serial Serial }
			err := yaml.Unmarshal([]byte(tc.src), &v)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T), want *ParseError", err, err)
			}
			if !strings.Contains(pe.Msg, tc.wantMsg) || pe.Line != tc.line || pe.Col != tc.col {
				t.Fatalf("got %d:%d %q, want %d:%d containing %q", pe.Line, pe.Col, pe.Msg, tc.line, tc.col, tc.wantMsg)
			}
		})
	}
}

// TestBatchesMatchAnsible runs every serialCase through the real ansible-playbook (local
// connection, no hosts contacted) and compares the batches it forms with kpx's.
func TestBatchesMatchAnsible(t *testing.T) {
	ansible := testfleet.RequireTool(t, "ansible-playbook")
	batchLine := regexp.MustCompile(`"msg": "BATCH ([^"]*)"`)
	for _, tc := range serialCases {
		t.Run(fmt.Sprintf("%s/%d", tc.serial, tc.hosts), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			inv := fmt.Sprintf("[g]\nh[01:%02d] ansible_connection=local\n", tc.hosts)
			play := fmt.Sprintf(`- hosts: all
  gather_facts: false
  serial: %s
  tasks:
    - debug: { msg: "BATCH {{ ansible_play_batch | join(',') }}" }
      run_once: true
`, tc.serial)
			write(t, filepath.Join(dir, "inv"), inv)
			write(t, filepath.Join(dir, "play.yml"), play)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, ansible, "-i", "inv", "play.yml")
			cmd.Dir = dir
			cmd.Env = testfleet.AnsibleEnv(dir)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("ansible-playbook: %v\n%s", err, out)
			}
			var want [][]string
			for _, m := range batchLine.FindAllStringSubmatch(string(out), -1) {
				want = append(want, strings.Split(m[1], ","))
			}
			got := Batches(hostNames(tc.hosts), parseSerial(t, tc.serial))
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("kpx batches %v\nansible batches %v", got, want)
			}
		})
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func FuzzSerial(f *testing.F) {
	for _, tc := range serialCases {
		f.Add(tc.serial, tc.hosts)
	}
	f.Add(`["-5%", 1e400, .nan, !!binary aGk=]`, 3)
	f.Fuzz(func(t *testing.T, src string, hosts int) {
		var s Serial
		if err := yaml.Unmarshal([]byte(src), &s); err != nil {
			return
		}
		if hosts < 0 || hosts > 1000 {
			return
		}
		all := hostNames(hosts)
		n := 0
		for _, b := range Batches(all, s) {
			if len(b) == 0 {
				t.Fatalf("empty batch for serial %q", src)
			}
			n += len(b)
		}
		if n != hosts {
			t.Fatalf("batches cover %d hosts, want %d", n, hosts)
		}
	})
}
