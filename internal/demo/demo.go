// Package demo holds what `kpx demo` runs: the sample inventory and canary rollout
// playbook (copies of testdata/demo/, kept identical by a test, embedded here because a
// command cannot embed files from outside its own directory), the layout of the simulated
// fleet derived from the sample inventory, and the preparation of each simulated host.
package demo

import (
	"embed"
)

//go:embed files/inventory.ini files/rollout.yml
var files embed.FS

// Names of the sample files, as printed and written.
const (
	InventoryName = "inventory.ini"
	PlaybookName  = "rollout.yml"
)

// Inventory returns the sample inventory.
func Inventory() []byte { return mustRead(InventoryName) }

// Playbook returns the sample rollout playbook.
func Playbook() []byte { return mustRead(PlaybookName) }

func mustRead(name string) []byte {
	b, err := files.ReadFile("files/" + name)
	if err != nil {
		panic("demo: embedded file missing: " + name) // impossible: embedded at build time
	}
	return b
}
