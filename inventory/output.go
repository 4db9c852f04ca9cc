package inventory

import (
	"strings"

	"github.com/kpxdev/kpx/internal/pyvalue"
)

// ListJSON returns what `ansible-inventory --list` prints: groups with their direct hosts
// and children (empty groups left out), and _meta.hostvars with every host's merged vars.
func (inv *Inventory) ListJSON() (string, error) {
	out := map[string]any{}
	seen := map[*Group]bool{}
	inv.listGroup(inv.groups["all"], out, seen)
	hostvars := map[string]any{}
	for _, h := range inv.Hosts {
		v, err := inv.HostVarsErr(h.Name)
		if err != nil {
			return "", err
		}
		if len(v) > 0 {
			hostvars[h.Name] = v
		}
	}
	out["_meta"] = map[string]any{"hostvars": hostvars}
	return pyvalue.JSON(out, 4) + "\n", nil
}

func (inv *Inventory) listGroup(g *Group, out map[string]any, seen map[*Group]bool) {
	entry := map[string]any{}
	if g.Name != "all" && len(g.Hosts) > 0 {
		hosts := make([]any, len(g.Hosts))
		for i, h := range g.Hosts {
			hosts[i] = h.Name
		}
		entry["hosts"] = hosts
	}
	if len(g.Children) > 0 {
		kids := make([]any, len(g.Children))
		for i, c := range g.Children {
			kids[i] = c.Name
		}
		entry["children"] = kids
	}
	for _, c := range g.Children {
		if !seen[c] {
			seen[c] = true
			inv.listGroup(c, out, seen)
		}
	}
	if len(entry) > 0 {
		out[g.Name] = entry
	}
}

// Graph returns what `ansible-inventory --graph` prints.
func (inv *Inventory) Graph() string {
	var b strings.Builder
	graphGroup(&b, inv.groups["all"], 0)
	return b.String()
}

func graphLine(b *strings.Builder, name string, depth int) {
	if depth > 0 {
		b.WriteString(strings.Repeat("  |", depth))
		b.WriteString("--")
	}
	b.WriteString(name)
	b.WriteByte('\n')
}

func graphGroup(b *strings.Builder, g *Group, depth int) {
	if depth > 1000 {
		return
	}
	graphLine(b, "@"+g.Name+":", depth)
	for _, c := range g.Children {
		graphGroup(b, c, depth+1)
	}
	if g.Name != "all" {
		for _, h := range g.Hosts {
			graphLine(b, h.Name, depth+1)
		}
	}
}

// HostJSON returns what `ansible-inventory --host NAME` prints; ok is false for an
// unknown host.
func (inv *Inventory) HostJSON(name string) (string, bool, error) {
	if inv.hosts[name] == nil {
		return "", false, nil
	}
	v, err := inv.HostVarsErr(name)
	if err != nil {
		return "", true, err
	}
	return pyvalue.JSON(v, 4) + "\n", true, nil
}
