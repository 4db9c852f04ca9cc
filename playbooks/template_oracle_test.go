package playbooks

import (
	"bytes"
	"encoding/json"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kpxdev/kpx/internal/pyvalue"
	"github.com/kpxdev/kpx/internal/testfleet"
)

// oracleCase is one differential case: a template (or a bare conditional) and the
// variables to render it with, merged over oracleBaseVars.
type oracleCase struct {
	Kind     string         `json:"kind"` // "render" or "cond"
	Template string         `json:"template"`
	Vars     map[string]any `json:"vars"`
}

// oracleResult is what Ansible (or kpx) made of a case.
type oracleResult struct {
	OK    bool   `json:"ok"`
	Value any    `json:"value"`
	Error string `json:"error"`
}

// oracleEnv is the environment lookup('env') sees on both sides.
var oracleEnv = map[string]string{"KPX_TEMPLATE_TEST": "from-env", "KPX_EMPTY": ""}

// runOracle renders cases with Ansible's Templar through the Python oracle, in one batch.
func runOracle(t *testing.T, cases []oracleCase) []oracleResult {
	t.Helper()
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		t.Skipf("no %s", py)
	}
	in, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, filepath.Join("..", "testdata", "playbooks", "template", "oracle.py"))
	cmd.Stdin = bytes.NewReader(in)
	cmd.Env = append(os.Environ(), "ANSIBLE_CONFIG="+filepath.Join(t.TempDir(), "none.cfg"), "ANSIBLE_NOCOLOR=1",
		"ANSIBLE_LOCAL_TEMP="+t.TempDir())
	for k, v := range oracleEnv {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("oracle: %v\n%s", err, stderr.String())
	}
	var res []oracleResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("oracle output: %v\n%s", err, out)
	}
	if len(res) != len(cases) {
		t.Fatalf("oracle returned %d results for %d cases", len(res), len(cases))
	}
	return res
}

// typedValue encodes a kpx value as the oracle encodes Python values.
func typedValue(v any) any {
	switch x := v.(type) {
	case nil:
		return []any{"none"}
	case bool:
		return []any{"bool", x}
	case int:
		return []any{"int", big.NewInt(int64(x)).String()}
	case *big.Int:
		return []any{"int", x.String()}
	case float64:
		return []any{"float", pyvalue.Float(x)}
	case string:
		return []any{"str", x}
	case []any:
		items := make([]any, len(x))
		for i, e := range x {
			items[i] = typedValue(e)
		}
		return []any{"list", items}
	case map[string]any:
		items := []any{}
		for _, k := range yamlSortedKeys(x) {
			items = append(items, []any{k, typedValue(x[k])})
		}
		return []any{"dict", items}
	}
	return []any{"other", pyvalue.Repr(v)}
}

// kpxResult renders a case with kpx.
func kpxResult(tp *Templar, c oracleCase) oracleResult {
	vars := oracleVars(c)
	var v any
	var err error
	if c.Kind == "cond" {
		v, err = tp.Evaluate(c.Template, vars)
	} else {
		v, err = tp.Render(c.Template, vars)
	}
	if err != nil {
		return oracleResult{Error: err.Error()}
	}
	return oracleResult{OK: true, Value: typedValue(v)}
}

// oracleVars is the case's variables as kpx values (JSON numbers typed as Python's).
func oracleVars(c oracleCase) map[string]any {
	b, _ := json.Marshal(c.Vars)
	v, err := filterFromJSON(string(b), nil, nil)
	if err != nil {
		panic(err)
	}
	m, _ := v.(map[string]any)
	return m
}

func testTemplar(t *testing.T) *Templar {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "testdata", "playbooks", "template"))
	if err != nil {
		t.Fatal(err)
	}
	return NewTemplar(TemplarOptions{
		SearchDirs: []string{dir},
		Getenv:     func(k string) string { return oracleEnv[k] },
	})
}

// TestTemplateMatchesAnsible renders every case with kpx and with Ansible's templar and
// requires the same type and value, or both to fail.
func TestTemplateMatchesAnsible(t *testing.T) {
	testfleet.RequireTool(t, "ansible")
	dir, err := filepath.Abs(filepath.Join("..", "testdata", "playbooks", "template"))
	if err != nil {
		t.Fatal(err)
	}
	cases := differentialCases()
	nMatch := len(cases)
	cases = append(cases, knownDivergences()...)
	for i := range cases {
		cases[i].Template = strings.ReplaceAll(cases[i].Template, "@TESTDATA@", dir)
		if cases[i].Kind == "" {
			cases[i].Kind = "render"
		}
		merged := map[string]any{}
		for k, v := range oracleBaseVars() {
			merged[k] = v
		}
		for k, v := range cases[i].Vars {
			merged[k] = v
		}
		cases[i].Vars = merged
	}
	want := runOracle(t, cases)
	tp := testTemplar(t)
	failed := 0
	for i, c := range cases {
		got := kpxResult(tp, c)
		same := sameResult(got, want[i])
		if i < nMatch && want[i].OK {
			check := tp.Check
			if c.Kind == "cond" {
				check = tp.CheckCondition
			}
			if err := check(c.Template); err != nil {
				t.Errorf("checking %q: %v, but Ansible renders it", c.Template, err)
			}
		}
		switch {
		case i < nMatch && !same:
			failed++
			t.Errorf("%s %q:\n  kpx:     %s\n  ansible: %s", c.Kind, c.Template, showResult(got), showResult(want[i]))
		case i >= nMatch && same:
			t.Errorf("known divergence %q now matches Ansible: move it to differentialCases", c.Template)
		}
	}
	t.Logf("%d/%d cases match Ansible; %d known divergences", nMatch-failed, nMatch, len(cases)-nMatch)
}

func sameResult(a, b oracleResult) bool {
	if a.OK != b.OK {
		return false
	}
	if !a.OK {
		return true
	}
	ja, _ := json.Marshal(a.Value)
	jb, _ := json.Marshal(b.Value)
	return bytes.Equal(ja, jb)
}

func showResult(r oracleResult) string {
	if !r.OK {
		return "error: " + r.Error
	}
	b, _ := json.Marshal(r.Value)
	return string(b)
}
