// Package inventory reads Ansible inventories (INI, YAML, directories, comma lists, with
// group_vars/ and host_vars/) the way ansible-core 2.14 does, merges each host's variables
// with Ansible's precedence, selects hosts with Ansible's patterns, and prints what
// ansible-inventory prints.
package inventory

import (
	"sort"

	"github.com/kpxdev/kpx/internal/vault"
)

// Host is one inventory host. Vars holds the variables set by inventory sources only.
type Host struct {
	Name   string
	Vars   map[string]any
	groups []*Group // direct groups and their ancestors at the time of adding, as Ansible keeps them
}

// Group is one inventory group.
type Group struct {
	Name     string
	Vars     map[string]any
	Hosts    []*Host
	Children []*Group
	Parents  []*Group
	Priority int
	depth    int
}

// Inventory is a loaded inventory: hosts and groups in the order Ansible keeps them.
type Inventory struct {
	Hosts    []*Host
	Groups   []*Group
	Warnings []string

	hosts   map[string]*Host
	groups  map[string]*Group
	sources []string // source paths whose group_vars/host_vars apply
	files   *varsFiles
	vault   *vault.Vault // decrypts vaulted files and !vault values; nil has no password
	// keepInline leaves !vault values encrypted (LoadOptions.KeepInlineVault)
	keepInline bool
}

func newInventory() *Inventory {
	inv := &Inventory{hosts: map[string]*Host{}, groups: map[string]*Group{}}
	all := inv.addGroup("all")
	inv.addChild(all, inv.addGroup("ungrouped"))
	return inv
}

// Host returns the named host, or nil.
func (inv *Inventory) Host(name string) *Host { return inv.hosts[name] }

// Group returns the named group, or nil.
func (inv *Inventory) Group(name string) *Group { return inv.groups[name] }

func (inv *Inventory) addGroup(name string) *Group {
	if g := inv.groups[name]; g != nil {
		return g
	}
	g := &Group{Name: name, Vars: map[string]any{}}
	inv.groups[name] = g
	inv.Groups = append(inv.Groups, g)
	return g
}

// addHost adds a host (once) and puts it in g. A port is recorded only when the host is
// new: Ansible sets ansible_port in the Host constructor, so `h1:2200` on a host already
// seen is ignored.
func (inv *Inventory) addHost(name string, g *Group, port *int) *Host {
	h := inv.hosts[name]
	if h == nil {
		h = &Host{Name: name, Vars: map[string]any{}}
		if port != nil {
			h.Vars["ansible_port"] = *port
		}
		inv.hosts[name] = h
		inv.Hosts = append(inv.Hosts, h)
	}
	if g != nil {
		g.addHost(h)
	}
	return h
}

func (g *Group) addHost(h *Host) {
	for _, x := range g.Hosts {
		if x == h {
			return
		}
	}
	g.Hosts = append(g.Hosts, h)
	for _, a := range g.ancestors() {
		h.addGroup(a)
	}
	h.addGroup(g)
}

func (h *Host) addGroup(g *Group) {
	for _, x := range h.groups {
		if x == g {
			return
		}
	}
	h.groups = append(h.groups, g)
}

func (inv *Inventory) addChild(parent, child *Group) {
	for _, c := range parent.Children {
		if c == child {
			return
		}
	}
	parent.Children = append(parent.Children, child)
	child.Parents = append(child.Parents, parent)
	child.raiseDepth(parent.depth + 1)
	// hosts of the child now also belong to the parent's line, as Ansible records it
	for _, d := range child.descendants() {
		for _, h := range d.Hosts {
			h.addGroup(parent)
			for _, a := range parent.ancestors() {
				h.addGroup(a)
			}
		}
	}
}

func (g *Group) raiseDepth(d int) {
	if d <= g.depth || d > 10000 {
		return
	}
	g.depth = d
	for _, c := range g.Children {
		c.raiseDepth(d + 1)
	}
}

// ancestors returns every group above g.
func (g *Group) ancestors() []*Group {
	var out []*Group
	seen := map[*Group]bool{g: true}
	queue := append([]*Group(nil), g.Parents...)
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if seen[p] {
			continue
		}
		seen[p] = true
		out = append(out, p)
		queue = append(queue, p.Parents...)
	}
	return out
}

// descendants returns g and every group below it, breadth first in child order.
func (g *Group) descendants() []*Group {
	out := []*Group{g}
	seen := map[*Group]bool{g: true}
	for i := 0; i < len(out); i++ {
		for _, c := range out[i].Children {
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	return out
}

// AllHosts returns the hosts of g and its descendants, in Ansible's order, each once.
func (g *Group) AllHosts() []*Host {
	var out []*Host
	seen := map[*Host]bool{}
	for _, d := range g.descendants() {
		for _, h := range d.Hosts {
			if !seen[h] {
				seen[h] = true
				out = append(out, h)
			}
		}
	}
	return out
}

// reconcile applies Ansible's reconcile_inventory: parentless groups become children of
// all; hosts in no group go to ungrouped, hosts in another group leave it.
func (inv *Inventory) reconcile() {
	all, ungrouped := inv.groups["all"], inv.groups["ungrouped"]
	for _, g := range inv.Groups {
		if g != all && len(g.Parents) == 0 {
			inv.addChild(all, g)
		}
	}
	for _, h := range inv.Hosts {
		other := false
		inUngrouped := false
		for _, g := range h.groups {
			switch g {
			case all:
			case ungrouped:
				inUngrouped = true
			default:
				other = true
			}
		}
		if inUngrouped && other {
			ungrouped.removeHost(h)
		} else if !other && !inUngrouped {
			ungrouped.addHost(h)
		}
	}
}

func (g *Group) removeHost(h *Host) {
	for i, x := range g.Hosts {
		if x == h {
			g.Hosts = append(g.Hosts[:i:i], g.Hosts[i+1:]...)
			break
		}
	}
	for i, x := range h.groups {
		if x == g {
			h.groups = append(h.groups[:i:i], h.groups[i+1:]...)
			break
		}
	}
}

// sortedGroups orders groups as Ansible's sort_groups: depth, priority, name.
func sortedGroups(gs []*Group) []*Group {
	out := append([]*Group(nil), gs...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.depth != b.depth {
			return a.depth < b.depth
		}
		if a.Priority != b.Priority {
			return a.Priority < b.Priority
		}
		return a.Name < b.Name
	})
	return out
}
