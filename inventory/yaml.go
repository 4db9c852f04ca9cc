package inventory

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"

	"github.com/kpxdev/kpx/internal/yaml11"
	"gopkg.in/yaml.v3"
)

// yamlLoader reads one YAML inventory file into an Inventory, as Ansible's yaml plugin does.
type yamlLoader struct {
	inv  *Inventory
	file string
}

// errNotYAMLInventory means the file is not a YAML inventory at all (so INI may be tried).
var errNotYAMLInventory = errors.New("not a YAML inventory")

// parseYAML adds the YAML inventory in data (read from file) to inv.
func parseYAML(inv *Inventory, file string, data []byte) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return yamlSyntaxError(file, err)
	}
	root := deref(&doc)
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = deref(root.Content[0])
	}
	if root.Kind != yaml.MappingNode {
		return &ParseError{File: file, Line: root.Line, Col: root.Column, Msg: "YAML inventory has invalid structure, it should be a dictionary", Err: errNotYAMLInventory}
	}
	if err := decryptNodes(inv.vault, inv.keepInline, file, root); err != nil {
		return err
	}
	l := &yamlLoader{inv: inv, file: file}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "plugin" {
			return l.errorAt(root.Content[i], "plugin configuration YAML file, not YAML inventory")
		}
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		name, err := yaml11.KeyString(root.Content[i])
		if err != nil {
			return l.errorAt(root.Content[i], err.Error())
		}
		if _, err := l.group(name, root.Content[i+1], 0); err != nil {
			return err
		}
	}
	return nil
}

var yamlLineRE = regexp.MustCompile(`^yaml: line ([0-9]+): (.*)$`)

// yamlSyntaxError turns yaml.v3's "yaml: line N: msg" into a *ParseError naming file:line
// and the offending line's text.
func yamlSyntaxError(file string, err error) error {
	pe := &ParseError{File: file, Msg: err.Error(), Err: errNotYAMLInventory}
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		pe.Line, _ = strconv.Atoi(m[1])
		pe.Msg = m[2]
	}
	return pe
}

func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	n = deref(n)
	if n.Kind != yaml.ScalarNode {
		return false
	}
	v, err := yaml11.Scalar(n)
	return err == nil && v == nil
}

func (l *yamlLoader) errorAt(n *yaml.Node, msg string) error {
	return &ParseError{File: l.file, Line: n.Line, Col: n.Column, Msg: msg, Text: n.Value}
}

func (l *yamlLoader) warnAt(n *yaml.Node, msg string) {
	l.inv.Warnings = append(l.inv.Warnings, fmt.Sprintf("%s:%d:%d: %s", l.file, n.Line, n.Column, msg))
}

func (l *yamlLoader) group(name string, n *yaml.Node, depth int) (*Group, error) {
	if depth > 1000 {
		return nil, l.errorAt(n, "groups nested too deeply")
	}
	n = deref(n)
	if n.Kind != yaml.MappingNode && !isNull(n) {
		l.warnAt(n, fmt.Sprintf("skipping '%s' as this is not a valid group definition", name))
		return nil, nil
	}
	g := l.inv.addGroup(name)
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], deref(n.Content[i+1])
		key, err := yaml11.KeyString(kn)
		if err != nil {
			return nil, l.errorAt(kn, err.Error())
		}
		section := key == "vars" || key == "children" || key == "hosts"
		if section && vn.Kind == yaml.ScalarNode && !isNull(vn) {
			// a string section means {string: None}
			vn = &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{vn, {Kind: yaml.ScalarNode, Tag: "!!null", Value: "~", Line: vn.Line, Column: vn.Column}}}
		}
		if section && vn.Kind != yaml.MappingNode && !isNull(vn) {
			return nil, l.errorAt(kn, fmt.Sprintf("invalid %q entry for %q group, requires a dictionary", key, name))
		}
		if vn.Kind != yaml.MappingNode {
			if !isNull(vn) {
				l.warnAt(kn, fmt.Sprintf("skipping key (%s) in group (%s) as it is not a mapping", key, name))
			}
			continue
		}
		switch key {
		case "vars":
			if err := l.vars(g, vn); err != nil {
				return nil, err
			}
		case "children":
			if err := l.children(g, vn, depth); err != nil {
				return nil, err
			}
		case "hosts":
			if err := l.hosts(g, vn); err != nil {
				return nil, err
			}
		default:
			l.warnAt(kn, fmt.Sprintf("skipping unexpected key (%s) in group (%s), only \"vars\", \"children\" and \"hosts\" are valid", key, name))
		}
	}
	return g, nil
}

func (l *yamlLoader) vars(g *Group, n *yaml.Node) error {
	v, err := yaml11.Decode(n)
	if err != nil {
		return l.errorAt(n, err.Error())
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, _ := yaml11.KeyString(n.Content[i])
		if val, ok := v.(map[string]any)[k]; ok {
			g.setVar(k, val)
		}
	}
	return nil
}

func (l *yamlLoader) children(g *Group, n *yaml.Node, depth int) error {
	for i := 0; i+1 < len(n.Content); i += 2 {
		name, err := yaml11.KeyString(n.Content[i])
		if err != nil {
			return l.errorAt(n.Content[i], err.Error())
		}
		child, err := l.group(name, n.Content[i+1], depth+1)
		if err != nil {
			return err
		}
		if child == nil {
			child = l.inv.addGroup(name)
		}
		if child != g {
			l.inv.addChild(g, child)
		}
	}
	return nil
}

func (l *yamlLoader) hosts(g *Group, n *yaml.Node) error {
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := deref(n.Content[i]), deref(n.Content[i+1])
		key, err := yaml11.Scalar(kn)
		if err != nil {
			return l.errorAt(kn, err.Error())
		}
		pat, ok := key.(string)
		if !ok {
			return l.errorAt(kn, "host pattern must be a string; enclose integers/floats in quotation marks")
		}
		names, port, err := expandHostPattern(pat)
		if err != nil {
			return l.errorAt(kn, err.Error())
		}
		var vars map[string]any
		if !isNull(vn) {
			v, err := yaml11.Decode(vn)
			if err != nil {
				return l.errorAt(vn, err.Error())
			}
			m, ok := v.(map[string]any)
			if !ok {
				return l.errorAt(vn, "invalid data from file, expected dictionary")
			}
			vars = m
		}
		for _, name := range names {
			h := l.inv.addHost(name, g, port)
			for k, v := range vars {
				h.Vars[k] = v
			}
		}
	}
	return nil
}
