package rollout_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/kpxdev/kpx/playbooks"
	"github.com/kpxdev/kpx/rollout"
)

type nopExec struct{}

func (nopExec) Execute(context.Context, string, *playbooks.Task, func(rollout.Event)) rollout.Outcome {
	return rollout.Outcome{Status: rollout.StatusOK, Result: map[string]any{"changed": false}}
}

// BenchmarkRun10kHosts measures the strategy's own cost: 10,000 hosts in canary waves,
// five tasks and a handler flush, with an executor that does nothing.
func BenchmarkRun10kHosts(b *testing.B) {
	play := `- hosts: all
  gather_facts: false
  serial: [1, "10%", "50%", "100%"]
  tasks:
    - command: "true"
    - command: "true"
    - block:
        - command: "true"
      rescue:
        - command: "true"
    - command: "true"
      notify: h
  handlers:
    - name: h
      command: "true"
`
	path := filepath.Join(b.TempDir(), "play.yml")
	if err := os.WriteFile(path, []byte(play), 0o644); err != nil {
		b.Fatal(err)
	}
	pb, err := playbooks.Load(path, playbooks.LoadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	hosts := make([]string, 10000)
	for i := range hosts {
		hosts[i] = fmt.Sprintf("db%05d", i)
	}
	resolve := func(*playbooks.Play) ([]string, error) { return hosts, nil }
	events := 0
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		r := rollout.NewRunner(nopExec{}, resolve, rollout.Options{Forks: 200, Emit: func(rollout.Event) { events++ }})
		if _, err := r.Run(context.Background(), pb); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(events)/float64(b.N), "events/op")
}
