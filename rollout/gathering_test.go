package rollout_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"

	"github.com/kpxdev/kpx/playbooks"
	"github.com/kpxdev/kpx/rollout"
)

// factsExec records which hosts gathered facts; it keeps them, as TaskExecutor does.
type factsExec struct {
	mu       sync.Mutex
	gathered map[string]bool
	calls    []string // "play/host" for each gathering
	play     int
}

func (e *factsExec) Execute(_ context.Context, host string, t *playbooks.Task, _ func(rollout.Event)) rollout.Outcome {
	e.mu.Lock()
	defer e.mu.Unlock()
	if t.Module == "setup" {
		e.gathered[host] = true
		e.calls = append(e.calls, t.DisplayName()+"@"+host)
	}
	return rollout.Outcome{Status: rollout.StatusOK, Result: map[string]any{"changed": false}}
}

func (e *factsExec) HasFacts(host string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.gathered[host]
}

func TestGatheringSetting(t *testing.T) {
	src := `- hosts: all
  tasks: [{debug: msg=one}]
- hosts: all
  gather_facts: true
  tasks: [{debug: msg=two}]
- hosts: b
  gather_facts: false
  tasks: [{debug: msg=three}]
- hosts: all
  tasks: [{debug: msg=four}]
`
	p := filepath.Join(t.TempDir(), "site.yml")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	pb, err := playbooks.Load(p, playbooks.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	resolve := func(play *playbooks.Play) ([]string, error) {
		if play.Hosts[0] == "b" {
			return []string{"b"}, nil
		}
		return []string{"a", "b"}, nil
	}
	g := "Gathering Facts@"
	cases := []struct {
		gathering string
		want      int // gatherings, each play on both hosts unless said
	}{
		{"", 6},         // implicit: plays 1, 2, 4
		{"implicit", 6}, // the same
		{"explicit", 2}, // play 2 only
		{"smart", 2},    // play 1 only: the hosts have facts afterwards
	}
	for _, c := range cases {
		t.Run(c.gathering, func(t *testing.T) {
			exe := &factsExec{gathered: map[string]bool{}}
			if _, err := rollout.NewRunner(exe, resolve, rollout.Options{Gathering: c.gathering}).Run(context.Background(), pb); err != nil {
				t.Fatal(err)
			}
			if len(exe.calls) != c.want {
				t.Errorf("gathered %d times (%v), want %d", len(exe.calls), exe.calls, c.want)
			}
			if c.want == 2 && !reflect.DeepEqual(exe.calls, []string{g + "a", g + "b"}) && !reflect.DeepEqual(exe.calls, []string{g + "b", g + "a"}) {
				t.Errorf("gathered %v", exe.calls)
			}
		})
	}
}
