package playbooks

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/kpxdev/kpx/internal/pyvalue"
	"github.com/kpxdev/kpx/internal/yaml11"
)

// Pos is where a node starts in a playbook file. Line and Col are 1-based.
type Pos struct {
	File string
	Line int
	Col  int
}

func (p Pos) String() string { return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col) }

// fields is a YAML mapping checked against the keywords allowed where it stands, with each
// value still a node so that typed accessors can report positions.
type fields struct {
	file  string
	node  *yaml.Node
	keys  []string
	key   map[string]*yaml.Node // key name -> key node
	value map[string]*yaml.Node // key name -> value node
}

func (l *loader) mapping(n *yaml.Node, what string) (*fields, error) {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		return nil, l.errAt(n, "%s must be a mapping, got a %s", what, kindName(n))
	}
	f := &fields{file: l.file, node: n, key: map[string]*yaml.Node{}, value: map[string]*yaml.Node{}}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if yaml11.IsMergeKey(k) {
			return nil, l.errAt(k, "merge keys (<<) are not supported in %s", what)
		}
		name, err := yaml11.KeyString(k)
		if err != nil {
			return nil, l.errAt(k, "%s: %v", what, err)
		}
		if _, dup := f.key[name]; dup {
			return nil, l.errAt(k, "duplicate key %q in %s", name, what)
		}
		f.keys = append(f.keys, name)
		f.key[name], f.value[name] = k, v
	}
	return f, nil
}

func (f *fields) has(k string) bool { _, ok := f.value[k]; return ok }

func (f *fields) pos(k string) Pos {
	if n := f.key[k]; n != nil {
		return Pos{f.file, n.Line, n.Column}
	}
	return Pos{f.file, f.node.Line, f.node.Column}
}

func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func (l *loader) errAt(n *yaml.Node, format string, args ...any) *ParseError {
	e := nodeError(n, format, args...)
	e.File = l.file
	return e
}

// str reads a scalar keyword as a string, as Python's str() would write its value.
func (l *loader) str(f *fields, k string) (string, error) {
	n, ok := f.value[k]
	if !ok {
		return "", nil
	}
	n = deref(n)
	if n.Kind != yaml.ScalarNode {
		return "", l.errAt(n, "%s must be a string, got a %s", k, kindName(n))
	}
	v, err := yaml11.Scalar(n)
	if err != nil {
		return "", l.errAt(n, "%s: %v", k, err)
	}
	return keywordString(v), nil
}

// keywordString writes a scalar keyword value as Python's str() does; an empty value (None)
// is the empty string.
func keywordString(v any) string {
	if v == nil {
		return ""
	}
	return pyvalue.Str(v)
}

// strList reads a keyword that takes one string or a list of strings (tags, notify, when).
// Ansible also splits a comma-separated string for some of them; split says so.
func (l *loader) strList(f *fields, k string, split bool) ([]string, error) {
	n, ok := f.value[k]
	if !ok {
		return nil, nil
	}
	n = deref(n)
	items := []*yaml.Node{n}
	switch n.Kind {
	case yaml.SequenceNode:
		items = n.Content
	case yaml.ScalarNode:
		if v, _ := yaml11.Scalar(n); v == nil {
			return nil, nil
		}
	default:
		return nil, l.errAt(n, "%s must be a string or a list of strings, got a %s", k, kindName(n))
	}
	var out []string
	for _, it := range items {
		it = deref(it)
		if it.Kind != yaml.ScalarNode {
			return nil, l.errAt(it, "%s: each item must be a string, got a %s", k, kindName(it))
		}
		v, err := yaml11.Scalar(it)
		if err != nil {
			return nil, l.errAt(it, "%s: %v", k, err)
		}
		s := keywordString(v)
		if split && n.Kind == yaml.ScalarNode {
			for _, part := range strings.Split(s, ",") {
				if part = strings.TrimSpace(part); part != "" {
					out = append(out, part)
				}
			}
			continue
		}
		out = append(out, s)
	}
	return out, nil
}

// Flag is a boolean keyword: unset (inherit), a literal, or a template decided at run time.
type Flag struct {
	Set   bool
	Value bool
	Expr  string // a Jinja2 template, when the value is one
}

// flag reads a boolean keyword as Ansible's boolean() does: true/false, yes/no, on/off,
// 1/0, y/n, t/f in any case.
func (l *loader) flag(f *fields, k string) (Flag, error) {
	n, ok := f.value[k]
	if !ok {
		return Flag{}, nil
	}
	n = deref(n)
	if n.Kind != yaml.ScalarNode {
		return Flag{}, l.errAt(n, "%s must be a boolean, got a %s", k, kindName(n))
	}
	v, err := yaml11.Scalar(n)
	if err != nil {
		return Flag{}, l.errAt(n, "%s: %v", k, err)
	}
	if s, ok := v.(string); ok && isTemplate(s) {
		return Flag{Set: true, Expr: s}, nil
	}
	b, ok := pyvalue.Bool(v)
	if !ok {
		return Flag{}, l.errAt(n, "%s: %q is not a valid boolean; valid booleans include yes, no, true, false, on, off, 1, 0", k, keywordString(v))
	}
	return Flag{Set: true, Value: b}, nil
}

// Int is an integer keyword (retries, delay): unset, a literal, or a template.
type Int struct {
	Set   bool
	Value int
	Expr  string
}

func (l *loader) integer(f *fields, k string) (Int, error) {
	n, ok := f.value[k]
	if !ok {
		return Int{}, nil
	}
	n = deref(n)
	if n.Kind == yaml.ScalarNode {
		v, _ := yaml11.Scalar(n)
		switch v := v.(type) {
		case int:
			return Int{Set: true, Value: v}, nil
		case string:
			if isTemplate(v) {
				return Int{Set: true, Expr: v}, nil
			}
			if i, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
				return Int{Set: true, Value: i}, nil
			}
		}
	}
	return Int{}, l.errAt(n, "%s must be an integer", k)
}

// value decodes a keyword's value with YAML 1.1 typing (vars, module arguments, loop).
func (l *loader) value(f *fields, k string) (any, error) {
	n, ok := f.value[k]
	if !ok {
		return nil, nil
	}
	v, err := yaml11.Decode(n)
	if err != nil {
		return nil, l.errAt(n, "%s: %v", k, err)
	}
	return v, nil
}

// isTemplate reports whether s holds Jinja2 markup.
func isTemplate(s string) bool {
	return strings.Contains(s, "{{") || strings.Contains(s, "{%") || strings.Contains(s, "{#")
}
