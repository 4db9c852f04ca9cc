package playbooks

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStartAt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.yml")
	if err := os.WriteFile(path, []byte(`
- name: one
  hosts: all
  tasks:
    - name: a
      debug: msg=a
    - name: blk
      block:
        - name: b1
          debug: msg=b1
        - name: b2
          debug: msg=b2
      rescue:
        - name: r
          debug: msg=r
      always:
        - name: al
          debug: msg=al
    - name: c
      debug: msg=c
- name: two
  hosts: all
  tasks:
    - name: d
      debug: msg=d
`), 0o644); err != nil {
		t.Fatal(err)
	}
	pb, err := Load(path, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	names := func(pb *Playbook) string {
		var out []string
		var walk func([]*Task)
		walk = func(ts []*Task) {
			for _, t := range ts {
				if t.Block != nil {
					walk(t.Block.Block)
					walk(t.Block.Rescue)
					walk(t.Block.Always)
					continue
				}
				out = append(out, t.Name)
			}
		}
		for _, p := range pb.Plays {
			out = append(out, "|")
			if !p.GatherFacts.Set || p.GatherFacts.Value {
				out = append(out, "facts")
			}
			walk(p.Tasks)
		}
		return strings.Join(out, " ")
	}
	for _, c := range []struct {
		pat   string
		want  string
		found bool
	}{
		{"a", "| facts a b1 b2 r al c | facts d", true},
		{"b2", "| facts b2 r al c | facts d", true},
		{"al", "| facts r al c | facts d", true},
		{"r", "| |", false},
		{"d*", "| | facts d", true},
	} {
		got, found := pb.StartAt(c.pat)
		if names(got) != c.want || found != c.found {
			t.Errorf("StartAt(%q) = %q, %v; want %q, %v", c.pat, names(got), found, c.want, c.found)
		}
	}
	if names(pb) != "| facts a b1 b2 r al c | facts d" {
		t.Errorf("StartAt changed the playbook: %s", names(pb))
	}
}
