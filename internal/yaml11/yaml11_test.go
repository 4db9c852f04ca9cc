package yaml11

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/kpxdev/kpx/internal/testfleet"
)

func decodeString(t testing.TB, src string) (any, error) {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		return nil, err
	}
	return Decode(&n)
}

func TestDecode(t *testing.T) {
	big23, _ := new(big.Int).SetString("12345678901234567890123", 10)
	tests := []struct {
		src  string
		want any
	}{
		{"yes", true}, {"Off", false}, {"y", "y"}, {"0755", 493}, {"0o755", "0o755"},
		{"1_000", 1000}, {"0x1F", 31}, {"1:30", 90}, {".5", 0.5}, {"1e3", "1e3"},
		{"1.0e+3", 1000.0}, {"~", nil}, {"", nil}, {"09", "09"}, {"0b101", 5}, {"-0", 0},
		{"190:20:30.15", 685230.15}, {"12345678901234567890123", big23},
		{"'yes'", "yes"}, {"!!str 0755", "0755"}, {"!!int '12'", 12}, {"!!float '1'", 1.0},
		{"[yes, 'no', 010]", []any{true, "no", 8}},
		{"{1: a, true: b, ~: c}", map[string]any{"1": "a", "True": "b", "None": "c"}},
		{"base: &b {a: 1, b: 2}\nx:\n  <<: *b\n  b: 3", map[string]any{"base": map[string]any{"a": 1, "b": 2}, "x": map[string]any{"a": 1, "b": 3}}},
		{"x:\n  <<: [{a: 1}, {a: 2, c: 3}]", map[string]any{"x": map[string]any{"a": 1, "c": 3}}},
	}
	for _, tc := range tests {
		got, err := decodeString(t, tc.src)
		if err != nil {
			t.Errorf("%q: %v", tc.src, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q = %#v, want %#v", tc.src, got, tc.want)
		}
	}
	if _, err := decodeString(t, "!!int abc"); err == nil {
		t.Error("!!int abc decoded without error")
	}
	if _, err := decodeString(t, "x:\n  <<: 5"); err == nil {
		t.Error("merge of a scalar decoded without error")
	}
}

// pyOracle types each scalar with PyYAML, the loader Ansible uses.
const pyOracle = `
import json, sys, yaml
out = []
for s in json.load(sys.stdin):
    try:
        v = yaml.safe_load("k: " + s)["k"]
        out.append([type(v).__name__, repr(v) if not isinstance(v, str) else v])
    except Exception:
        out.append(["error", ""])
json.dump(out, sys.stdout)
`

// TestScalarsMatchPyYAML types thousands of plain scalars, hand-picked and random, with kpx
// and with PyYAML, and requires the same type and value.
func TestScalarsMatchPyYAML(t *testing.T) {
	testfleet.RequireTool(t, "ansible") // ansible-core brings PyYAML with it
	inputs := []string{"yes", "NO", "on", "y", "n", "0755", "0o17", "0x_1f", "0b_1", "1:30", "-1:30", "1:60",
		"1.0e+999", "-.inf", ".NaN", ".nan", "+.5", "1_2.3_4", "1.e-2", "~", "null", "NULL", "nuLL", "0", "00", "08",
		"+0", "9223372036854775808", "-9223372036854775809", "3.14", "1e3", "1.5E+3", "190:20:30.15"}
	rng := rand.New(rand.NewPCG(3, 4))
	atoms := []string{"0", "1", "7", "8", "9", "_", "-", "+", ".", "e", "E", "x", "b", "a", "f", ":", "inf", "nan", "yes", "No", "~", "null", "5", "3"}
	for range 5000 {
		var b strings.Builder
		for n := rng.IntN(6); n >= 0; n-- {
			b.WriteString(atoms[rng.IntN(len(atoms))])
		}
		inputs = append(inputs, b.String())
	}
	payload, _ := json.Marshal(inputs)
	cmd := exec.Command("/usr/bin/python3", "-c", pyOracle)
	cmd.Stdin = bytes.NewReader(payload)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("PyYAML oracle: %v", err)
	}
	var want [][2]string
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	bad := 0
	for i, in := range inputs {
		if want[i][0] == "error" {
			continue
		}
		got, err := decodeString(t, "k: "+in)
		if err != nil {
			continue // a yaml.v3 parse difference, not a typing one
		}
		v := got.(map[string]any)["k"]
		if !samePy(v, want[i][0], want[i][1]) {
			t.Errorf("%q: kpx %T %v, PyYAML %s %s", in, v, v, want[i][0], want[i][1])
			if bad++; bad > 20 {
				t.Fatal("too many mismatches")
			}
		}
	}
}

func samePy(v any, typ, repr string) bool {
	switch v := v.(type) {
	case nil:
		return typ == "NoneType"
	case bool:
		return typ == "bool" && repr == map[bool]string{true: "True", false: "False"}[v]
	case int:
		return typ == "int" && repr == strconv.Itoa(v)
	case *big.Int:
		return typ == "int" && repr == v.String()
	case float64:
		if typ != "float" {
			return false
		}
		switch repr {
		case "inf":
			return math.IsInf(v, 1)
		case "-inf":
			return math.IsInf(v, -1)
		case "nan":
			return math.IsNaN(v)
		}
		f, err := strconv.ParseFloat(repr, 64)
		return err == nil && f == v
	case string:
		return typ == "str" && repr == v
	}
	return false
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{"a: yes", "x: [1, 0755, {b: ~}]", "a: &x {b: 1}\nc: {<<: *x}", "1:30", "!!int 0x1f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		var n yaml.Node
		if yaml.Unmarshal([]byte(src), &n) != nil {
			return
		}
		v, err := Decode(&n)
		if err == nil {
			_ = fmt.Sprint(v)
		}
	})
}

func TestAliasBombIsRefused(t *testing.T) {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&b, "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(b.String()), &n); err != nil {
		t.Fatal(err)
	}
	// The production budget (maxNodes) takes the same path; a smaller one keeps the test fast
	// under the race detector.
	_, err := decodeWithin(&n, 100_000)
	if err == nil || !strings.Contains(err.Error(), "too many values") {
		t.Fatalf("alias bomb: err = %v, want a refusal", err)
	}
}
