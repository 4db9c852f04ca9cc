package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kpxdev/kpx/internal/demo"
)

// The sample fleet's waves ([1, "10%", "50%", "100%"] over 24 hosts in play order).
var demoWaves = [][]string{
	{"db-analytics01"},
	{"db-analytics02", "db-analytics03"},
	{"db-analytics04", "db-analytics05", "db-analytics06", "db-replica01", "db-replica02", "db-replica03",
		"db-replica04", "db-replica05", "db-replica06", "db-replica07", "db-replica08", "db-replica09"},
	{"db-replica10", "db-replica11", "db-replica12", "db-replica13", "db-replica14",
		"db-primary01", "db-primary02", "db-primary03", "db-primary04"},
}

var summaryLine = regexp.MustCompile(`(?m)^(\S+)\s+: wave (\d+)\s+(.*)$`)

// summary returns "wave N: outcome" per host of the ROLLOUT SUMMARY.
func summary(out string) map[string]string {
	i := strings.LastIndex(out, "ROLLOUT SUMMARY")
	got := map[string]string{}
	if i < 0 {
		return got
	}
	end := strings.Index(out[i:], "PLAY RECAP")
	if end < 0 {
		end = len(out) - i
	}
	for _, m := range summaryLine.FindAllStringSubmatch(out[i:i+end], -1) {
		got[m[1]] = "wave " + m[2] + ": " + m[3]
	}
	return got
}

func runDemoTest(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	code := run(ctx, append([]string{"demo"}, args...), &out, &errOut)
	if m := regexp.MustCompile(`files in (\S+)`).FindStringSubmatch(errOut.String()); m != nil {
		if _, err := os.Stat(m[1]); !os.IsNotExist(err) {
			t.Errorf("demo left its directory %s behind (%v)", m[1], err)
		}
	}
	return code, out.String(), errOut.String()
}

// TestDemo runs the demo non-interactively and checks the outcome host by host, from the
// rollout summary: hosts of the waves before the failing one patched, the failing wave's
// hosts rolled back (the failing host naming its failed check), later waves never started.
func TestDemo(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		failing  string
		lastWave int // index of the last wave that ran
		code     int
	}{
		{"default: a third-wave host fails", []string{"--ui", "plain"}, "db-replica04", 2, ExitHostFailed},
		{"clean rollout", []string{"--fail", "none"}, "", 3, ExitOK},
		{"chosen host in the last wave", []string{"--fail", "db-primary02"}, "db-primary02", 3, ExitHostFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // much of a demo is waiting (bake, retry delays): run them side by side
			code, out, errOut := runDemoTest(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit code %d, want %d\n%s\n%s", code, tc.code, out, errOut)
			}
			got := summary(out)
			for w, hosts := range demoWaves[:tc.lastWave+1] {
				failedWave := tc.failing != "" && w == tc.lastWave
				for _, h := range hosts {
					want := fmt.Sprintf("wave %d: applied", w+1)
					switch {
					case h == tc.failing:
						want = fmt.Sprintf(`wave %d: failed: check "database health" failed`, w+1)
						if !strings.Contains(errOut, fmt.Sprintf("%s (wave %d) will fail", h, w+1)) {
							t.Errorf("stderr does not announce the failing host:\n%s", errOut)
						}
					case failedWave:
						want += "; rolled back"
					}
					if !strings.HasPrefix(got[h], want) || (failedWave && !strings.HasSuffix(got[h], "rolled back")) || (!failedWave && got[h] != want) {
						t.Errorf("%s: summary %q, want %q", h, got[h], want)
					}
					delete(got, h)
				}
			}
			if len(got) != 0 {
				t.Errorf("hosts of waves that must not start: %v\n%s", got, out)
			}
		})
	}
}

func TestDemoFlags(t *testing.T) {
	code, out, _ := runDemoTest(t, "--print-playbook")
	if code != 0 || !strings.Contains(out, string(demo.Inventory())) || !strings.Contains(out, string(demo.Playbook())) {
		t.Errorf("--print-playbook: exit %d, output:\n%s", code, out)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--fail", "db-nosuch"}, `--fail "db-nosuch": no such host`},
		{[]string{"--hosts", "0"}, "--hosts 0"},
		{[]string{"--ui", "fancy"}, `--ui "fancy"`},
	} {
		code, _, errOut := runDemoTest(t, tc.args...)
		if code != ExitError || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d naming %q", tc.args, code, errOut, ExitError, tc.want)
		}
	}
}
