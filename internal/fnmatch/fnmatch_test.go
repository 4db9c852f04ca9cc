package fnmatch

import (
	"strings"
	"testing"
)

func TestMatcher(t *testing.T) {
	for _, c := range []struct {
		pat, name string
		want      bool
	}{
		{"b2", "b2", true},
		{"b*", "b2", true},
		{"b*", "b", true},
		{"b?", "b22", false},
		{"[ab]1", "a1", true},
		{"[!ab]1", "a1", false},
		{"[!ab]1", "c1", true},
		{"[]]", "]", true},
		{"[^a]", "^", true},
		{"*/x", "a/b/x", true},
		{"a.b", "axb", false},
		{"[", "[", true},
		{"[z-a]", "[z-a]", true}, // not a valid class: only itself
		{"x*", "x\ny", true},     // * crosses newlines, as in Python
		{"é?", "éa", true},       // ? is one character, not one byte
		{"db*", "DB1", false},    // case-sensitive, as on POSIX
	} {
		if got := Matcher(c.pat)(c.name); got != c.want {
			t.Errorf("fnmatch(%q, %q) = %v, want %v", c.name, c.pat, got, c.want)
		}
	}
}

// A pattern matches itself; one without wildcards matches nothing else.
func FuzzMatcher(f *testing.F) {
	for _, s := range []string{"web*", "[!a]x", "a?c", "[", "x[]]y", "plain"} {
		f.Add(s, "web1")
	}
	f.Fuzz(func(t *testing.T, pat, name string) {
		m := Matcher(pat)
		if !m(pat) {
			t.Fatalf("%q does not match itself", pat)
		}
		if !strings.ContainsAny(pat, "*?[") && m(name) != (name == pat) {
			t.Fatalf("literal %q matched %q: %v", pat, name, m(name))
		}
	})
}
