package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/kpxdev/kpx/inventory"
	"github.com/kpxdev/kpx/playbooks"
)

// addRunExtraFlags adds ansible-playbook's listing and --start-at-task flags.
func addRunExtraFlags(f *pflag.FlagSet, o *runOptions) {
	f.BoolVar(&o.list.hosts, "list-hosts", false, "list the hosts each play would run on; run nothing")
	f.BoolVar(&o.list.tasks, "list-tasks", false, "list the tasks each play would run (after --tags/--skip-tags); run nothing")
	f.BoolVar(&o.list.tags, "list-tags", false, "list the tags of each play's tasks; run nothing")
	f.StringVar(&o.startAtTask, "start-at-task", "", "start at the first task of this name (a shell glob allowed)")
}

// listRun carries out --list-hosts, --list-tasks and --list-tags. Hosts need the inventory;
// tasks and tags do not.
func listRun(o runOptions, stdout, stderr io.Writer) error {
	catalog, err := moduleCatalog(o)
	if err != nil {
		return err
	}
	pb, err := playbooks.Load(o.playbook, withRoles(playbooks.LoadOptions{Modules: catalog, Vault: o.vault.opened}, o, &catalog))
	if err != nil {
		return err
	}
	o.list.only, o.list.skip = o.tags, o.skipTags
	resolve := func(*playbooks.Play) ([]string, error) { return nil, nil }
	if o.list.hosts {
		if len(o.sources) == 0 {
			return errors.New("run: --list-hosts needs an inventory (-i)")
		}
		inv, err := inventory.LoadWith(o.sources, inventory.LoadOptions{Vault: o.vault.opened})
		if err != nil {
			return err
		}
		for _, w := range inv.Warnings {
			fmt.Fprintf(stderr, "[WARNING]: %s\n", w)
		}
		ri := newEngineInventory(inv, o.limit)
		ri.warn = func(msg string) { fmt.Fprintf(stderr, "[WARNING]: %s\n", msg) }
		resolve = ri.resolve
	}
	return listPlaybook(stdout, pb, o.playbook, o.list, resolve)
}

// startAt applies --start-at-task to pb. The returned function, deferred by the caller,
// says at the end of the run that no task matched, as ansible-playbook does (the run
// itself succeeds, having run no task).
func startAt(o runOptions, pb *playbooks.Playbook, stderr io.Writer) (*playbooks.Playbook, func()) {
	if o.startAtTask == "" {
		return pb, func() {}
	}
	out, found := pb.StartAt(o.startAtTask)
	if found {
		return out, func() {}
	}
	return out, func() {
		fmt.Fprintf(stderr, " [ERROR]: No matching task %q found. Note: --start-at-task can only follow\nstatic includes.\n", o.startAtTask)
	}
}
