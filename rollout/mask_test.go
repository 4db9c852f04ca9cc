package rollout

import (
	"reflect"
	"strings"
	"testing"
)

func TestMaskEvent(t *testing.T) {
	mask := func(s string) string { return strings.ReplaceAll(s, "hunter2", "********") }
	result := map[string]any{"stdout": "pw is hunter2", "rc": 0, "cmd": []any{"echo", "hunter2"},
		"nested": map[string]any{"hunter2": "hunter2"}}
	tests := []struct {
		name     string
		ev, want Event
	}{
		{"task name", TaskStarted{Name: "use hunter2"}, TaskStarted{Name: "use ********"}},
		{"warning", Warning{Msg: "hunter2"}, Warning{Msg: "********"}},
		{"result", HostResult{Host: "h1", Status: StatusOK, Result: result, Item: "hunter2", HasItem: true, Label: "x hunter2"},
			HostResult{Host: "h1", Status: StatusOK, Result: map[string]any{"stdout": "pw is ********", "rc": 0,
				"cmd": []any{"echo", "********"}, "nested": map[string]any{"hunter2": "********"}}, Item: "********", HasItem: true, Label: "x ********"}},
		{"no strings", NoHostsLeft{}, NoHostsLeft{}},
		{"batch", PlayStarted{Name: "p", Batch: []string{"hunter2"}}, PlayStarted{Name: "p", Batch: []string{"********"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := maskEvent(tt.ev, mask); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
	if result["stdout"] != "pw is hunter2" {
		t.Error("masking changed the original result")
	}
}
