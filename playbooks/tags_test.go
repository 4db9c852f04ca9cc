package playbooks

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestSelected(t *testing.T) {
	tests := []struct {
		tags       []string
		only, skip []string
		want       bool
	}{
		{nil, nil, nil, true},
		{[]string{"a"}, nil, nil, true},
		{[]string{"never"}, nil, nil, false},
		{[]string{"never", "debug"}, []string{"debug"}, nil, true},
		{[]string{"always"}, []string{"x"}, nil, true},
		{[]string{"always"}, nil, []string{"always"}, false},
		{[]string{"always"}, nil, []string{"all"}, true},
		{[]string{"a"}, []string{"b"}, nil, false},
		{[]string{"a", "b"}, []string{"b"}, nil, true},
		{nil, []string{"untagged"}, nil, true},
		{[]string{"a"}, []string{"untagged"}, nil, false},
		{[]string{"a"}, []string{"tagged"}, nil, true},
		{nil, []string{"tagged"}, nil, false},
		{[]string{"a"}, nil, []string{"a"}, false},
		{[]string{"a"}, nil, []string{"tagged"}, false},
		{nil, nil, []string{"tagged"}, true},
		{nil, nil, []string{"all"}, false},
	}
	for _, tc := range tests {
		task := &Task{Keywords: Keywords{Tags: tc.tags}}
		if got := task.Selected(tc.only, tc.skip); got != tc.want {
			t.Errorf("tags %v --tags %v --skip-tags %v: %v, want %v", tc.tags, tc.only, tc.skip, got, tc.want)
		}
	}
}

func TestParseExtraVars(t *testing.T) {
	file := filepath.Join(t.TempDir(), "vars.yml")
	os.WriteFile(file, []byte("from_file: yes\nport: 5432\n"), 0o644)
	got, err := ParseExtraVars([]string{`a=1 b="two words"`, `{"c": [1, 2], "a": 3}`, "@" + file, "port=6432"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"a": 3, "b": "two words", "c": []any{1, 2}, "from_file": true, "port": "6432"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v\nwant %#v", got, want)
	}
	for _, bad := range []string{"[1, 2]", "justtext", "@/nonexistent/vars.yml", `{"a": `} {
		if _, err := ParseExtraVars([]string{bad}); err == nil {
			t.Errorf("-e %q accepted", bad)
		}
	}
}
