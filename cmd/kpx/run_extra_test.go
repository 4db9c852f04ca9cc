package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/kpxdev/kpx/internal/testfleet"
)

// playTags matches a --list-* play line's tags, which Ansible prints from a Python set.
var playTags = regexp.MustCompile(`(\tTAGS: \[)([^\]]*)\]`)

// normalizeListing puts what Ansible prints in set order (a play's hosts and tags) into
// sorted order; the rest is compared as it is.
func normalizeListing(s string) string {
	lines := strings.Split(s, "\n")
	for i := 0; i < len(lines); i++ {
		if strings.HasPrefix(lines[i], "  play #") {
			lines[i] = playTags.ReplaceAllStringFunc(lines[i], func(m string) string {
				sub := playTags.FindStringSubmatch(m)
				tags := strings.Split(sub[2], ",")
				sort.Strings(tags)
				return sub[1] + strings.Join(tags, ",") + "]"
			})
		}
		if strings.HasPrefix(lines[i], "    hosts (") {
			j := i + 1
			for j < len(lines) && strings.HasPrefix(lines[j], "      ") {
				j++
			}
			sort.Strings(lines[i+1 : j])
			i = j - 1
		}
	}
	return strings.Join(lines, "\n")
}

// TestListFlagsMatchAnsible compares --list-hosts, --list-tasks and --list-tags (with
// --tags, --skip-tags and --limit) with the real ansible-playbook's output.
func TestListFlagsMatchAnsible(t *testing.T) {
	ansible := testfleet.RequireTool(t, "ansible-playbook")
	groups, err := os.ReadFile(filepath.Join(suiteDir, "groups.ini"))
	if err != nil {
		t.Fatal(err)
	}
	inv := filepath.Join(t.TempDir(), "inventory.ini")
	if err := os.WriteFile(inv, append([]byte("[fleet]\nhost[01:10]\n"), groups...), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := [][]string{
		{"--list-hosts", "01-serial-int.yml"},
		{"--list-tasks", "08-handlers.yml"},
		{"--list-tasks", "--list-tags", "--list-hosts", "09-blocks.yml"},
		{"--list-tags", "16-tags.yml"},
		{"--list-tasks", "--tags", "deploy,debug", "--skip-tags", "slow", "16-tags.yml"},
		{"--list-tasks", "--list-hosts", "--limit", "web:!host02", "23-includes.yml"},
		{"--list-tasks", "--list-tags", "--skip-tags", "always", "16-tags.yml"},
		{"--list-hosts", "--list-tasks", "07-order.yml"},
	}
	for _, args := range cases {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			full := append([]string{"-i", inv}, args...)
			want, code := testfleet.RunAnsible(ctx, t, suiteDir, ansible, full...)
			if code != 0 {
				t.Fatalf("ansible-playbook exit %d", code)
			}
			var out, errOut bytes.Buffer
			// kpx resolves the playbook's relative path like Ansible: from the directory it
			// runs in; here the test runs in cmd/kpx, so name the playbook as Ansible saw it.
			full[len(full)-1] = filepath.Join(suiteDir, args[len(args)-1])
			if c := run(ctx, append([]string{"run"}, full...), &out, &errOut); c != 0 {
				t.Fatalf("kpx exit %d: %s", c, errOut.String())
			}
			got := strings.Replace(out.String(), "playbook: "+full[len(full)-1], "playbook: "+args[len(args)-1], 1)
			if d := testfleet.Diff(normalizeListing(got), normalizeListing(string(want))); d != "" {
				t.Errorf("kpx and ansible-playbook differ (got: kpx):\n%s\n--- kpx\n%s--- ansible-playbook\n%s", d, got, want)
			}
		})
	}
}

// TestStartAtTaskMatchesAnsible runs --start-at-task with a name inside a block, a glob, a
// later play's unnamed task and a name no task has, on local hosts, with kpx and
// ansible-playbook, and compares the whole output and exit code.
func TestStartAtTaskMatchesAnsible(t *testing.T) {
	ansible := testfleet.RequireTool(t, "ansible-playbook")
	dir, _ := filepath.Abs("../../testdata/playbooks/cli")
	for _, at := range []string{"b2*", "al", "debug", "c", "nothing like it"} {
		t.Run(at, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			args := []string{"-f", "1", "-i", filepath.Join(dir, "local.ini"), "--start-at-task", at, filepath.Join(dir, "start-at.yml")}
			want, wantCode := testfleet.RunAnsible(ctx, t, dir, ansible, args...)
			var out, errOut bytes.Buffer
			code := run(ctx, append([]string{"run"}, args...), &out, &errOut)
			norm := func(s string) string { return volatileFields.ReplaceAllString(s, `"$1": "T"`) }
			if d := testfleet.Diff(norm(out.String()), norm(string(want))); d != "" {
				t.Errorf("kpx and ansible-playbook differ (got: kpx):\n%s\n--- kpx\n%s--- stderr\n%s", d, out.String(), errOut.String())
			}
			if code != wantCode {
				t.Errorf("exit %d, ansible-playbook %d", code, wantCode)
			}
			if at == "nothing like it" && !strings.Contains(errOut.String(), `No matching task "nothing like it" found`) {
				t.Errorf("stderr %q lacks Ansible's error", errOut.String())
			}
		})
	}
}
