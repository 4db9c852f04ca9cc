package main

import (
	"bytes"
	"testing"

	"github.com/kpxdev/kpx/rollout"
)

// checkEventLines checks that out is JSON event lines, numbered from 1, ending with the
// run's end.
func checkEventLines(t *testing.T, out []byte) {
	t.Helper()
	lines := bytes.Split(bytes.TrimSuffix(out, []byte("\n")), []byte("\n"))
	types := map[string]int{}
	var last rollout.Event
	for i, l := range lines {
		rec, ev, err := rollout.DecodeEvent(l)
		if err != nil {
			t.Fatalf("line %d: %v\n%s", i+1, err, l)
		}
		if rec.Seq != int64(i+1) {
			t.Errorf("line %d has seq %d", i+1, rec.Seq)
		}
		types[rec.Type]++
		last = ev
	}
	if types["host_result"] == 0 || types["task_started"] == 0 {
		t.Errorf("event types %v: want tasks and results", types)
	}
	if _, ok := last.(rollout.RunFinished); !ok {
		t.Errorf("last event %T, want RunFinished", last)
	}
}
