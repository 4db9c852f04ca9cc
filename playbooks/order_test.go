package playbooks

import (
	"slices"
	"testing"
)

func TestOrderHosts(t *testing.T) {
	in := []string{"b", "c", "a"}
	for order, want := range map[string][]string{
		"":                  {"b", "c", "a"},
		"inventory":         {"b", "c", "a"},
		"reverse_inventory": {"a", "c", "b"},
		"sorted":            {"a", "b", "c"},
		"reverse_sorted":    {"c", "b", "a"},
	} {
		if got := OrderHosts(in, order); !slices.Equal(got, want) {
			t.Errorf("order %q: %v, want %v", order, got, want)
		}
	}
	got := OrderHosts(in, "shuffle")
	slices.Sort(got)
	if !slices.Equal(got, []string{"a", "b", "c"}) || !slices.Equal(in, []string{"b", "c", "a"}) {
		t.Errorf("shuffle lost or changed hosts: %v (input now %v)", got, in)
	}
}
