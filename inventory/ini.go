package inventory

import (
	"regexp"
	"strings"
)

var (
	sectionRE   = regexp.MustCompile(`^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$`)
	groupNameRE = regexp.MustCompile(`^([^:\]\s]+)\s*(?:#.*)?$`)
)

type pending struct {
	line    int
	state   string
	parents []string
}

// iniParser reads one INI inventory file into an Inventory, as Ansible's ini plugin does.
type iniParser struct {
	inv     *Inventory
	file    string
	pending map[string]*pending
	order   []string // pending names in insertion order, for a stable first error
}

// parseINI adds the INI inventory in data (read from file) to inv.
func parseINI(inv *Inventory, file string, data []byte) error {
	p := &iniParser{inv: inv, file: file, pending: map[string]*pending{}}
	group, state := "ungrouped", "hosts"
	for i, raw := range strings.Split(string(data), "\n") {
		lineno := i + 1
		line := strings.TrimSpace(raw)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if m := sectionRE.FindStringSubmatch(line); m != nil {
			group, state = m[1], m[2]
			if state == "" {
				state = "hosts"
			}
			if err := p.section(group, state, lineno, line); err != nil {
				return err
			}
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			return p.errorf(lineno, line, "invalid section entry (no spaces or other invalid characters allowed)")
		}
		if err := p.entry(group, state, lineno, line); err != nil {
			return err
		}
	}
	return p.unresolved()
}

func (p *iniParser) errorf(line int, text, msg string) error {
	return &ParseError{File: p.file, Line: line, Msg: msg, Text: text}
}

func (p *iniParser) section(group, state string, lineno int, line string) error {
	if state != "hosts" && state != "children" && state != "vars" {
		return p.errorf(lineno, line, "section has unknown type "+state)
	}
	if p.inv.groups[group] == nil {
		if _, ok := p.pending[group]; state == "vars" && !ok {
			p.addPending(group, &pending{line: lineno, state: state})
		}
		p.inv.addGroup(group)
	}
	if d, ok := p.pending[group]; ok && state != "vars" {
		if d.state == "children" {
			p.resolveChildren(group)
		} else {
			p.deletePending(group)
		}
	}
	return nil
}

func (p *iniParser) addPending(name string, d *pending) {
	p.pending[name] = d
	p.order = append(p.order, name)
}

func (p *iniParser) deletePending(name string) {
	delete(p.pending, name)
}

func (p *iniParser) resolveChildren(group string) {
	d := p.pending[group]
	p.deletePending(group)
	for _, parent := range d.parents {
		p.inv.addChild(p.inv.addGroup(parent), p.inv.groups[group])
		if pd, ok := p.pending[parent]; ok && pd.state == "children" {
			p.resolveChildren(parent)
		}
	}
}

func (p *iniParser) entry(group, state string, lineno int, line string) error {
	switch state {
	case "hosts":
		return p.hostLine(group, lineno, line)
	case "vars":
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return p.errorf(lineno, line, "expected key=value")
		}
		p.inv.groups[group].setVar(strings.TrimSpace(k), parseLiteral(strings.TrimSpace(v)))
		return nil
	default: // children
		m := groupNameRE.FindStringSubmatch(line)
		if m == nil {
			return p.errorf(lineno, line, "expected group name")
		}
		child := m[1]
		if c := p.inv.groups[child]; c != nil {
			p.inv.addChild(p.inv.groups[group], c)
			return nil
		}
		if d, ok := p.pending[child]; ok {
			d.parents = append(d.parents, group)
		} else {
			p.addPending(child, &pending{line: lineno, state: "children", parents: []string{group}})
		}
		return nil
	}
}

func (p *iniParser) hostLine(group string, lineno int, line string) error {
	tokens, err := shlexSplit(line)
	if err != nil {
		return p.errorf(lineno, line, "error parsing host definition: "+err.Error())
	}
	if len(tokens) == 0 {
		return nil
	}
	names, port, err := expandHostPattern(tokens[0])
	if err != nil {
		return p.errorf(lineno, line, err.Error())
	}
	vars := make([][2]any, 0, len(tokens)-1)
	for _, t := range tokens[1:] {
		k, v, ok := strings.Cut(t, "=")
		if !ok {
			return p.errorf(lineno, t, "expected key=value host variable assignment")
		}
		vars = append(vars, [2]any{k, parseLiteral(v)})
	}
	g := p.inv.groups[group]
	for _, n := range names {
		h := p.inv.addHost(n, g, port)
		for _, kv := range vars {
			h.Vars[kv[0].(string)] = kv[1]
		}
	}
	return nil
}

func (p *iniParser) unresolved() error {
	for _, name := range p.order {
		d, ok := p.pending[name]
		if !ok {
			continue
		}
		if d.state == "vars" {
			return &ParseError{File: p.file, Line: d.line, Msg: "section [" + name + ":vars] not valid for undefined group: " + name}
		}
		return &ParseError{File: p.file, Line: d.line, Msg: "section [" + d.parents[len(d.parents)-1] + ":children] includes undefined group: " + name}
	}
	return nil
}

// setVar sets a group variable as Ansible's Group.set_variable: ansible_group_priority sets
// the priority instead.
func (g *Group) setVar(k string, v any) {
	if k == "ansible_group_priority" {
		if n, ok := toInt(v); ok {
			g.Priority = n
		}
		return
	}
	g.Vars[k] = v
}
