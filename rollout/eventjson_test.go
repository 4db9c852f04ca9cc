package rollout

import (
	"reflect"
	"testing"
	"time"
)

func TestEventsRoundTripThroughJSON(t *testing.T) {
	at := time.Date(2026, 12, 2, 1, 2, 3, 0, time.UTC)
	events := []Event{
		RunStarted{RunID: "r1", Playbook: "site.yml", Hosts: []string{"a", "b"}, Time: at},
		PlayStarted{Name: "p", Batch: []string{"a"}, Wave: 1, Waves: 2},
		TaskStarted{Name: "t"},
		HostResult{Host: "a", Status: StatusChanged, Action: "command", Result: map[string]any{"rc": 0.0, "changed": true}},
		WaveChanged{Play: "p", Wave: 2, Waves: 4, State: WaveBaking, Until: at.Add(time.Minute)},
		CheckResult{Host: "a", Wave: 1, Check: "kernel_log", Attempt: 2, Passed: false, Final: true},
		RollbackStarted{Play: "p", Wave: 2, Scope: "wave", Hosts: []string{"a"}},
		HostAttention{Host: "b", Reason: "rollback failed"},
		ControlChanged{Control: "pause"},
		RolloutSummary{RunID: "r1", Hosts: []HostOutcome{{Host: "a", Wave: 1, Applied: true, RolledBack: true}}, Stopped: "wave 2 failed"},
		RunFinished{Hosts: []string{"a"}, Stats: map[string]HostStats{"a": {OK: 1}}},
	}
	for i, ev := range events {
		line, err := EncodeEvent(int64(i), at, ev)
		if err != nil {
			t.Fatal(err)
		}
		rec, back, err := DecodeEvent(line)
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		if rec.Seq != int64(i) || rec.Type != EventType(ev) || !rec.Time.Equal(at) {
			t.Errorf("record %+v", rec)
		}
		if !reflect.DeepEqual(back, ev) {
			t.Errorf("round trip of %T:\n got %#v\nwant %#v", ev, back, ev)
		}
	}
	if _, _, err := DecodeEvent([]byte(`{"type":"nope","event":{}}`)); err == nil {
		t.Error("unknown event type decoded without error")
	}
}

func TestEveryEventTypeHasAWireName(t *testing.T) {
	seen := map[string]bool{}
	for typ, name := range eventTypes {
		if seen[name] {
			t.Errorf("wire name %q used twice", name)
		}
		seen[name] = true
		if _, ok := reflect.New(typ).Elem().Interface().(Event); !ok {
			t.Errorf("%v is not an Event", typ)
		}
	}
}
