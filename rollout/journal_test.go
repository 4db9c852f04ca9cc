package rollout

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestFileJournalAppendReadReopen(t *testing.T) {
	store := JournalStore{Dir: filepath.Join(t.TempDir(), "runs")}
	j, err := store.Create("20261202T000000-aaaaaa")
	if err != nil {
		t.Fatal(err)
	}
	evs := []Event{
		RunStarted{RunID: "20261202T000000-aaaaaa", Command: "run"},
		WaveChanged{Play: "p", Wave: 1, Waves: 2, State: WaveRunning, Hosts: []string{"a"}},
		HostTaskState{Host: "a", Wave: 1, Phase: PhaseTasks, Task: "t", State: HostStarted},
	}
	for _, ev := range evs {
		if err := j.Append(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	// A crash in the middle of a write leaves a partial last line.
	f, _ := os.OpenFile(store.Path("20261202T000000-aaaaaa"), os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"seq":3,"time":"2026-12-02T00:00:00Z","type":"host_ta`)
	f.Close()

	j2, err := store.Open("20261202T0000") // a unique prefix
	if err != nil {
		t.Fatal(err)
	}
	if err := j2.Append(HostTaskState{Host: "a", Wave: 1, Phase: PhaseTasks, Task: "t", State: "changed"}); err != nil {
		t.Fatal(err)
	}
	entries, err := j2.Read()
	if err != nil {
		t.Fatal(err)
	}
	j2.Close()
	if len(entries) != 4 {
		t.Fatalf("%d entries, want 4 (the partial line dropped)", len(entries))
	}
	for i, e := range entries {
		if e.Seq != int64(i) {
			t.Errorf("entry %d has seq %d", i, e.Seq)
		}
	}
	if !reflect.DeepEqual(entries[1].Event, evs[1]) {
		t.Errorf("entry 1: %#v", entries[1].Event)
	}
	st := Replay(entries)
	if h := st.Plays[0].Hosts["a"]; h.State != "changed" || !h.Started {
		t.Errorf("replayed host %+v", h)
	}
	if ids, _ := store.IDs(); len(ids) != 1 {
		t.Errorf("ids %v", ids)
	}
	if _, err := store.Open("nope"); err == nil {
		t.Error("opened a run that does not exist")
	}
}

func TestReadJournalNamesBadLine(t *testing.T) {
	line, _ := EncodeEvent(0, timeZero, Warning{Msg: "x"})
	data := string(line) + "\n" + "{not json}\n" + string(line) + "\n"
	_, valid, err := ReadJournal(strings.NewReader(data))
	var je *JournalError
	if !errors.As(err, &je) || je.Line != 2 {
		t.Fatalf("error %v, want a JournalError on line 2", err)
	}
	if valid != int64(len(line)+1) {
		t.Errorf("valid %d, want %d", valid, len(line)+1)
	}
}

func TestReplayFinalStates(t *testing.T) {
	hts := func(h, phase, state string) JournalEntry {
		return JournalEntry{Event: HostTaskState{Host: h, Wave: 1, Phase: phase, Task: "t", State: state}}
	}
	entries := []JournalEntry{
		{Event: RunStarted{RunID: "r"}},
		hts("applied", PhaseTasks, HostStarted), hts("applied", PhaseTasks, "changed"), hts("applied", PhaseTasks, HostApplied),
		hts("applied", PhaseCheck, HostStarted),
		hts("unknown", PhaseTasks, HostStarted),
		hts("facts", PhaseFacts, HostStarted),
		hts("back", PhaseTasks, HostStarted), hts("back", PhaseTasks, "changed"), hts("back", PhaseTasks, HostApplied),
		hts("back", PhaseRollback, HostStarted), hts("back", PhaseRollback, "changed"), hts("back", PhaseRollback, HostRolledBack),
		hts("halfback", PhaseTasks, HostStarted), hts("halfback", PhaseTasks, "ok"), hts("halfback", PhaseRollback, HostStarted),
		hts("failed", PhaseTasks, HostStarted), hts("failed", PhaseTasks, "failed"),
	}
	st := Replay(entries)
	want := map[string]string{"applied": "applied", "unknown": "unknown", "facts": "untouched", "back": "rolled_back", "halfback": "unknown", "failed": "failed"}
	for h, w := range want {
		if got := st.Plays[0].Hosts[h].Final(); got != w {
			t.Errorf("%s: %s, want %s", h, got, w)
		}
	}
}

// FuzzReadJournal: whatever the bytes, the reader returns entries or an error naming a
// line, never panics, and what it accepts survives a round trip.
func FuzzReadJournal(f *testing.F) {
	for _, ev := range []Event{
		RunStarted{RunID: "r", Hosts: []string{"a"}, ExtraVars: map[string]any{"x": 1.0}},
		HostTaskState{Host: "a", Phase: PhaseTasks, State: HostStarted},
		WaveChanged{Wave: 1, State: WaveFailed, Reason: "x"},
		HostResult{Host: "a", Status: StatusFailed, Result: map[string]any{"msg": "m"}},
	} {
		line, _ := EncodeEvent(1, timeZero, ev)
		f.Add(append(line, '\n'))
		f.Add(line)
	}
	f.Add([]byte("\n\n{}\n"))
	f.Add([]byte(`{"seq":1,"type":"run_started","event":null}` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, valid, err := ReadJournal(bytes.NewReader(data))
		if valid > int64(len(data)) {
			t.Fatalf("valid %d beyond %d bytes", valid, len(data))
		}
		if err != nil {
			var je *JournalError
			if !errors.As(err, &je) || je.Line < 1 {
				t.Fatalf("error %v does not name a line", err)
			}
			return
		}
		var buf bytes.Buffer
		for _, e := range entries {
			line, err := EncodeEvent(e.Seq, e.Time, e.Event)
			if err != nil {
				t.Fatalf("re-encode %T: %v", e.Event, err)
			}
			buf.Write(append(line, '\n'))
		}
		again, _, err := ReadJournal(&buf)
		if err != nil || len(again) != len(entries) {
			t.Fatalf("round trip: %d entries, then %d (%v)", len(entries), len(again), err)
		}
		_ = Replay(entries)
	})
}

var timeZero = mustTime("2026-12-02T00:00:00Z")
