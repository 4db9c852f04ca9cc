package playbooks

import "github.com/kpxdev/kpx/internal/fnmatch"

// StartAt returns a copy of pb that begins at the first task whose name matches pattern
// (equal, or a shell glob as Python's fnmatch reads it), as ansible-playbook's
// --start-at-task does: in the play holding that task, the tasks before it are dropped (a
// block the task stands in keeps its rescue and always sections; facts are still
// gathered); plays before it run no task at all and gather no facts; later plays are whole.
// found is false when no task matches, in which case no play runs a task. Only static
// task lists are searched: the tasks of an include_tasks are not, as in Ansible. pb is
// not changed.
func (pb *Playbook) StartAt(pattern string) (out *Playbook, found bool) {
	glob := fnmatch.Matcher(pattern)
	match := func(name string) bool { return name != "" && glob(name) }
	out = &Playbook{Path: pb.Path}
	for _, p := range pb.Plays {
		if found {
			out.Plays = append(out.Plays, p)
			continue
		}
		cp := *p
		var sections [3][]*Task
		for i, list := range [][]*Task{p.PreTasks, p.Tasks, p.PostTasks} {
			if found {
				sections[i] = list
				continue
			}
			sections[i], found = startList(list, match)
		}
		cp.PreTasks, cp.Tasks, cp.PostTasks = sections[0], sections[1], sections[2]
		if !found {
			cp.GatherFacts = Flag{Set: true, Value: false}
		}
		out.Plays = append(out.Plays, &cp)
	}
	return out, found
}

// startList returns the tail of tasks from the first match on, or nil and false.
func startList(tasks []*Task, match func(string) bool) ([]*Task, bool) {
	for i, t := range tasks {
		if t.Block == nil {
			if match(t.Name) || match(t.DisplayName()) {
				return tasks[i:], true
			}
			continue
		}
		// Without failures a block runs its tasks, then always: rescue is never reached.
		if rest, ok := startList(t.Block.Block, match); ok {
			return append([]*Task{withBlock(t, rest, t.Block.Always)}, tasks[i+1:]...), true
		}
		if rest, ok := startList(t.Block.Always, match); ok {
			return append([]*Task{withBlock(t, nil, rest)}, tasks[i+1:]...), true
		}
	}
	return nil, false
}

func withBlock(t *Task, block, always []*Task) *Task {
	cp := *t
	cp.Block = &Block{Block: block, Rescue: t.Block.Rescue, Always: always}
	return &cp
}
