package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/kpxdev/kpx/internal/pyvalue"
	"github.com/kpxdev/kpx/rollout"
)

// AdHoc writes the results of an ad-hoc command (kpx exec) as Ansible's ad-hoc command
// shows raw, command and shell results: its minimal callback ("h | CHANGED | rc=0 >>" and
// the output), or with OneLine its oneline callback (-o). It is not safe for concurrent
// use: give it one result at a time.
type AdHoc struct {
	w       io.Writer
	err     error
	oneLine bool
}

// NewAdHoc returns a presenter writing to w.
func NewAdHoc(w io.Writer, oneLine bool) *AdHoc { return &AdHoc{w: w, oneLine: oneLine} }

// Err returns the first write error, if any.
func (a *AdHoc) Err() error { return a.err }

// Handle writes one host's result.
func (a *AdHoc) Handle(ev rollout.HostResult) {
	if a.err != nil {
		return
	}
	var text string
	if a.oneLine {
		text = oneLineResult(ev)
	} else {
		text = minimalResult(ev)
	}
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	_, a.err = io.WriteString(a.w, text)
}

// caption is the word Ansible's ad-hoc callbacks put after the host.
func caption(ev rollout.HostResult) string {
	switch ev.Status {
	case rollout.StatusChanged:
		return "CHANGED"
	case rollout.StatusFailed:
		return "FAILED"
	case rollout.StatusSkipped:
		return "SKIPPED"
	}
	return "SUCCESS"
}

// rcOf is the result's return code as Ansible prints it: -1 when there is none.
func rcOf(r map[string]any) string {
	if rc, ok := r["rc"]; ok && rc != nil {
		return pyvalue.Str(rc)
	}
	return "-1"
}

func resultText(r map[string]any, key string) string {
	if v, ok := r[key]; ok && v != nil {
		return pyvalue.Str(v)
	}
	return ""
}

func minimalResult(ev rollout.HostResult) string {
	switch ev.Status {
	case rollout.StatusUnreachable:
		return fmt.Sprintf("%s | UNREACHABLE! => %s", ev.Host, pyvalue.JSON(cleanResult(ev.Action, ev.Result), 4))
	case rollout.StatusSkipped:
		return ev.Host + " | SKIPPED"
	}
	r := ev.Result
	return fmt.Sprintf("%s | %s | rc=%s >>\n%s%s%s\n", ev.Host, caption(ev), rcOf(r),
		resultText(r, "stdout"), resultText(r, "stderr"), resultText(r, "msg"))
}

func oneLineResult(ev rollout.HostResult) string {
	switch ev.Status {
	case rollout.StatusUnreachable:
		return fmt.Sprintf("%s | UNREACHABLE!: %s", ev.Host, resultText(ev.Result, "msg"))
	case rollout.StatusSkipped:
		return ev.Host + " | SKIPPED"
	}
	esc := strings.NewReplacer("\n", `\n`, "\r", `\r`)
	r := ev.Result
	line := fmt.Sprintf("%s | %s | rc=%s | (stdout) %s", ev.Host, caption(ev), rcOf(r), esc.Replace(resultText(r, "stdout")))
	if stderr := resultText(r, "stderr"); stderr != "" {
		line += " (stderr) " + esc.Replace(stderr)
	}
	return line
}
