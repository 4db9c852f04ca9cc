package modules

import (
	"strings"
	"testing"
)

func TestBlockingTasks(t *testing.T) {
	raw := parseRawFacts("blocker=4242 4243 postgres: walwriter\nstack=4243 [<0>] ext4_sync_file+0x1e6/0x330;[<0>] do_fsync+0x38/0x70;\nblocker=1 1 systemd\n")
	got := blockingTasks(raw)
	if len(got) != 2 {
		t.Fatalf("%v", got)
	}
	first := got[0].(map[string]any)
	if first["pid"] != 4242 || first["tid"] != 4243 || first["comm"] != "postgres: walwriter" || len(first["stack"].([]any)) != 2 {
		t.Errorf("first %v", first)
	}
	if _, ok := got[1].(map[string]any)["stack"]; ok {
		t.Errorf("a task without a readable stack has none: %v", got[1])
	}
	if d := describeBlockers(raw); d != "task 4243 (postgres: walwriter, pid 4242), task 1 (systemd, pid 1)" {
		t.Errorf("describe %q", d)
	}
}

func TestTaintLetters(t *testing.T) {
	for v, want := range map[int]string{0: "", 1 << 15: "K", 1<<12 | 1<<13 | 1<<15: "OEK", 1 | 1<<9: "PW"} {
		if got := taintLetters(v); got != want {
			t.Errorf("taintLetters(%d) = %q, want %q", v, got, want)
		}
	}
}

func FuzzBlockingTasks(f *testing.F) {
	f.Add("blocker=1 2 comm\nstack=2 a;b;\n")
	f.Fuzz(func(t *testing.T, s string) {
		for _, b := range blockingTasks(parseRawFacts(s)) {
			if _, ok := b.(map[string]any)["tid"].(int); !ok {
				t.Fatal("tid is not an int")
			}
		}
		_ = describeBlockers(parseRawFacts(s))
	})
}

func FuzzParseKcareInfo(f *testing.F) {
	f.Add("kpatch-state: patch is applied\nkpatch-for: Linux version 5\n")
	f.Fuzz(func(t *testing.T, s string) {
		for k := range parseKcareInfo(s) {
			if strings.Contains(k, " ") {
				t.Fatalf("key %q", k)
			}
		}
	})
}
