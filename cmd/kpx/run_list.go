package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/kpxdev/kpx/internal/pyvalue"
	"github.com/kpxdev/kpx/playbooks"
)

// listOptions are ansible-playbook's listing flags: they print and run nothing.
type listOptions struct {
	hosts, tasks, tags bool
	only, skip         []string // --tags, --skip-tags
}

func (l listOptions) any() bool { return l.hosts || l.tasks || l.tags }

// listPlaybook prints what ansible-playbook prints for --list-hosts, --list-tasks and
// --list-tags. Two differences are on purpose: play tags and hosts come in a stable order
// (sorted tags, the play's host order), where Ansible prints Python sets in no set order.
func listPlaybook(w io.Writer, pb *playbooks.Playbook, path string, o listOptions, resolve func(*playbooks.Play) ([]string, error)) error {
	var b strings.Builder
	fmt.Fprintf(&b, "\nplaybook: %s\n", path)
	for i, p := range pb.Plays {
		patterns := make([]any, len(p.Hosts))
		for j, h := range p.Hosts {
			patterns[j] = h
		}
		playTags := sortedUnique(p.Tags)
		fmt.Fprintf(&b, "\n  play #%d (%s): %s\tTAGS: [%s]", i+1, strings.Join(p.Hosts, ","), listPlayName(p), strings.Join(playTags, ","))
		if o.hosts {
			hosts, err := resolve(p)
			if err != nil {
				return err
			}
			fmt.Fprintf(&b, "\n    pattern: %s\n    hosts (%d):", pyvalue.Repr(patterns), len(hosts))
			for _, h := range hosts {
				fmt.Fprintf(&b, "\n      %s", h)
			}
		}
		b.WriteString("\n")
		if !o.tasks && !o.tags {
			continue
		}
		if o.tasks {
			b.WriteString("    tasks:\n")
		}
		all := map[string]bool{}
		for _, list := range [][]*playbooks.Task{p.PreTasks, p.Tasks, p.PostTasks} {
			listTasks(&b, list, playTags, all, o)
		}
		if o.tags {
			for _, t := range playTags {
				all[t] = true
			}
			fmt.Fprintf(&b, "      TASK TAGS: [%s]\n", strings.Join(sortedKeys(all), ", "))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// listTasks lists the tasks --tags and --skip-tags select, blocks' own tasks included but
// not their rescue and always sections, as Ansible's listing walks them.
func listTasks(b *strings.Builder, tasks []*playbooks.Task, playTags []string, all map[string]bool, o listOptions) {
	for _, t := range tasks {
		if t.Block != nil {
			listTasks(b, t.Block.Block, playTags, all, o)
			continue
		}
		if !t.Selected(o.only, o.skip) {
			continue
		}
		for _, tag := range t.Tags {
			all[tag] = true
		}
		if o.tasks {
			tags := sortedUnique(append(append([]string(nil), playTags...), t.Tags...))
			fmt.Fprintf(b, "      %s\tTAGS: [%s]\n", t.DisplayName(), strings.Join(tags, ", "))
		}
	}
}

// listPlayName is Ansible's play.name: the name, else the host patterns joined by commas.
func listPlayName(p *playbooks.Play) string {
	if p.Name != "" {
		return p.Name
	}
	return strings.Join(p.Hosts, ",")
}

func sortedUnique(ss []string) []string {
	m := map[string]bool{}
	for _, s := range ss {
		m[s] = true
	}
	return sortedKeys(m)
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
