package rollout

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestJournalFileBackend(t *testing.T) {
	var b JournalBackend = FileBackend{Store: JournalStore{Dir: filepath.Join(t.TempDir(), "runs")}}
	ids := []string{"20261202T000000-aaaaaa", "20261202T000001-bbbbbb"}
	for _, id := range ids {
		j, err := b.Create(id)
		if err != nil {
			t.Fatal(err)
		}
		if err := j.Append(RunStarted{RunID: id, Command: "run"}); err != nil {
			t.Fatal(err)
		}
		if err := j.Sync(); err != nil {
			t.Fatal(err)
		}
		if err := j.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Create(ids[0]); err == nil {
		t.Error("Create overwrote an existing run")
	}
	got, err := b.Runs()
	if err != nil || strings.Join(got, " ") != strings.Join(ids, " ") {
		t.Errorf("Runs: %v %v", got, err)
	}
	tests := []struct {
		id   string
		want string // the run read, or an error's words
		err  bool
	}{
		{id: ids[0], want: ids[0]},
		{id: "20261202T000001", want: ids[1]},
		{id: "20261202T00000", want: "ambiguous", err: true},
		{id: "nope", want: "no run", err: true},
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			entries, err := b.ReadRun(tc.id)
			if tc.err {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("got %v, want an error with %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if st := Replay(entries); st.Start.RunID != tc.want {
				t.Errorf("read run %q", st.Start.RunID)
			}
			j, err := b.Open(tc.id)
			if err != nil {
				t.Fatal(err)
			}
			j.Close()
		})
	}
	if w := b.Where(ids[0]); !strings.HasSuffix(w, ids[0]+".jsonl") {
		t.Errorf("Where: %s", w)
	}
}

func TestJournalLockConflictError(t *testing.T) {
	since := time.Date(2026, 12, 2, 1, 2, 3, 0, time.UTC)
	a := Holder{RunID: "run-a", User: "ann", Machine: "m1", PID: 7, Since: since}
	b := Holder{RunID: "run-b", User: "bob", Machine: "m2", PID: 8, Since: since}
	tests := []struct {
		name string
		held map[string]Holder
		want []string
	}{
		{"one holder", map[string]Holder{"h1": a}, []string{"h1 locked by run run-a (ann@m1, pid 7, since 2026-12-02T01:02:03Z)"}},
		{"two holders, hosts sorted", map[string]Holder{"h3": b, "h2": a, "h1": a},
			[]string{"h1, h2 locked by run run-a", "h3 locked by run run-b (bob@m2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg := (&LockConflictError{Held: tc.held}).Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("%q does not contain %q", msg, w)
				}
			}
		})
	}
}
