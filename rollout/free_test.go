package rollout_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/kpxdev/kpx/playbooks"
	"github.com/kpxdev/kpx/rollout"
)

// TestFreeStrategyHostsGoTheirOwnWay: under strategy free, host a runs all three tasks
// while host b is still held in the first; under linear, a cannot start the second task
// before b finished the first. Each task is announced once.
func TestFreeStrategyHostsGoTheirOwnWay(t *testing.T) {
	for _, strategy := range []string{"free", "linear"} {
		t.Run(strategy, func(t *testing.T) {
			pb := loadPlay(t, `- hosts: all
  gather_facts: false
  strategy: `+strategy+`
  tasks:
    - name: one
      command: "true"
    - name: two
      command: "true"
    - name: three
      command: "true"
`)
			// b waits in its first task for a to reach its last one: under free that comes
			// (the long wait only bounds a failure, on however loaded a machine); under
			// linear it cannot, and the short wait gives a the time to run ahead if the
			// strategy let it.
			wait := time.Minute
			if strategy == "linear" {
				wait = 2 * time.Second
			}
			aDone := make(chan struct{})
			exe := &hookExec{}
			exe.hook = func(host, task string) {
				switch {
				case host == "a" && task == "three":
					close(aDone)
				case host == "b" && task == "one":
					select {
					case <-aDone:
					case <-time.After(wait):
					}
				}
			}
			var log eventLog
			ab := func(*playbooks.Play) ([]string, error) { return []string{"a", "b"}, nil }
			r := rollout.NewRunner(exe, ab, rollout.Options{Emit: log.add, Forks: 2})
			if _, err := r.Run(context.Background(), pb); err != nil {
				t.Fatal(err)
			}
			calls := exe.calls()
			aThree, bOne := slices.Index(calls, "a:three"), slices.Index(calls, "b:one")
			if strategy == "free" && aThree > bOne {
				t.Errorf("calls %v: under free, a should finish before b's first task", calls)
			}
			if strategy == "linear" && aThree < bOne {
				t.Errorf("calls %v: under linear, a ran ahead of b", calls)
			}
			if len(calls) != 6 {
				t.Errorf("calls %v, want 6", calls)
			}
			var banners []string
			log.mu.Lock()
			for _, ev := range log.evs {
				if ts, ok := ev.(rollout.TaskStarted); ok {
					banners = append(banners, ts.Name)
				}
			}
			log.mu.Unlock()
			if want := []string{"one", "two", "three"}; !slices.Equal(banners, want) {
				t.Errorf("task banners %v, want %v", banners, want)
			}
		})
	}
}
