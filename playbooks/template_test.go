package playbooks

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/kpxdev/kpx/internal/pyvalue"
)

func TestTemplateRenderNative(t *testing.T) {
	tp := NewTemplar(TemplarOptions{})
	vars := map[string]any{"n": 5, "l": []any{"a", "b"}, "s": "x", "none": nil,
		"d": map[string]any{"k": 1}, "ref": "{{ s }}-{{ n }}", "loop_a": "{{ loop_b }}", "loop_b": "{{ loop_a }}"}
	cases := []struct {
		tpl  string
		want any
	}{
		{"plain", "plain"},
		{"{{ n }}", 5},
		{"{{ n + 1 }}", "6"},
		{"{{ l }}", []any{"a", "b"}},
		{"{{ d }}", map[string]any{"k": 1}},
		{"{{ l }} and more", "['a', 'b'] and more"},
		{"{{ true }}", true},
		{"{{ none }}", nil},
		{"<{{ none }}>", "<>"},
		{"{{ 3.0 }}", "3.0"},
		{"{{ ref }}", "x-5"},
		{"{{ l | to_json }}", `["a", "b"]`},
		{"{{ '[1]' }}", []any{1}},
		{"{{ omit }}", Omit},
		{"{{ s.upper() ~ 'a\\d' }}", `Xa\d`},
		{"{{ 2 ** 70 }}", "1180591620717411303424"},
		{"{{ -7 // 2 }}", "-4"},
		{"{{ '%s-%03d' % ('a', 7) }}", "a-007"},
	}
	for _, c := range cases {
		got, err := tp.Render(c.tpl, vars)
		if err != nil {
			t.Errorf("Render(%q): %v", c.tpl, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("Render(%q) = %#v, want %#v", c.tpl, got, c.want)
		}
	}
	if _, err := tp.Render("{{ loop_a }}", vars); err == nil || !strings.Contains(err.Error(), "recursive") {
		t.Errorf("self-referencing variables: err = %v, want a recursion error", err)
	}
}

func TestTemplateErrors(t *testing.T) {
	tp := NewTemplar(TemplarOptions{})
	for tpl, want := range map[string]string{
		"{{ foo }}":              "'foo' is undefined",
		"a {{ foo.bar }} b":      "'foo' is undefined",
		"{{ d.nope }}":           "no attribute 'nope'",
		"{{ 1 | nosuchfilter }}": "nosuchfilter",
		"{{ '' | mandatory }}":   "",
	} {
		_, err := tp.Render(tpl, map[string]any{"d": map[string]any{}})
		if want == "" {
			if err != nil {
				t.Errorf("Render(%q): %v", tpl, err)
			}
			continue
		}
		var te *TemplateError
		if !errors.As(err, &te) {
			t.Errorf("Render(%q): err = %v, want a *TemplateError", tpl, err)
			continue
		}
		if te.IsUndefined() != (want != "nosuchfilter") {
			t.Errorf("Render(%q): IsUndefined() = %v", tpl, te.IsUndefined())
		}
		if te.Template != tpl || !strings.Contains(err.Error(), want) {
			t.Errorf("Render(%q): err = %v (template %q), want it to say %q", tpl, err, te.Template, want)
		}
	}
}

func TestTemplateCheck(t *testing.T) {
	tp := NewTemplar(TemplarOptions{})
	for _, ok := range []string{"", "plain", "{{ x }}", "{% if a %}b{% endif %}", "{{ x | default('y') }}",
		"{# c #}", "{{ undefined_is_fine_here }}", `{{ s | regex_replace('\d+', '\1') }}`} {
		if err := tp.Check(ok); err != nil {
			t.Errorf("Check(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"{{ x", "{{ 1 + }}", "{% if %}{% endif %}", "{% for x in y %}", "{% endif %}",
		"{{ x | }}", "{% nosuchtag %}", "{{ x | nosuchfilter }}", "{% if x is nosuchtest %}{% endif %}",
		"{{ l | map('upper') | nope }}"} {
		err := tp.Check(bad)
		var te *TemplateError
		if !errors.As(err, &te) {
			t.Errorf("Check(%q) = %v, want a *TemplateError", bad, err)
		}
	}
}

func TestTemplateCheckCondition(t *testing.T) {
	tp := NewTemplar(TemplarOptions{})
	for _, ok := range []string{"", "x", "r is failed", "a.b == 1 and c not in d", "{{ x }}", "x | bool"} {
		if err := tp.CheckCondition(ok); err != nil {
			t.Errorf("CheckCondition(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"x ==", "x is nosuchtest", "x | nosuchfilter", "(x", "x %}{% if y"} {
		err := tp.CheckCondition(bad)
		var te *TemplateError
		if !errors.As(err, &te) || te.Template != bad {
			t.Errorf("CheckCondition(%q) = %v, want a *TemplateError naming the condition", bad, err)
		}
	}
}

func TestTemplateEvaluate(t *testing.T) {
	tp := NewTemplar(TemplarOptions{})
	vars := map[string]any{"r": map[string]any{"rc": 0, "failed": false}, "n": 3}
	cases := []struct {
		cond any
		want bool
	}{
		{true, true}, {false, false}, {"r.rc == 0", true}, {"r is failed", false},
		{"r is succeeded and n > 2", true}, {"missing is not defined", true}, {"", true},
		{"{{ n == 3 }}", true},
	}
	for _, c := range cases {
		got, err := tp.Evaluate(c.cond, vars)
		if err != nil || got != c.want {
			t.Errorf("Evaluate(%v) = %v, %v; want %v", c.cond, got, err, c.want)
		}
	}
	if _, err := tp.Evaluate("missing == 1", vars); err == nil || !strings.Contains(err.Error(), "'missing' is undefined") {
		t.Errorf("Evaluate on an undefined variable: err = %v", err)
	}
}

func TestTemplateRenderValue(t *testing.T) {
	tp := NewTemplar(TemplarOptions{})
	in := map[string]any{"{{ k }}": "{{ v }}", "list": []any{"{{ v }}", 1, map[string]any{"x": "{{ n }}"}}}
	got, err := tp.RenderValue(in, map[string]any{"k": "key", "v": "val", "n": 2})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"{{ k }}": "val", "list": []any{"val", 1, map[string]any{"x": 2}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("RenderValue = %#v, want %#v", got, want)
	}
	if _, ok := in["list"].([]any)[0].(string); !ok || in["list"].([]any)[0] != "{{ v }}" {
		t.Errorf("RenderValue modified its input")
	}
}

func TestTemplateLookups(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "files"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "files", "motd"), []byte("hello\n\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tp := NewTemplar(TemplarOptions{SearchDirs: []string{dir}, Getenv: func(k string) string {
		return map[string]string{"HOME": "/home/kpx"}[k]
	}})
	for tpl, want := range map[string]any{
		"{{ lookup('file', 'motd') }}":                             "hello",
		"{{ lookup('env', 'HOME') }}":                              "/home/kpx",
		"{{ lookup('env', 'HOME', 'NOPE') }}":                      "/home/kpx,",
		"{{ query('env', 'HOME') }}":                               []any{"/home/kpx"},
		"{{ lookup('ansible.builtin.env', 'NOPE', default='d') }}": "d",
	} {
		got, err := tp.Render(tpl, nil)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("Render(%q) = %#v, %v; want %#v", tpl, got, err, want)
		}
	}
	if _, err := tp.Render("{{ lookup('file', 'absent') }}", nil); err == nil {
		t.Errorf("lookup of a missing file did not fail")
	}
}

func TestTemplateConcurrent(t *testing.T) {
	tp := NewTemplar(TemplarOptions{})
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				vars := map[string]any{"host": fmt.Sprintf("h%d", g), "i": i, "l": []any{g, i}}
				got, err := tp.Render("{% for x in l %}{{ host }}-{{ x }};{% endfor %}{{ i is defined }}", vars)
				want := fmt.Sprintf("h%d-%d;h%d-%d;True", g, g, g, i)
				if err != nil || got != want {
					errs <- fmt.Errorf("goroutine %d: got %v, %v; want %q", g, got, err, want)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestPyLiteral(t *testing.T) {
	for in, want := range map[string]any{
		"[1, 'a', None, True, 2.5]": []any{1, "a", nil, true, 2.5},
		"{'a': [1, (2, 3)]}":        map[string]any{"a": []any{1, []any{2, 3}}},
		`["x\n", 'it\'s', "é"]`:     []any{"x\n", "it's", "é"},
		"[true, null, -1, 1e3]":     []any{true, nil, -1, 1000.0},
		"True":                      true,
	} {
		got := literalOrText(in)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("literalOrText(%q) = %#v, want %#v", in, got, want)
		}
	}
	for _, in := range []string{"[1, 2", "{1, 2}", "[a]", "{'a' 1}", "[1] x", "3"} {
		if got := literalOrText(in); got != in {
			t.Errorf("literalOrText(%q) = %#v, want the text back", in, got)
		}
	}
}

func TestPyRepr(t *testing.T) {
	for _, c := range []struct {
		v    any
		want string
	}{
		{3.0, "3.0"}, {1e16, "1e+16"}, {0.0001, "0.0001"}, {0.00001, "1e-05"}, {1.5, "1.5"},
		{[]any{"it's", `q"`, "both'\""}, `["it's", 'q"', 'both\'"']`},
		{map[string]any{"b": nil, "a": true}, "{'a': True, 'b': None}"},
	} {
		if got := pyvalue.Str(c.v); got != c.want {
			t.Errorf("pyvalue.Str(%#v) = %s, want %s", c.v, got, c.want)
		}
	}
}

// FuzzTemplateCheck feeds arbitrary text to Check and Render: neither may panic.
func FuzzTemplateCheck(f *testing.F) {
	for _, s := range []string{"{{ x }}", "{% for a in b %}{{ a }}{% endfor %}", "{{ x | default('y') }}",
		"{% if x is defined %}{% endif %}", "{{ 'a' ~ 1 }}", "{{ [1, {'a': (2, 3)}] }}", "{% raw %}{{{% endraw %}",
		"{{ x.y[0]['z'] | map('upper') | list }}", "{# c #}{%- set a = 1 -%}", "{{ 1 ** 2 // 3 % 4 }}",
		`{{ 'a\d' is match('\w', ignorecase=True) }}`, "{{ range(3) | join }}", "{{ l | selectattr('a', 'eq', 1) }}"} {
		f.Add(s)
	}
	tp := NewTemplar(TemplarOptions{Getenv: func(string) string { return "" }})
	vars := map[string]any{"x": map[string]any{"y": []any{map[string]any{"z": "s"}}}, "l": []any{1, "a"}, "b": []any{1}}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.Contains(s, "lookup") || strings.Contains(s, "query") {
			return // file reads are not what this fuzzes
		}
		_ = tp.Check(s)
		_, _ = tp.Render(s, vars)
	})
}

func BenchmarkRender(b *testing.B) {
	tp := NewTemplar(TemplarOptions{})
	vars := map[string]any{"inventory_hostname": "db01", "patch": "files/livepatch.ko",
		"result": map[string]any{"rc": 0, "stdout_lines": []any{"a", "b"}}}
	for i := 0; i < 200; i++ {
		vars[fmt.Sprintf("var%d", i)] = i
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := tp.Render("{{ patch | basename }} on {{ inventory_hostname }}", vars); err != nil {
			b.Fatal(err)
		}
		if ok, err := tp.Evaluate("result.rc == 0 and 'a' in result.stdout_lines", vars); err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}

func TestRewriteTestKwargs(t *testing.T) {
	for in, want := range map[string]string{
		"{{ x is match('a', ignorecase=True) }}":   "{{ x is match('a', __kpx_kw('ignorecase', True)) }}",
		"{{ x is version('1', op == 'x') }}":       "{{ x is version('1', op == 'x') }}",
		"{{ 'y is f(a=1)' }} is f(b=2)":            "{{ 'y is f(a=1)' }} is f(b=2)",
		"{% if a is not search(p, multiline=m) %}": "{% if a is not search(p, __kpx_kw('multiline', m)) %}",
		"{{ f(a=1) }}": "{{ f(a=1) }}",
	} {
		if got := rewriteTestKwargs(in); got != want {
			t.Errorf("rewriteTestKwargs(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFindSearchesKindDirThenPlaybookDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "files"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"files/a.ko", "a.ko", "b.txt"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tp := NewTemplar(TemplarOptions{SearchDirs: []string{dir}})
	for name, want := range map[string]string{"a.ko": "files/a.ko", "b.txt": "b.txt"} {
		got, err := tp.Find("files", name)
		if err != nil || got != filepath.Join(dir, want) {
			t.Errorf("Find(files, %s) = %q, %v; want %s", name, got, err, want)
		}
	}
	if _, err := tp.Find("files", "absent.ko"); err == nil || !strings.Contains(err.Error(), "absent.ko") {
		t.Errorf("Find(absent) error = %v, want one naming the file", err)
	}
}
