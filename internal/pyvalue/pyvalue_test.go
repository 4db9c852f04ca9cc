package pyvalue

import (
	"bytes"
	"encoding/json"
	"math"
	"os/exec"
	"testing"

	"github.com/kpxdev/kpx/internal/testfleet"
)

// pyValues are rendered by Python (json.dumps and str) and by kpx, and must agree.
var pyValues = []any{
	nil, true, false, 0, -7, 1.0, 0.5, 1e15, 1e16, 123456789012345678.0, 1e-4, 1.5e-5, -2.5e-7, 0.1 + 0.2,
	3.14159, 1e100, -0.0, "", "plain", "quote\"s and \\ back", "tab\tnew\nline", "ünïcødé ✓", "it's", `both ' and "`,
	"\x01ctl", []any{}, []any{"\u0085nel\u2028ls\U000e0001tag\u00a0nbsp"}, []any{"a", 1, true, nil}, map[string]any{}, map[string]any{"b": 1, "a": []any{"x", map[string]any{"z": false}}},
}

const pyOracle = `
import json, sys
vals = json.loads(sys.stdin.read())
def fix(v):
    # JSON has no -0.0 or distinct floats for integral values: the Go side says which.
    return v
out = []
for v, isfloat in vals:
    if isfloat: v = float(v)
    out.append([json.dumps(v, sort_keys=True, ensure_ascii=False), json.dumps(v, sort_keys=True, ensure_ascii=False, indent=4), str(v)])
print(json.dumps(out))
`

func TestPythonCompatibleWriters(t *testing.T) {
	testfleet.RequireTool(t, "ansible") // brings /usr/bin/python3
	var in [][2]any
	for _, v := range pyValues {
		_, isFloat := v.(float64)
		if f, ok := v.(float64); ok && f == 0 && math.Signbit(f) {
			in = append(in, [2]any{"-0.0", true})
			continue
		}
		in = append(in, [2]any{v, isFloat})
	}
	payload, _ := json.Marshal(in)
	cmd := exec.Command("/usr/bin/python3", "-c", pyOracle)
	cmd.Stdin = bytes.NewReader(payload)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v", err)
	}
	var want [][3]string
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	for i, v := range pyValues {
		if got := JSON(v, 0); got != want[i][0] {
			t.Errorf("JSON(%#v) = %s, python %s", v, got, want[i][0])
		}
		if got := JSON(v, 4); got != want[i][1] {
			t.Errorf("JSON(%#v, 4) = %s, python %s", v, got, want[i][1])
		}
		if _, isStr := v.(string); isStr {
			continue // str() of a string is the string itself; repr is tested through containers
		}
		if got := Repr(v); got != want[i][2] {
			t.Errorf("Repr(%#v) = %s, python %s", v, got, want[i][2])
		}
	}
}

func TestStrAndBool(t *testing.T) {
	for v, want := range map[any]string{"text": "text", 1.0: "1.0", true: "True", 3: "3"} {
		if got := Str(v); got != want {
			t.Errorf("Str(%#v) = %q, want %q", v, got, want)
		}
	}
	if Str(nil) != "None" || Str([]any{"a"}) != "['a']" {
		t.Error("Str of None or a list")
	}
	for _, v := range []any{"Yes", " on ", "T", 1, true, 1.0} {
		if b, ok := Bool(v); !b || !ok {
			t.Errorf("Bool(%#v) = %v, %v", v, b, ok)
		}
	}
	for _, v := range []any{"maybe", 2, nil, []any{}} {
		if _, ok := Bool(v); ok {
			t.Errorf("Bool(%#v) accepted", v)
		}
	}
}
