package rollout

import (
	"context"
	"maps"
	"slices"
	"sync"

	"github.com/kpxdev/kpx/internal/pyvalue"
	"github.com/kpxdev/kpx/playbooks"
)

// runIncludeLoop runs an include_tasks with a loop as Ansible does: the file's tasks run
// once per loop item, in the order the items first appear, for the hosts that had that
// item (and whose conditions held for it), with the loop variable set.
func (b *batchRun) runIncludeLoop(ctx context.Context, hosts []string, t *playbooks.Task, rescuable bool) []string {
	b.taskStarted(t, false)
	var mu sync.Mutex
	items := map[string][]HostResult{}
	keep := func(ev Event) {
		hr, ok := ev.(HostResult)
		if !ok || !hr.HasItem {
			b.r.emit(ev)
			return
		}
		if hr.Status == StatusOK || hr.Status == StatusChanged {
			mu.Lock()
			items[hr.Host] = append(items[hr.Host], hr)
			mu.Unlock()
			return
		}
		b.r.emit(ev) // a skipped or failed item is reported as for any loop
	}
	outcomes := b.executeEmit(ctx, hosts, t, keep, func(h string, o Outcome) {
		if o.Status == StatusFailed || o.Status == StatusUnreachable || o.Status == StatusSkipped {
			b.r.emit(HostResult{Host: h, Status: o.Status, Result: o.Result, Action: t.Module, Ignored: o.Ignored, Delegated: o.Delegated, Looped: o.Looped})
		}
	})

	var failed []string
	for i, h := range hosts {
		o := outcomes[i]
		// ansible-playbook counts a looped include once per item it included.
		for range max(1, len(items[h])) {
			b.st.record(h, o, rescuable)
		}
		if o.Status == StatusFailed || o.Status == StatusUnreachable {
			failed = append(failed, b.account(h, t, o, rescuable)...)
		}
	}
	if len(t.Included) == 0 {
		return failed
	}

	// Group hosts by item, in the order items first appear going through the hosts.
	type include struct {
		item  any
		label string
		hosts []string
	}
	var order []*include
	byKey := map[string]*include{}
	for _, h := range hosts {
		if slices.Contains(failed, h) {
			continue
		}
		for _, hr := range items[h] {
			key := pyvalue.Repr(hr.Item)
			inc := byKey[key]
			if inc == nil {
				label := hr.Label
				if label == "" {
					label = pyvalue.Str(hr.Item)
				}
				inc = &include{item: hr.Item, label: label}
				byKey[key] = inc
				order = append(order, inc)
			}
			inc.hosts = append(inc.hosts, h)
		}
	}
	loopVar := "item"
	if t.LoopControl != nil && t.LoopControl.LoopVar != "" {
		loopVar = t.LoopControl.LoopVar
	}
	// As Ansible: every inclusion is announced, then each runs in turn.
	for _, inc := range order {
		b.r.emit(Included{File: t.Included[0].Pos.File, Hosts: inc.hosts, Item: inc.label, HasItem: true})
	}
	for _, inc := range order {
		in := slices.DeleteFunc(slices.Clone(inc.hosts), func(h string) bool { return slices.Contains(failed, h) })
		if len(in) == 0 || b.stopped(ctx) {
			continue
		}
		tasks := withScope(t.Included, map[string]any{loopVar: inc.item})
		failed = append(failed, b.runList(ctx, in, tasks, rescuable)...)
	}
	return failed
}

// withScope returns copies of tasks whose own variables also hold vars (which win), down
// through blocks and static includes: the loop variable of an included file's tasks.
func withScope(tasks []*playbooks.Task, vars map[string]any) []*playbooks.Task {
	if tasks == nil {
		return nil
	}
	out := make([]*playbooks.Task, len(tasks))
	for i, t := range tasks {
		c := *t
		c.Vars = maps.Clone(t.Vars)
		if c.Vars == nil {
			c.Vars = map[string]any{}
		}
		maps.Copy(c.Vars, vars)
		if t.Block != nil {
			c.Block = &playbooks.Block{
				Block:  withScope(t.Block.Block, vars),
				Rescue: withScope(t.Block.Rescue, vars),
				Always: withScope(t.Block.Always, vars),
			}
		}
		c.Included = withScope(t.Included, vars)
		out[i] = &c
	}
	return out
}
