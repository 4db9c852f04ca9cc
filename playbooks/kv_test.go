package playbooks

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"

	"github.com/kpxdev/kpx/internal/testfleet"
)

var kvCases = []struct {
	in       string
	freeForm bool
	want     map[string]any
}{
	{"echo hi", true, map[string]any{"_raw_params": "echo hi"}},
	{`chdir=/tmp echo "a b"  c`, true, map[string]any{"chdir": "/tmp", "_raw_params": `echo "a b"  c`}},
	{"path=/x state=touch mode=0644", false, map[string]any{"path": "/x", "state": "touch", "mode": "0644"}},
	{"path=/x state=touch", true, map[string]any{"_raw_params": "path=/x state=touch"}},
	{`a="b c" d='e' f`, false, map[string]any{"a": "b c", "d": "e", "_raw_params": "f"}},
	{`x={{ a | default("b c") }} y`, false, map[string]any{"x": `{{ a | default("b c") }}`, "_raw_params": "y"}},
	{`echo a\=b c=d`, false, map[string]any{"c": "d", "_raw_params": "echo a=b"}},
	{"a=1\nb=2", false, map[string]any{"a": "1", "b": "2"}},
	{`msg="tab\there"`, false, map[string]any{"msg": "tab\there"}},
	{"", false, map[string]any{}},
}

func TestParseKV(t *testing.T) {
	for _, tc := range kvCases {
		got, err := parseKV(tc.in, tc.freeForm)
		if err != nil {
			t.Errorf("parseKV(%q): %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parseKV(%q, %v) = %v, want %v", tc.in, tc.freeForm, got, tc.want)
		}
	}
	for _, bad := range []string{`a="b`, "x={{ y", "{% if", "  a"} {
		if got, err := parseKV(bad, false); err == nil {
			t.Errorf("parseKV(%q) = %v, want an error", bad, got)
		}
	}
}

// kvOracle is a Python program that runs Ansible's own argument parser over JSON input.
const kvOracle = `
import json, sys
from ansible.parsing.splitter import parse_kv
out = []
for s, raw in json.load(sys.stdin):
    try:
        out.append({"ok": parse_kv(s, check_raw=raw)})
    except Exception as e:
        out.append({"err": type(e).__name__})
json.dump(out, sys.stdout)
`

// TestParseKVMatchesAnsible feeds the same strings, hand-picked and random, to kpx and to
// Ansible's parser and requires the same arguments (or an error from both).
func TestParseKVMatchesAnsible(t *testing.T) {
	testfleet.RequireTool(t, "ansible")
	inputs := make([]string, 0, 4000)
	for _, tc := range kvCases {
		inputs = append(inputs, tc.in)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	atoms := []string{" ", "  ", "=", `"`, "'", `\`, `\=`, `\n`, `\t`, `\x41`, `\u00e9`, "\n", "{{", "}}", "{%", "%}", "{#", "#}", "a", "b", "key", "=v", "chdir", "é", "\t"}
	for range 4000 {
		var b strings.Builder
		for n := rng.IntN(10); n >= 0; n-- {
			b.WriteString(atoms[rng.IntN(len(atoms))])
		}
		inputs = append(inputs, b.String())
	}
	var cases [][2]any
	for _, in := range inputs {
		cases = append(cases, [2]any{in, false}, [2]any{in, true})
	}
	payload, _ := json.Marshal(cases)
	cmd := exec.Command("/usr/bin/python3", "-c", kvOracle)
	cmd.Stdin = bytes.NewReader(payload)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ansible's parse_kv: %v", err)
	}
	var want []struct {
		OK  map[string]any `json:"ok"`
		Err string         `json:"err"`
	}
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	mismatches := 0
	for i, c := range cases {
		in, freeForm := c[0].(string), c[1].(bool)
		got, err := parseKV(in, freeForm)
		switch {
		case want[i].Err != "" && err == nil:
			t.Errorf("parseKV(%q, %v) = %v; ansible fails with %s", in, freeForm, got, want[i].Err)
		case want[i].Err == "" && err != nil:
			t.Errorf("parseKV(%q, %v): %v; ansible gives %v", in, freeForm, err, want[i].OK)
		case want[i].Err == "" && !reflect.DeepEqual(got, want[i].OK):
			t.Errorf("parseKV(%q, %v) = %q; ansible gives %q", in, freeForm, got, want[i].OK)
		default:
			continue
		}
		if mismatches++; mismatches > 20 {
			t.Fatal("too many mismatches")
		}
	}
}

func FuzzParseKV(f *testing.F) {
	for _, tc := range kvCases {
		f.Add(tc.in, tc.freeForm)
	}
	f.Fuzz(func(t *testing.T, s string, freeForm bool) {
		args, err := parseKV(s, freeForm)
		if err != nil {
			return
		}
		for k := range args {
			if freeForm && k != rawParamsKey && !commandOptions[k] {
				t.Fatalf("free-form parse of %q produced option %q", s, k)
			}
		}
	})
}
