package main

import (
	"sort"
	"strings"

	"github.com/kpxdev/kpx/inventory"
	"github.com/kpxdev/kpx/playbooks"
)

// engineInventory presents a loaded inventory to the engine: merged host variables, and group
// membership for the groups and group_names magic variables.
type engineInventory struct {
	inv    *inventory.Inventory
	limit  string
	warn   func(string)        // receives patterns that match nothing, as Ansible warns
	groups map[string][]string // group -> hosts, descendants' hosts included, inventory order
	member map[string][]string // host -> its groups, sorted, without "all"
}

func newEngineInventory(inv *inventory.Inventory, limit string) *engineInventory {
	r := &engineInventory{inv: inv, limit: limit, groups: map[string][]string{}, member: map[string][]string{}}
	for _, g := range inv.Groups {
		seen := map[string]bool{}
		var hosts []string
		var walk func(*inventory.Group)
		walk = func(g *inventory.Group) {
			for _, h := range g.Hosts {
				if !seen[h.Name] {
					seen[h.Name] = true
					hosts = append(hosts, h.Name)
				}
			}
			for _, c := range g.Children {
				walk(c)
			}
		}
		walk(g)
		r.groups[g.Name] = hosts
		if g.Name == "all" {
			continue
		}
		for _, h := range hosts {
			r.member[h] = append(r.member[h], g.Name)
		}
	}
	for _, gs := range r.member {
		sort.Strings(gs)
	}
	return r
}

func (r *engineInventory) HostVars(host string) map[string]any {
	if r.inv.Host(host) == nil {
		return nil
	}
	return r.inv.HostVars(host)
}

func (r *engineInventory) Groups() map[string][]string { return r.groups }

func (r *engineInventory) GroupNames(host string) []string { return r.member[host] }

// resolve returns a play's hosts, --limit and the play's order applied, as
// ansible-playbook selects them.
func (r *engineInventory) resolve(play *playbooks.Play) ([]string, error) {
	hosts, warnings, err := r.inv.MatchLimit(strings.Join(play.Hosts, ","), r.limit)
	if err != nil {
		return nil, err
	}
	if r.warn != nil {
		for _, w := range warnings {
			r.warn(w)
		}
	}
	names := make([]string, len(hosts))
	for i, h := range hosts {
		names[i] = h.Name
	}
	return playbooks.OrderHosts(names, play.Order), nil
}
