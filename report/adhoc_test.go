package report

import (
	"bytes"
	"testing"

	"github.com/kpxdev/kpx/rollout"
)

// TestAdHoc checks both of Ansible's ad-hoc shapes (minimal, and oneline with -o) for
// every way a host can end.
func TestAdHoc(t *testing.T) {
	cases := []struct {
		name             string
		ev               rollout.HostResult
		minimal, oneLine string
	}{
		{
			name:    "changed",
			ev:      rollout.HostResult{Host: "h1", Status: rollout.StatusChanged, Result: map[string]any{"changed": true, "rc": 0, "stdout": "up 3 days\n", "stderr": ""}},
			minimal: "h1 | CHANGED | rc=0 >>\nup 3 days\n\n",
			oneLine: "h1 | CHANGED | rc=0 | (stdout) up 3 days\\n\n",
		},
		{
			name:    "failed, with stderr",
			ev:      rollout.HostResult{Host: "h2", Status: rollout.StatusFailed, Result: map[string]any{"changed": true, "failed": true, "rc": 3, "stdout": "out\n", "stderr": "err\r\n", "msg": "non-zero return code"}},
			minimal: "h2 | FAILED | rc=3 >>\nout\nerr\r\nnon-zero return code\n",
			oneLine: "h2 | FAILED | rc=3 | (stdout) out\\n (stderr) err\\r\\n\n",
		},
		{
			name:    "failed without a return code",
			ev:      rollout.HostResult{Host: "h3", Status: rollout.StatusFailed, Result: map[string]any{"failed": true, "msg": "timed out"}},
			minimal: "h3 | FAILED | rc=-1 >>\ntimed out\n",
			oneLine: "h3 | FAILED | rc=-1 | (stdout) \n",
		},
		{
			name:    "ok",
			ev:      rollout.HostResult{Host: "h4", Status: rollout.StatusOK, Result: map[string]any{"changed": false, "rc": 0, "stdout": "x"}},
			minimal: "h4 | SUCCESS | rc=0 >>\nx\n",
			oneLine: "h4 | SUCCESS | rc=0 | (stdout) x\n",
		},
		{
			name:    "unreachable",
			ev:      rollout.HostResult{Host: "h5", Status: rollout.StatusUnreachable, Result: map[string]any{"changed": false, "unreachable": true, "msg": "h5: unreachable (dial): refused"}},
			minimal: "h5 | UNREACHABLE! => {\n    \"changed\": false,\n    \"msg\": \"h5: unreachable (dial): refused\",\n    \"unreachable\": true\n}\n",
			oneLine: "h5 | UNREACHABLE!: h5: unreachable (dial): refused\n",
		},
		{
			name:    "skipped",
			ev:      rollout.HostResult{Host: "h6", Status: rollout.StatusSkipped, Result: map[string]any{"skipped": true}},
			minimal: "h6 | SKIPPED\n",
			oneLine: "h6 | SKIPPED\n",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, oneLine := range []bool{false, true} {
				var b bytes.Buffer
				p := NewAdHoc(&b, oneLine)
				p.Handle(c.ev)
				want := c.minimal
				if oneLine {
					want = c.oneLine
				}
				if b.String() != want || p.Err() != nil {
					t.Errorf("oneLine=%v: got %q (err %v), want %q", oneLine, b.String(), p.Err(), want)
				}
			}
		})
	}
}
