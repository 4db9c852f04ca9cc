package playbooks

import (
	"fmt"
	"math/big"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/kpxdev/kpx/internal/pyvalue"
	"github.com/kpxdev/kpx/internal/yaml11"
	"gopkg.in/yaml.v3"
)

// yamlStyle is how PyYAML's yaml.dump is asked to write.
type yamlStyle struct {
	indent int
	flow   bool // default_flow_style=None: collections of scalars only in flow style
}

// filterToYAML is Ansible's to_yaml: PyYAML's dump with default_flow_style=None.
func filterToYAML(in any, _ []any, kw map[string]any) (any, error) {
	st := yamlStyle{indent: 2, flow: true}
	if i, ok := kw["indent"].(int); ok && i > 1 {
		st.indent = i
	}
	return dumpYAML(in, st), nil
}

// filterToNiceYAML is Ansible's to_nice_yaml(indent=4): block style throughout.
func filterToNiceYAML(in any, args []any, kw map[string]any) (any, error) {
	st := yamlStyle{indent: 4}
	if i, ok := arg(args, kw, 0, "indent", 4).(int); ok && i > 1 {
		st.indent = i
	}
	return dumpYAML(in, st), nil
}

func dumpYAML(v any, st yamlStyle) string {
	var b strings.Builder
	switch v.(type) {
	case []any, map[string]any:
		writeYAMLNode(&b, v, st, 0, false)
	default:
		b.WriteString(yamlScalar(v, false) + "\n")
	}
	return b.String()
}

// isYAMLFlow reports whether a collection is written in flow style.
func isYAMLFlow(v any, st yamlStyle) bool {
	switch x := v.(type) {
	case []any:
		if len(x) == 0 {
			return true
		}
		for _, e := range x {
			if isCollection(e) {
				return false
			}
		}
		return st.flow
	case map[string]any:
		if len(x) == 0 {
			return true
		}
		for _, e := range x {
			if isCollection(e) {
				return false
			}
		}
		return st.flow
	}
	return true
}

func isCollection(v any) bool {
	switch v.(type) {
	case []any, map[string]any:
		return true
	}
	return false
}

// writeYAMLNode writes a collection in block style at the given indentation, the first
// line already positioned (inline) or not.
func writeYAMLNode(b *strings.Builder, v any, st yamlStyle, indent int, inline bool) {
	if isYAMLFlow(v, st) {
		b.WriteString(yamlFlow(v) + "\n")
		return
	}
	pad := strings.Repeat(" ", indent)
	first := true
	linePad := func() {
		if !(first && inline) {
			b.WriteString(pad)
		}
		first = false
	}
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			linePad()
			if isCollection(e) && !isYAMLFlow(e, st) {
				b.WriteString("-" + strings.Repeat(" ", st.indent-1))
				writeYAMLNode(b, e, st, indent+st.indent, true)
			} else {
				b.WriteString("- " + yamlValue(e, st) + "\n")
			}
		}
	case map[string]any:
		for _, k := range yamlSortedKeys(x) {
			linePad()
			b.WriteString(yamlScalar(k, false) + ":")
			e := x[k]
			switch {
			case !isCollection(e) || isYAMLFlow(e, st):
				b.WriteString(" " + yamlValue(e, st) + "\n")
			case isList(e):
				b.WriteString("\n")
				writeYAMLNode(b, e, st, indent, false)
			default:
				b.WriteString("\n")
				writeYAMLNode(b, e, st, indent+st.indent, false)
			}
		}
	}
}

func isList(v any) bool { _, ok := v.([]any); return ok }

func yamlSortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func yamlValue(v any, st yamlStyle) string {
	if isCollection(v) {
		return yamlFlow(v)
	}
	return yamlScalar(v, false)
}

// yamlFlow writes v in flow style.
func yamlFlow(v any) string {
	switch x := v.(type) {
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = yamlFlow(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		parts := []string{}
		for _, k := range yamlSortedKeys(x) {
			parts = append(parts, yamlScalar(k, true)+": "+yamlFlow(x[k]))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return yamlScalar(v, true)
}

// yamlImplicit matches plain scalars that YAML 1.1 would read as something other than a
// string.
var yamlImplicit = regexp.MustCompile(`^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|~|null|Null|NULL|=|<<` +
	`|[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+` +
	`|[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*` +
	`|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?.*)$`)

// yamlScalar writes a scalar as PyYAML does: plain when it reads back as the same string,
// single-quoted otherwise.
func yamlScalar(v any, flow bool) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(x)
	case int:
		return strconv.Itoa(x)
	case *big.Int:
		return x.String()
	case float64:
		return yamlFloat(x)
	case string:
		if yamlPlainOK(x, flow) {
			return x
		}
		return "'" + strings.ReplaceAll(strings.ReplaceAll(x, "'", "''"), "\n", "\n\n") + "'"
	}
	return fmt.Sprint(v)
}

func yamlFloat(f float64) string {
	s := strings.ToLower(pyvalue.Float(f))
	switch s {
	case "inf":
		return ".inf"
	case "-inf":
		return "-.inf"
	case "nan":
		return ".nan"
	}
	if !strings.Contains(s, ".") && strings.Contains(s, "e") {
		s = strings.Replace(s, "e", ".0e", 1)
	}
	return s
}

func yamlPlainOK(s string, flow bool) bool {
	if s == "" || yamlImplicit.MatchString(s) || strings.TrimSpace(s) != s {
		return false
	}
	if strings.ContainsAny(s[:1], "-?:,[]{}#&*!|>'\"%@`") {
		return false
	}
	if strings.Contains(s, ": ") || strings.Contains(s, " #") || strings.HasSuffix(s, ":") {
		return false
	}
	if flow && strings.ContainsAny(s, ",[]{}") {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == 0xfeff {
			return false
		}
	}
	return true
}

// filterFromYAML is yaml.safe_load, with YAML 1.1 typing.
func filterFromYAML(in any, _ []any, _ map[string]any) (any, error) {
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(pyvalue.Str(in)), &n); err != nil {
		return nil, fmt.Errorf("from_yaml: %v", err)
	}
	if n.Kind == 0 {
		return nil, nil
	}
	return yaml11.Decode(&n)
}
