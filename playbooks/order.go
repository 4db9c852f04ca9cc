package playbooks

import (
	"math/rand/v2"
	"slices"
)

// OrderHosts returns the play's hosts in the order its `order` keyword asks for, as
// Ansible's inventory gives them to a play: inventory (as given), reverse_inventory,
// sorted and reverse_sorted (by name), shuffle (random). hosts is not changed.
func OrderHosts(hosts []string, order string) []string {
	out := slices.Clone(hosts)
	switch order {
	case "reverse_inventory":
		slices.Reverse(out)
	case "sorted":
		slices.Sort(out)
	case "reverse_sorted":
		slices.Sort(out)
		slices.Reverse(out)
	case "shuffle":
		rand.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	}
	return out
}
