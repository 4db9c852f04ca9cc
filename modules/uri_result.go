package modules

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// uriResult reads the request's outcome (the shell's markers) into Ansible's result.
func uriResult(r Result, a map[string]any, out string) (Result, error) {
	meta, rest, _ := strings.Cut(out, "--KPX-ERR--\n")
	errText, rest, _ := strings.Cut(rest, "--KPX-HEAD--\n")
	head, body, _ := strings.Cut(rest, "--KPX-BODY--\n")
	vals := map[string]string{}
	for _, line := range strings.Split(meta, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			vals[k] = v
		}
	}
	status, _ := strconv.Atoi(vals["code"])
	if status == 0 {
		status = -1
	}
	r["status"], r["url"] = status, vals["url"]
	r["redirected"] = vals["redirects"] != "" && vals["redirects"] != "0"
	reason := ""
	for k, v := range lastHeaders(head, &reason) {
		r[k] = v
	}
	r["cookies"], r["cookies_string"] = map[string]any{}, ""
	ctype, _ := r["content_type"].(string)
	if boolArg(a, "return_content", false) {
		r["content"] = body
	}
	if strings.Contains(ctype, "json") && body != "" {
		var js any
		if json.Unmarshal([]byte(body), &js) == nil {
			r["json"] = js
		}
	}
	if a["dest"] != nil && status >= 200 && status < 300 {
		r["changed"], r["path"] = true, str(a["dest"])
	}
	want := statusCodes(a["status_code"])
	for _, w := range want {
		if w == status {
			r["msg"] = fmt.Sprintf("OK (%s bytes)", lengthOf(r, body))
			return r, nil
		}
	}
	r["failed"] = true
	wantText := strings.Trim(strings.ReplaceAll(fmt.Sprint(want), " ", ", "), "")
	if status == -1 {
		r["msg"] = fmt.Sprintf("Status code was -1 and not %s: Request failed: %s", wantText, strings.TrimSpace(errText))
		return r, nil
	}
	r["msg"] = fmt.Sprintf("Status code was %d and not %s: HTTP Error %d: %s", status, wantText, status, reason)
	return r, nil
}

func lengthOf(r Result, body string) string {
	if l, ok := r["content_length"].(string); ok {
		return l
	}
	return "unknown"
}

// lastHeaders parses the last response's headers (after redirects and 100 Continue) into
// Ansible's keys: lower case, dashes as underscores.
func lastHeaders(head string, reason *string) map[string]any {
	out := map[string]any{}
	for _, line := range strings.Split(strings.ReplaceAll(head, "\r\n", "\n"), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "HTTP/") {
			out = map[string]any{}
			f := strings.SplitN(line, " ", 3)
			if len(f) == 3 {
				*reason = f[2]
			}
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok && !strings.Contains(k, " ") {
			out[strings.ReplaceAll(strings.ToLower(k), "-", "_")] = strings.TrimSpace(v)
		}
	}
	return out
}

// statusCodes reads status_code (a list, a number, or "200,201"); default [200].
func statusCodes(v any) []int {
	var items []any
	switch v := v.(type) {
	case nil:
		return []int{200}
	case []any:
		items = v
	case string:
		for _, s := range strings.Split(v, ",") {
			items = append(items, strings.TrimSpace(s))
		}
	default:
		items = []any{v}
	}
	var out []int
	for _, it := range items {
		if n, err := strconv.Atoi(str(it)); err == nil {
			out = append(out, n)
		}
	}
	return out
}
