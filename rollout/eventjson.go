package rollout

import (
	"encoding/json"
	"fmt"
	"reflect"
	"time"
)

// EventRecord is an event as the journal and the JSON presenter write it: one JSON object
// per line, {"seq":N,"time":"...","type":"host_result","event":{...}}.
type EventRecord struct {
	Seq   int64           `json:"seq"`
	Time  time.Time       `json:"time"`
	Type  string          `json:"type"`
	Event json.RawMessage `json:"event"`
}

// eventTypes names every event for the wire. The names are part of kpx's documented JSON
// output (docs/EVENTS.md): never rename one.
var eventTypes = map[reflect.Type]string{
	reflect.TypeFor[RunStarted]():      "run_started",
	reflect.TypeFor[PlayStarted]():     "play_started",
	reflect.TypeFor[TaskStarted]():     "task_started",
	reflect.TypeFor[HostResult]():      "host_result",
	reflect.TypeFor[Included]():        "included",
	reflect.TypeFor[TaskRetry]():       "task_retry",
	reflect.TypeFor[NoHostsLeft]():     "no_hosts_left",
	reflect.TypeFor[NoHostsMatched]():  "no_hosts_matched",
	reflect.TypeFor[Warning]():         "warning",
	reflect.TypeFor[WaveChanged]():     "wave_changed",
	reflect.TypeFor[CheckResult]():     "check_result",
	reflect.TypeFor[RollbackStarted](): "rollback_started",
	reflect.TypeFor[HostAttention]():   "host_attention",
	reflect.TypeFor[HostTaskState]():   "host_task_state",
	reflect.TypeFor[ControlChanged]():  "control_changed",
	reflect.TypeFor[RolloutSummary]():  "rollout_summary",
	reflect.TypeFor[RunFinished]():     "run_finished",
}

// EventType returns the wire name of ev's type.
func EventType(ev Event) string {
	if n, ok := eventTypes[reflect.TypeOf(ev)]; ok {
		return n
	}
	return fmt.Sprintf("unknown(%T)", ev)
}

// EncodeEvent returns ev as one JSON line (without the newline).
func EncodeEvent(seq int64, at time.Time, ev Event) ([]byte, error) {
	body, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("encode %s event: %w", EventType(ev), err)
	}
	return json.Marshal(EventRecord{Seq: seq, Time: at.UTC(), Type: EventType(ev), Event: body})
}

// DecodeEvent reads one line written by EncodeEvent back into its event.
func DecodeEvent(line []byte) (EventRecord, Event, error) {
	var rec EventRecord
	if err := json.Unmarshal(line, &rec); err != nil {
		return rec, nil, fmt.Errorf("decode event: %w", err)
	}
	for t, name := range eventTypes {
		if name != rec.Type {
			continue
		}
		p := reflect.New(t)
		if err := json.Unmarshal(rec.Event, p.Interface()); err != nil {
			return rec, nil, fmt.Errorf("decode %s event: %w", name, err)
		}
		return rec, p.Elem().Interface().(Event), nil
	}
	return rec, nil, fmt.Errorf("decode event: unknown type %q", rec.Type)
}
