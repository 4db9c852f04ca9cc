// Package report turns rollout events into text for people and programs: Plain writes
// ansible-playbook's output, so that operators and the scripts that read it find what they
// know, with kpx's wave, health and rollback lines for rollout plays; JSON writes one
// event per line.
package report

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kpxdev/kpx/internal/pyvalue"
	"github.com/kpxdev/kpx/rollout"
)

// Columns is the width ansible-playbook uses when its output is not a terminal.
const Columns = 79

// Plain writes events as ansible-playbook's default output does. It is not safe for
// concurrent use: the engine delivers events one at a time.
type Plain struct {
	w       io.Writer
	err     error
	verbose int
	// Warnings receives [WARNING] lines, which ansible-playbook writes to standard error;
	// nil writes them with the rest.
	Warnings io.Writer
	// Now is the clock (bake times are shown from it); nil is time.Now.
	Now func() time.Time
	ro  rolloutState
}

// NewPlain returns a presenter writing to w; verbosity is the number of -v flags.
func NewPlain(w io.Writer, verbosity int) *Plain { return &Plain{w: w, verbose: verbosity} }

// Err returns the first write error, if any.
func (p *Plain) Err() error { return p.err }

func (p *Plain) printf(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

// banner writes "\nTITLE ****" filling the line, as Ansible's Display.banner does.
func (p *Plain) banner(title string) {
	title = strings.TrimSpace(title)
	stars := max(Columns-utf8.RuneCountInString(title), 3)
	p.printf("\n%s %s\n", title, strings.Repeat("*", stars))
}

// Handle writes one event.
func (p *Plain) Handle(ev rollout.Event) {
	if _, ok := ev.(rollout.PlayStarted); !ok {
		p.flushWave()
	}
	switch ev := ev.(type) {
	case rollout.PlayStarted:
		p.banner("PLAY [" + ev.Name + "]")
		p.flushWave()
	case rollout.TaskStarted:
		if ev.Handler {
			p.banner("RUNNING HANDLER [" + ev.Name + "]")
		} else {
			p.banner("TASK [" + ev.Name + "]")
		}
	case rollout.HostResult:
		p.hostResult(ev)
	case rollout.Included:
		item := ""
		if ev.HasItem {
			item = " => (item=" + ev.Item + ")"
		}
		p.printf("included: %s for %s%s\n", ev.File, strings.Join(ev.Hosts, ", "), item)
	case rollout.TaskRetry:
		p.printf("FAILED - RETRYING: [%s]: %s (%d retries left).\n", ev.Host, ev.Task, ev.Left)
	case rollout.NoHostsLeft:
		p.banner("NO MORE HOSTS LEFT")
	case rollout.NoHostsMatched:
		p.printf("skipping: no hosts matched\n")
	case rollout.Warning:
		if p.Warnings != nil {
			fmt.Fprintf(p.Warnings, "[WARNING]: %s\n", ev.Msg)
		} else {
			p.printf("[WARNING]: %s\n", ev.Msg)
		}
	case rollout.RunFinished:
		p.recap(ev)
	default:
		p.rolloutEvent(ev)
	}
}

func (p *Plain) hostResult(ev rollout.HostResult) {
	host := ev.Host
	if ev.Delegated != "" && ev.Delegated != ev.Host {
		host += " -> " + ev.Delegated
		// as Ansible: the delegate's address too, when it is not its name
		if dv, ok := ev.Result["_ansible_delegated_vars"].(map[string]any); ok {
			if a, ok := dv["ansible_host"].(string); ok && a != "" && a != ev.Delegated {
				host += "(" + a + ")"
			}
		}
	}
	item := ""
	if ev.HasItem {
		item = " => (item=" + itemLabel(ev) + ")"
	}
	res := cleanResult(ev.Action, ev.Result)
	// --diff: a changed result's diff comes before its status line, as in Ansible.
	if d, ok := ev.Result["diff"]; ok && d != nil && ev.Result["changed"] == true {
		p.printf("%s", fileDiff(d))
	}
	switch ev.Status {
	case rollout.StatusFailed:
		// As Ansible's default callback: a failed item is "failed: [h] (item=x)", and a
		// failed loop says nothing more than its items did.
		switch {
		case ev.HasItem:
			p.printf("failed: [%s] (item=%s) => %s\n", host, itemLabel(ev), pyvalue.JSON(res, p.indent(ev.Result)))
		case !ev.Looped:
			p.printf("fatal: [%s]: FAILED! => %s\n", host, pyvalue.JSON(res, p.indent(ev.Result)))
		}
		if ev.Ignored {
			p.printf("...ignoring\n")
		}
	case rollout.StatusUnreachable:
		p.printf("fatal: [%s]: UNREACHABLE!%s => %s\n", host, item, pyvalue.JSON(res, p.indent(ev.Result)))
		if ev.Ignored {
			p.printf("...ignoring\n")
		}
	case rollout.StatusSkipped:
		p.printf("skipping: [%s]%s\n", host, item)
	default:
		p.printf("%s: [%s]%s", ev.Status, host, item)
		if p.showResult(ev.Result) {
			p.printf(" => %s", pyvalue.JSON(res, p.indent(ev.Result)))
		}
		p.printf("\n")
	}
}

// showResult: ok and changed results are shown in full with -v, or when the module asks
// (debug does).
func (p *Plain) showResult(r map[string]any) bool {
	verboseAlways, _ := r["_ansible_verbose_always"].(bool)
	return p.verbose > 0 || verboseAlways
}

func (p *Plain) indent(r map[string]any) int {
	if verboseAlways, _ := r["_ansible_verbose_always"].(bool); verboseAlways || p.verbose > 2 {
		return 4
	}
	return 0
}

func itemLabel(ev rollout.HostResult) string {
	if ev.Label != "" {
		return ev.Label
	}
	switch it := ev.Item.(type) {
	case string:
		return it
	default:
		return pyvalue.Repr(it)
	}
}

// cleanResult removes what Ansible hides: internal keys, and for debug everything but the
// message (or the variable shown).
func cleanResult(action string, r map[string]any) map[string]any {
	out := make(map[string]any, len(r))
	for k, v := range r {
		if strings.HasPrefix(k, "_ansible_") || k == "invocation" || k == "exception" || k == "diff" || k == "failed" {
			continue
		}
		out[k] = v
	}
	if action == "debug" {
		if _, ok := out["msg"]; ok {
			for k := range out {
				if k != "msg" && k != "failed" {
					delete(out, k)
				}
			}
		} else {
			delete(out, "changed")
		}
		if f, _ := out["failed"].(bool); !f {
			delete(out, "failed")
		}
	}
	return out
}

func (p *Plain) recap(ev rollout.RunFinished) {
	p.banner("PLAY RECAP")
	hosts := append([]string(nil), ev.Hosts...)
	sort.Strings(hosts)
	for _, h := range hosts {
		s := ev.Stats[h]
		p.printf("%-26s : %s %s %s %s %s %s %s\n", h,
			col("ok", s.OK), col("changed", s.Changed), col("unreachable", s.Unreachable), col("failed", s.Failed),
			col("skipped", s.Skipped), col("rescued", s.Rescued), col("ignored", s.Ignored))
	}
	p.printf("\n")
}

func col(name string, n int) string { return fmt.Sprintf("%s=%-4d", name, n) }
