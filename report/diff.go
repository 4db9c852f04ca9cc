package report

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aymanbagabas/go-udiff"
	"github.com/aymanbagabas/go-udiff/myers"

	"github.com/kpxdev/kpx/internal/pyvalue"
)

// fileDiff renders a module's "diff" result (--diff) as ansible-playbook's default output
// does: one unified diff per entry, headed "before: PATH" / "after: PATH", structured
// before/after values as indented JSON, and notes for binary or oversized files.
func fileDiff(d any) string {
	list, ok := d.([]any)
	if !ok {
		list = []any{d}
	}
	var b strings.Builder
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			continue
		}
		if _, ok := m["dst_binary"]; ok {
			b.WriteString("diff skipped: destination file appears to be binary\n")
		}
		if _, ok := m["src_binary"]; ok {
			b.WriteString("diff skipped: source file appears to be binary\n")
		}
		if n, ok := m["dst_larger"]; ok {
			fmt.Fprintf(&b, "diff skipped: destination file size is greater than %s\n", pyvalue.Str(n))
		}
		if n, ok := m["src_larger"]; ok {
			fmt.Fprintf(&b, "diff skipped: source file size is greater than %s\n", pyvalue.Str(n))
		}
		before, hasBefore := m["before"]
		after, hasAfter := m["after"]
		if hasBefore && hasAfter {
			from, to := "before", "after"
			if h, ok := m["before_header"]; ok {
				from += ": " + pyvalue.Str(h)
			}
			if h, ok := m["after_header"]; ok {
				to += ": " + pyvalue.Str(h)
			}
			oldText, newText := diffText(before), diffText(after)
			// Line by line (Myers), with three lines of context, as Ansible's difflib.
			if u, err := udiff.ToUnified(from, to, oldText, myers.ComputeEdits(oldText, newText), 3); err == nil && u != "" {
				b.WriteString(u)
				b.WriteString("\n")
			}
		}
		if p, ok := m["prepared"]; ok {
			b.WriteString(pyvalue.Str(p))
		}
	}
	return b.String()
}

// diffText is one side of a diff as text: structured values as Ansible serialises them
// (JSON, keys sorted, indented by four), nothing for None.
func diffText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case map[string]any:
		var b strings.Builder
		enc := json.NewEncoder(&b) // Go sorts map keys, as Ansible's sort_keys=True does
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "    ")
		if err := enc.Encode(x); err != nil {
			return pyvalue.Str(x)
		}
		return b.String()
	default:
		return pyvalue.Str(x)
	}
}
