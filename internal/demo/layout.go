package demo

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/kpxdev/kpx/internal/simfleet"
	"github.com/kpxdev/kpx/inventory"
)

// DefaultHosts is the size of the sample fleet.
const DefaultHosts = 24

// Layout writes the sample inventory into dir and returns the simulated fleet's groups
// for n hosts: the sample's groups, children and host name prefixes, each group's share
// of the n hosts as in the sample (the sample's own host names when n is its size).
func Layout(dir string, n int) ([]simfleet.Group, error) {
	path := filepath.Join(dir, InventoryName)
	if err := os.WriteFile(path, Inventory(), 0o600); err != nil {
		return nil, err
	}
	inv, err := inventory.Load([]string{path})
	if err != nil {
		return nil, fmt.Errorf("demo inventory: %w", err)
	}
	var leaves, parents []*inventory.Group
	for _, g := range inv.Groups {
		switch {
		case g.Name == "all" || g.Name == "ungrouped":
		case len(g.Hosts) > 0:
			leaves = append(leaves, g)
		case len(g.Children) > 0:
			parents = append(parents, g)
		}
	}
	if n < len(leaves) {
		return nil, fmt.Errorf("--hosts %d: the demo fleet needs at least %d hosts (one per group)", n, len(leaves))
	}
	counts := make([]int, len(leaves))
	for i, g := range leaves {
		counts[i] = len(g.Hosts)
	}
	shares := share(counts, n)
	var out []simfleet.Group
	for i, g := range leaves {
		names := make([]string, shares[i])
		if shares[i] == len(g.Hosts) {
			for j, h := range g.Hosts {
				names[j] = h.Name
			}
		} else {
			prefix := strings.TrimRight(g.Hosts[0].Name, "0123456789")
			width := max(2, len(fmt.Sprint(shares[i])))
			for j := range names {
				names[j] = fmt.Sprintf("%s%0*d", prefix, width, j+1)
			}
		}
		out = append(out, simfleet.Group{Name: g.Name, Hosts: names})
	}
	for _, g := range parents {
		kids := make([]string, len(g.Children))
		for i, c := range g.Children {
			kids[i] = c.Name
		}
		out = append(out, simfleet.Group{Name: g.Name, Children: kids})
	}
	return out, nil
}

// share splits n in proportion to counts (largest remainders), at least 1 each.
func share(counts []int, n int) []int {
	total := 0
	for _, c := range counts {
		total += c
	}
	out := make([]int, len(counts))
	rem := make([]int, len(counts))
	left := n
	for i, c := range counts {
		out[i] = max(1, c*n/total)
		rem[i] = c * n % total
		left -= out[i]
	}
	order := make([]int, len(counts))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return rem[order[a]] > rem[order[b]] })
	for i := 0; left > 0; i = (i + 1) % len(order) {
		out[order[i]]++
		left--
	}
	for i := len(order) - 1; left < 0; i = (i + len(order) - 1) % len(order) {
		if k := order[i]; out[k] > 1 {
			out[k]--
			left++
		}
	}
	return out
}
