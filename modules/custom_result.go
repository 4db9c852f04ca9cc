package modules

import (
	"encoding/json"
	"strings"

	"github.com/kpxdev/kpx/transport"
)

// moduleResult reads a custom module's output as Ansible does: one JSON object on stdout
// (lines of noise before and after it are dropped with a warning); anything else is a
// module failure keeping stdout, stderr and rc.
func moduleResult(res transport.Result) Result {
	stdout, stderr := string(res.Stdout), string(res.Stderr)
	text, warnings := filterNonJSONLines(stdout)
	var r map[string]any
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	if err := dec.Decode(&r); err != nil || r == nil {
		out := Result{"failed": true, "changed": false, "_ansible_parsed": false, "module_stdout": stdout,
			"module_stderr": stderr, "msg": "MODULE FAILURE\nSee stdout/stderr for the exact error", "rc": res.ExitStatus}
		if strings.HasPrefix(stderr, "Traceback") {
			out["exception"] = stderr
		}
		return out
	}
	out := Result(numbers(r).(map[string]any))
	if len(warnings) > 0 {
		w, _ := out["warnings"].([]any)
		for _, s := range warnings {
			w = append(w, s)
		}
		out["warnings"] = w
	}
	for _, k := range []string{"changed", "failed"} {
		if v, ok := out[k]; ok {
			if b, ok := AnsibleBool(v); ok {
				out[k] = b
			}
		}
	}
	if _, ok := out["changed"]; !ok {
		out["changed"] = false
	}
	if _, ok := out["failed"]; !ok {
		rc, hasRC := out["rc"]
		out["failed"] = hasRC && str(rc) != "0"
	}
	for k := range out {
		if strings.HasPrefix(k, "_ansible_") && k != "_ansible_no_log" {
			delete(out, k)
		}
	}
	return out
}

// filterNonJSONLines is Ansible's _filter_non_json_lines: the text from the first line
// starting with { (or [) to the last line ending with } (or ]); what it cut is returned
// as warnings.
func filterNonJSONLines(data string) (string, []string) {
	lines := strings.Split(data, "\n")
	start, end := -1, -1
	var closer string
	for i, l := range lines {
		if strings.HasPrefix(l, "{") {
			start, closer = i, "}"
			break
		}
		if strings.HasPrefix(l, "[") {
			start, closer = i, "]"
			break
		}
	}
	if start < 0 {
		return data, nil
	}
	for i := len(lines) - 1; i >= start; i-- {
		if strings.HasSuffix(strings.TrimRight(lines[i], "\r \t"), closer) {
			end = i
			break
		}
	}
	if end < 0 {
		return data, nil
	}
	var warnings []string
	if trailing := strings.TrimSpace(strings.Join(lines[end+1:], "\n")); trailing != "" {
		warnings = append(warnings, "Module invocation had junk after the JSON data: "+trailing)
	}
	return strings.Join(lines[start:end+1], "\n"), warnings
}

// numbers turns json.Number into int or float64, as the rest of kpx holds values.
func numbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return int(i)
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = numbers(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = numbers(e)
		}
		return x
	}
	return v
}
