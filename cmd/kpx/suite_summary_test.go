package main

import (
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// A summary is what the playbook suite compares between kpx and ansible-playbook: the
// plays and batches in order with the hosts each ran on, every task and handler with the
// sorted per-host statuses (results' payloads left out), the recap and the exit code.
// Hosts within a batch are listed in the order they first reported when the run used one
// fork (then the order is the play's), sorted otherwise.

var (
	bannerLine     = regexp.MustCompile(`^(PLAY|TASK|RUNNING HANDLER) \[(.*)\] \**$`)
	statusLine     = regexp.MustCompile(`^(ok|changed|skipping|fatal|failed): \[([^\]]+)\](: (FAILED|UNREACHABLE)!)?( => \((item=.*)\)| \((item=.*)\))?`)
	includedLn     = regexp.MustCompile(`^included: (\S+) for (.*?)( => \(item=.*\))?$`)
	suiteRecapLine = regexp.MustCompile(`^(\S+)\s+: (ok=.*)$`)
	spaces         = regexp.MustCompile(`\s+`)
)

func summarize(out string, code int, oneFork bool) string {
	var b strings.Builder
	var section []string // status lines of the current task
	var hosts []string   // hosts seen in the current play section
	seen := map[string]bool{}
	inRecap := false
	flushTask := func() {
		sort.Strings(section)
		for _, s := range section {
			fmt.Fprintf(&b, "    %s\n", s)
		}
		section = nil
	}
	var playHeader strings.Builder
	flushPlay := func() {
		flushTask()
		if playHeader.Len() == 0 {
			return
		}
		hs := hosts
		if !oneFork {
			hs = append([]string(nil), hosts...)
			sort.Strings(hs)
		}
		body := b.String()
		b.Reset()
		fmt.Fprintf(&b, "%s  hosts: %s\n%s", playHeader.String(), strings.Join(hs, " "), body)
		playHeader.Reset()
	}
	var done strings.Builder
	addHost := func(h string) {
		h, _, _ = strings.Cut(h, " -> ")
		if !seen[h] {
			seen[h] = true
			hosts = append(hosts, h)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if m := bannerLine.FindStringSubmatch(line); m != nil {
			flushTask()
			switch m[1] {
			case "PLAY":
				flushPlay()
				done.WriteString(b.String())
				b.Reset()
				hosts, seen = nil, map[string]bool{}
				if m[2] == "" { // PLAY RECAP has no brackets; never here
					continue
				}
				fmt.Fprintf(&playHeader, "PLAY [%s]\n", m[2])
			default:
				fmt.Fprintf(&b, "  %s [%s]\n", m[1], m[2])
			}
			continue
		}
		switch {
		case strings.HasPrefix(line, "PLAY RECAP"):
			flushPlay()
			done.WriteString(b.String())
			b.Reset()
			inRecap = true
			done.WriteString("RECAP\n")
		case inRecap:
			if m := suiteRecapLine.FindStringSubmatch(line); m != nil {
				fmt.Fprintf(&done, "  %s %s\n", m[1], spaces.ReplaceAllString(strings.TrimSpace(m[2]), " "))
			}
		case strings.HasPrefix(line, "...ignoring"):
			if n := len(section); n > 0 {
				section[n-1] += " ...ignoring"
			}
		case strings.HasPrefix(line, "NO MORE HOSTS LEFT"):
			fmt.Fprintf(&b, "  NO MORE HOSTS LEFT\n")
		default:
			if m := statusLine.FindStringSubmatch(line); m != nil {
				s := fmt.Sprintf("%s: [%s]", m[1], m[2])
				if m[4] != "" {
					s += " " + m[4] + "!"
				}
				if item := m[6] + m[7]; item != "" {
					s += " (" + item + ")"
				}
				section = append(section, s)
				addHost(m[2])
			} else if m := includedLn.FindStringSubmatch(line); m != nil {
				hs := strings.Split(m[2], ", ")
				sort.Strings(hs)
				section = append(section, fmt.Sprintf("included: %s for %s%s", filepath.Base(m[1]), strings.Join(hs, ", "), m[3]))
			}
		}
	}
	flushPlay()
	done.WriteString(b.String())
	fmt.Fprintf(&done, "EXIT %d\n", code)
	return done.String()
}

func TestSummarize(t *testing.T) {
	out := `
PLAY [p] ***********************************************************************

TASK [t] ***********************************************************************
changed: [b]
ok: [a] => {
    "msg": "x"
}
fatal: [c]: UNREACHABLE! => {"changed": false, "unreachable": true}
fatal: [d]: FAILED! => {"changed": false}
...ignoring
ok: [a] => (item=1)
failed: [b] (item=2) => {"item": 2}
changed: [a -> z]
included: /x/y/tasks.yml for b, a
included: item.yml for b, c, a => (item=x)

PLAY [q] ***********************************************************************
skipping: [a]

PLAY RECAP *********************************************************************
a                          : ok=1    changed=0    unreachable=0    failed=0    skipped=1    rescued=0    ignored=0   
`
	want := `PLAY [p]
  hosts: a b c d
  TASK [t]
    changed: [a -> z]
    changed: [b]
    failed: [b] (item=2)
    fatal: [c] UNREACHABLE!
    fatal: [d] FAILED! ...ignoring
    included: item.yml for a, b, c => (item=x)
    included: tasks.yml for a, b
    ok: [a]
    ok: [a] (item=1)
PLAY [q]
  hosts: a
    skipping: [a]
RECAP
  a ok=1 changed=0 unreachable=0 failed=0 skipped=1 rescued=0 ignored=0
EXIT 2
`
	if got := summarize(out, 2, false); got != want {
		t.Errorf("summary:\n%s\nwant:\n%s\n%s", got, want, diffText(got, want))
	}
}

func diffText(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("first difference at line %d:\n  got:  %q\n  want: %q", i+1, gl, wl)
		}
	}
	return ""
}
