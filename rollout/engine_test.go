package rollout_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/kpxdev/kpx/internal/testfleet"
	"github.com/kpxdev/kpx/modules"
	"github.com/kpxdev/kpx/playbooks"
	"github.com/kpxdev/kpx/report"
	"github.com/kpxdev/kpx/rollout"
	"github.com/kpxdev/kpx/transport"
)

const engineDir = "../testdata/rollout/engine"

// iniInventory is a test inventory: groups of hosts with inline string variables.
type iniInventory struct {
	order  []string
	groups map[string][]string
	vars   map[string]map[string]any
}

func readINI(t *testing.T, path string) *iniInventory {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	inv := &iniInventory{groups: map[string][]string{}, vars: map[string]map[string]any{}}
	group := "ungrouped"
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
		case strings.HasPrefix(f[0], "["):
			group = strings.Trim(f[0], "[]")
		default:
			h := f[0]
			inv.groups[group] = append(inv.groups[group], h)
			if !slices.Contains(inv.order, h) {
				inv.order = append(inv.order, h)
				inv.vars[h] = map[string]any{}
			}
			for _, kv := range f[1:] {
				k, v, _ := strings.Cut(kv, "=")
				inv.vars[h][k] = v
			}
		}
	}
	inv.groups["all"] = inv.order
	return inv
}

func (i *iniInventory) HostVars(h string) map[string]any { return i.vars[h] }
func (i *iniInventory) Groups() map[string][]string      { return i.groups }
func (i *iniInventory) GroupNames(h string) []string {
	var out []string
	for g, hs := range i.groups {
		if g != "all" && slices.Contains(hs, h) {
			out = append(out, g)
		}
	}
	sort.Strings(out)
	return out
}

func (i *iniInventory) resolve(p *playbooks.Play) ([]string, error) {
	var out []string
	for _, pat := range p.Hosts {
		hs, ok := i.groups[pat]
		if !ok {
			return nil, fmt.Errorf("unknown pattern %q", pat)
		}
		out = append(out, hs...)
	}
	return out, nil
}

type localConnector struct{}

func (localConnector) Conn(context.Context, string, map[string]any) (modules.Host, error) {
	return transport.NewLocal(&transport.Config{Local: true}), nil
}

var volatile = regexp.MustCompile(`"(delta|end|start)": "[^"]*"`)

// TestEngineMatchesAnsible runs the playbooks under testdata/rollout/engine through kpx's
// whole engine (strategy, templating, modules on a local shell) and through
// ansible-playbook, and compares the output line for line, results included.
func TestEngineMatchesAnsible(t *testing.T) {
	ansible := testfleet.RequireTool(t, "ansible-playbook")
	files, _ := filepath.Glob(filepath.Join(engineDir, "*.yml"))
	if len(files) == 0 {
		t.Fatal("no scenarios")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			runID := func(tool string) string { return fmt.Sprintf("%s-%d", tool, time.Now().UnixNano()) }
			idA, idK := runID("ansible"), runID("kpx")
			t.Cleanup(func() {
				for _, id := range []string{idA, idK} {
					m, _ := filepath.Glob("/tmp/kpx-engine-test-*-" + id)
					for _, f := range m {
						os.Remove(f)
					}
				}
			})
			args, opts, check := scenarioArgs(t, file)
			want, wantCode := testfleet.RunAnsible(ctx, t, engineDir, ansible,
				append(append([]string{"-f", "1", "-i", "inventory", "-e", "run_id=" + idA}, args...), filepath.Base(file))...)

			pb, err := playbooks.Load(file, playbooks.LoadOptions{Modules: modules.Builtin()})
			if err != nil {
				t.Fatal(err)
			}
			inv := readINI(t, filepath.Join(engineDir, "inventory"))
			exe := &rollout.TaskExecutor{
				Templar:   playbooks.NewTemplar(playbooks.TemplarOptions{}),
				Inventory: inv,
				Connector: localConnector{},
				ExtraVars: map[string]any{"run_id": idK},
				Check:     check,
			}
			var got bytes.Buffer
			p := report.NewPlain(&got, 0)
			opts.Forks, opts.Emit = 1, p.Handle
			r := rollout.NewRunner(exe, inv.resolve, opts)
			fin, err := r.Run(ctx, pb)
			if err != nil {
				t.Fatal(err)
			}
			norm := func(s string) string {
				s = volatile.ReplaceAllString(s, `"$1": "T"`)
				return strings.ReplaceAll(strings.ReplaceAll(s, idA, "ID"), idK, "ID")
			}
			if g, w := norm(got.String()), norm(string(want)); g != w {
				t.Errorf("kpx and ansible-playbook differ (got: kpx, want: ansible-playbook):\n%s", testfleet.Diff(g, w))
			}
			if code := fin.ExitCode(); code != wantCode {
				t.Errorf("exit code %d, ansible-playbook %d", code, wantCode)
			}
		})
	}
}

// scenarioArgs reads a scenario's "# args: ..." first line: ansible-playbook arguments that
// kpx must honour too (--tags, --skip-tags).
func scenarioArgs(t *testing.T, file string) (args []string, opts rollout.Options, check bool) {
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	line, _, _ := strings.Cut(string(src), "\n")
	rest, ok := strings.CutPrefix(line, "# args:")
	if !ok {
		return nil, rollout.Options{}, false
	}
	args = strings.Fields(rest)
	for i := 0; i < len(args); i += 2 {
		switch args[i] {
		case "--check":
			i-- // no value
			check = true
		case "--tags":
			opts.Tags = strings.Split(args[i+1], ",")
		case "--skip-tags":
			opts.SkipTags = strings.Split(args[i+1], ",")
		default:
			t.Fatalf("scenario argument %s is not understood by the test", args[i])
		}
	}
	return args, opts, check
}
