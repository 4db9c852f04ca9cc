package modules

import (
	"strings"
	"testing"

	"github.com/kpxdev/kpx/transport"
)

func TestSymbolicMode(t *testing.T) {
	cases := []struct {
		spec string
		cur  uint32
		dir  bool
		want uint32
	}{
		{"u=rw,g=r,o=", 0o777, false, 0o640},
		{"u+x", 0o644, false, 0o744},
		{"go-w", 0o666, false, 0o644},
		{"a+X", 0o644, false, 0o644},
		{"a+X", 0o644, true, 0o755},
		{"a+X", 0o744, false, 0o755},
		{"u=rwx,g=u,o=g", 0o000, false, 0o777},
		{"g+s,o+t", 0o755, true, 0o3755},
		{"u-s", 0o4755, false, 0o755},
		{"+x", 0o644, false, 0o755},
		{"=rw", 0o777, false, 0o644},
	}
	for _, c := range cases {
		got, err := symbolicMode(c.spec, c.cur, c.dir)
		if err != nil || got != c.want {
			t.Errorf("%s on %04o (dir %v) = %04o, %v; want %04o", c.spec, c.cur, c.dir, got, err, c.want)
		}
	}
	for _, bad := range []string{"u=banana", "x+r", "u+r,", "ug"} {
		if _, err := symbolicMode(bad, 0, false); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestParseMode(t *testing.T) {
	cases := []struct {
		in   any
		want uint32
		ok   bool
	}{
		{0o644, 0o644, true}, {"0644", 0o644, true}, {"644", 0o644, true}, {644, 644, true},
		{"1777", 0o1777, true}, {"0999", 0, false}, {"u+x", 0, true}, {"preserve", 0, true}, {[]any{1}, 0, false},
	}
	for _, c := range cases {
		m, err := parseMode(c.in)
		if (err == nil) != c.ok || (c.ok && m.symbolic == "" && !m.preserve && m.bits != c.want) {
			t.Errorf("parseMode(%#v) = %+v, %v", c.in, m, err)
		}
	}
}

func FuzzParseMode(f *testing.F) {
	for _, s := range []string{"0644", "u=rw,g+r", "a+X", "preserve", "", "7777", "u=g"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := parseMode(s)
		if err != nil || !m.set {
			return
		}
		got, err := m.apply(0o755, true)
		if err == nil && got > 0o7777 {
			t.Fatalf("mode %q gives %o", s, got)
		}
	})
}

func TestParseProbes(t *testing.T) {
	out := "stat=81a4 0 0 6 1700000000 1700000001 1700000002 42 2049 1 root root\nsum=abc\nreadable=1\nend\nend\n"
	infos, err := parseProbes(out)
	if err != nil || len(infos) != 2 {
		t.Fatalf("%v %v", infos, err)
	}
	fi := infos[0]
	if !fi.Exists || fi.Type != "file" || fi.Mode != 0o644 || fi.Size != 6 || fi.Checksum != "abc" || !fi.Readable || fi.Owner != "root" {
		t.Errorf("%+v", fi)
	}
	if infos[1].Exists {
		t.Errorf("second path should be absent: %+v", infos[1])
	}
	if _, err := parseProbes("stat=zz\nend\n"); err == nil {
		t.Error("bad stat line accepted")
	}
}

func FuzzParseProbes(f *testing.F) {
	f.Add("stat=41ed 0 0 4096 1 2 3 4 5 2 root root\nlink=x\nend\n")
	f.Add("end\nend\n")
	f.Fuzz(func(t *testing.T, s string) { _, _ = parseProbes(s) })
}

func TestModuleResult(t *testing.T) {
	cases := []struct {
		stdout string
		rc     int
		want   map[string]any
	}{
		{`{"changed": true, "msg": "done"}`, 0, map[string]any{"changed": true, "failed": false, "msg": "done"}},
		{"noise\n{\"rc\": 2}\ntrailer", 0, map[string]any{"failed": true, "changed": false}},
		{`{"changed": "yes", "failed": "no"}`, 0, map[string]any{"changed": true, "failed": false}},
		{"not json", 3, map[string]any{"failed": true, "rc": 3, "module_stdout": "not json", "msg": "MODULE FAILURE\nSee stdout/stderr for the exact error"}},
		{`{"ansible_facts": {"x": 1}, "_ansible_no_log": false, "_ansible_verbose_always": true}`, 0, map[string]any{"_ansible_verbose_always": nil}},
	}
	for _, c := range cases {
		r := moduleResult(transport.Result{Stdout: []byte(c.stdout), ExitStatus: c.rc})
		for k, want := range c.want {
			if got := r[k]; (want == nil && got != nil) || (want != nil && got != want) {
				t.Errorf("%q: %s = %#v, want %#v", c.stdout, k, got, want)
			}
		}
	}
	r := moduleResult(transport.Result{Stdout: []byte("{\"a\": 1}\njunk")})
	if w, _ := r["warnings"].([]any); len(w) != 1 || !strings.Contains(w[0].(string), "junk") {
		t.Errorf("warnings %v", r["warnings"])
	}
}

func FuzzModuleResult(f *testing.F) {
	f.Add(`{"changed": true}`)
	f.Add("x\n{\n\"a\": [1,\n2]}\ny")
	f.Fuzz(func(t *testing.T, s string) {
		r := moduleResult(transport.Result{Stdout: []byte(s)})
		if _, ok := r["failed"].(bool); !ok {
			t.Fatalf("failed is not a bool: %#v", r["failed"])
		}
	})
}

func TestDetectStyle(t *testing.T) {
	cases := []struct {
		src  string
		want moduleStyle
		err  bool
	}{
		{"#!/bin/sh\n# WANT_JSON\n", styleWantJSON, false},
		{"#!/bin/sh\n. $1\n", styleOld, false},
		{"\x7fELF\x02\x01\x01\x00", styleBinary, false},
		{"#!/usr/bin/python\nfrom ansible.module_utils.basic import AnsibleModule\n", 0, true},
		{"#!/usr/bin/python\nimport ansible.module_utils.basic\n", 0, true},
		{"#!powershell\n#Requires -Module Ansible.ModuleUtils.Legacy\n", 0, true},
		{"#!/bin/sh\nargs='<<INCLUDE_ANSIBLE_MODULE_JSON_ARGS>>'\n", styleJSONArgs, false},
	}
	for _, c := range cases {
		got, err := detectStyle("m", []byte(c.src))
		if (err != nil) != c.err || (!c.err && got != c.want) {
			t.Errorf("%q: %v, %v", c.src, got, err)
		}
	}
}

func TestOldStyleArgs(t *testing.T) {
	got := oldStyleArgs(map[string]any{"name": "it's", "n": 3, "on": true, "none": nil, "l": []any{"a"}})
	want := `l='['"'"'a'"'"']' n=3 name='it'"'"'s' none=None on=True `
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestLineinfilePresent(t *testing.T) {
	cases := []struct {
		lines string
		args  map[string]any
		want  string
		msg   string
	}{
		{"a\nb\n", map[string]any{"line": "c"}, "a\nb\nc\n", "line added"},
		{"a\nb", map[string]any{"line": "c"}, "a\nb\nc\n", "line added"},
		{"a\nc\n", map[string]any{"line": "c"}, "a\nc\n", ""},
		{"a=1\nb=2\n", map[string]any{"regexp": "^a=", "line": "a=9"}, "a=9\nb=2\n", "line replaced"},
		{"x\nx\n", map[string]any{"regexp": "^x", "line": "y", "firstmatch": true}, "y\nx\n", "line replaced"},
		{"x\nx\n", map[string]any{"regexp": "^x", "line": "y"}, "x\ny\n", "line replaced"},
		{"a\nb\n", map[string]any{"line": "z", "insertbefore": "BOF"}, "z\na\nb\n", "line added"},
		{"a\nb\n", map[string]any{"line": "z", "insertbefore": "^b"}, "a\nz\nb\n", "line added"},
		{"a\nb\n", map[string]any{"line": "z", "insertafter": "^a"}, "a\nz\nb\n", "line added"},
		{"a\nb\n", map[string]any{"line": "z", "insertafter": "^nomatch"}, "a\nb\nz\n", "line added"},
		{"k=v\n", map[string]any{"regexp": `^(k)=.*`, "line": `\1=w`, "backrefs": true}, "k=w\n", "line replaced"},
		{"q\n", map[string]any{"regexp": `^(k)=.*`, "line": `\1=w`, "backrefs": true}, "q\n", ""},
	}
	for _, c := range cases {
		out, msg, err := lineinfilePresent(splitKeepEnds(c.lines), c.args)
		if err != nil || strings.Join(out, "") != c.want || msg != c.msg {
			t.Errorf("%q %v: got %q %q %v, want %q %q", c.lines, c.args, strings.Join(out, ""), msg, err, c.want, c.msg)
		}
	}
}
