package rollout

import (
	"maps"
	"regexp"
	"sort"
)

// secretName matches variable names that hold secrets by convention.
var secretName = regexp.MustCompile(`(?i)pass|secret|token|key|credential|private|vault`)

// RedactSecrets returns vars with every value whose name (at any depth) looks like a
// secret replaced by Redacted, and the top-level names it redacted, sorted. The journal
// keeps the result: kpx resume asks for those variables again.
func RedactSecrets(vars map[string]any) (map[string]any, []string) {
	out := redactMap(vars)
	var names []string
	for k, v := range out {
		if v == Redacted && vars[k] != Redacted {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	return out, names
}

func redactMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := maps.Clone(m)
	for k, v := range out {
		if secretName.MatchString(k) {
			out[k] = Redacted
			continue
		}
		out[k] = redactValue(v)
	}
	return out
}

func redactValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return redactMap(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = redactValue(e)
		}
		return out
	}
	return v
}
