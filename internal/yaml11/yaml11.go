// Package yaml11 decodes YAML with the typing of YAML 1.1, as PyYAML and therefore Ansible
// read it: `yes`/`on` are booleans, `0755` is octal 493, `1:30` is 90, `1e3` is a string.
// Parsing is gopkg.in/yaml.v3's; only the meaning of plain scalars and merge keys (<<) is
// decided here, so positions from yaml.v3 nodes remain available to callers.
package yaml11

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Decode returns the Go value of n: nil, bool, int, *big.Int (for integers beyond int64),
// float64, string, []any or map[string]any. Mapping keys that are not strings are written
// the way Python's str() would write them (1 → "1", true → "True").
func Decode(n *yaml.Node) (any, error) {
	return decodeWithin(n, maxNodes)
}

// decodeWithin decodes n, refusing documents that expand to more than budget values.
func decodeWithin(n *yaml.Node, budget int) (any, error) {
	d := decoder{budget: budget}
	return d.decode(n, 0)
}

// Limits that keep hostile input (deep nesting, "billion laughs" aliases) from exhausting
// the stack or memory.
const (
	maxDepth = 10000
	maxNodes = 10_000_000
)

type decoder struct {
	budget int // nodes that may still be decoded, aliases counted at every use
}

func (d *decoder) decode(n *yaml.Node, depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("line %d: YAML nested too deeply", n.Line)
	}
	if d.budget--; d.budget < 0 {
		return nil, fmt.Errorf("line %d: YAML document expands to too many values (aliases?)", n.Line)
	}
	switch n.Kind {
	case 0: // an empty document
		return nil, nil
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return d.decode(n.Content[0], depth+1)
	case yaml.AliasNode:
		return d.decode(n.Alias, depth+1)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := d.decode(c, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		return d.decodeMapping(n, depth)
	case yaml.ScalarNode:
		return Scalar(n)
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node", n.Line)
}

func (d *decoder) decodeMapping(n *yaml.Node, depth int) (map[string]any, error) {
	out := make(map[string]any, len(n.Content)/2)
	explicit := map[string]bool{}
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if IsMergeKey(k) {
			merges = append(merges, v)
			continue
		}
		key, err := KeyString(k)
		if err != nil {
			return nil, err
		}
		val, err := d.decode(v, depth+1)
		if err != nil {
			return nil, err
		}
		out[key] = val
		explicit[key] = true
	}
	// Merged mappings fill in keys the mapping does not set itself; among several merged
	// mappings, the first one listed wins.
	for _, m := range merges {
		sources := []*yaml.Node{m}
		if resolveAlias(m).Kind == yaml.SequenceNode {
			sources = resolveAlias(m).Content
		}
		for _, src := range sources {
			if resolveAlias(src).Kind != yaml.MappingNode {
				return nil, fmt.Errorf("line %d column %d: a merge key (<<) needs a mapping or a list of mappings", src.Line, src.Column)
			}
			v, err := d.decode(src, depth+1)
			if err != nil {
				return nil, err
			}
			for k, val := range v.(map[string]any) {
				if !explicit[k] {
					out[k] = val
					explicit[k] = true
				}
			}
		}
	}
	return out, nil
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// IsMergeKey reports whether k is YAML's merge key (<<).
func IsMergeKey(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Value == "<<" && (plain(k) || k.Tag == "!!merge")
}

// KeyString returns a mapping key as a string, as Python's str() writes a scalar key.
func KeyString(k *yaml.Node) (string, error) {
	k = resolveAlias(k)
	if k.Kind != yaml.ScalarNode {
		return "", fmt.Errorf("line %d column %d: mapping keys must be scalars", k.Line, k.Column)
	}
	v, err := Scalar(k)
	if err != nil {
		return "", err
	}
	switch v := v.(type) {
	case nil:
		return "None", nil
	case bool:
		if v {
			return "True", nil
		}
		return "False", nil
	case string:
		return v, nil
	default:
		return fmt.Sprint(v), nil
	}
}

func plain(n *yaml.Node) bool {
	return n.Style&(yaml.TaggedStyle|yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) == 0
}

// Scalar returns the value of a scalar node: plain scalars are typed by YAML 1.1's rules,
// quoted and block scalars are strings, and explicit standard tags (!!int, !!bool, ...) are
// honoured. Other tags (!unsafe, !vault, ...) leave the text as a string.
func Scalar(n *yaml.Node) (any, error) {
	n = resolveAlias(n)
	if plain(n) {
		return resolvePlain(n.Value), nil
	}
	if n.Style&yaml.TaggedStyle == 0 {
		return n.Value, nil
	}
	var v any
	switch n.Tag {
	case "!!str", "!!binary", "!!timestamp":
		return n.Value, nil
	case "!!null":
		return nil, nil
	case "!!bool":
		v, _ = parseBool(n.Value)
	case "!!int":
		v, _ = parseInt(n.Value)
	case "!!float":
		v, _ = parseFloat(n.Value)
	default:
		return n.Value, nil
	}
	if v == nil {
		return nil, fmt.Errorf("line %d column %d: %q is not a valid %s", n.Line, n.Column, n.Value, n.Tag)
	}
	return v, nil
}

var (
	nullRE  = regexp.MustCompile(`^(?:~|null|Null|NULL|)$`)
	boolRE  = regexp.MustCompile(`^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$`)
	intRE   = regexp.MustCompile(`^[-+]?(?:0b[0-1_]+|0[0-7_]+|0|[1-9][0-9_]*|0x[0-9a-fA-F_]+|[1-9][0-9_]*(?::[0-5]?[0-9])+)$`)
	floatRE = regexp.MustCompile(`^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$`)
)

func resolvePlain(s string) any {
	switch {
	case nullRE.MatchString(s):
		return nil
	case boolRE.MatchString(s):
		b, _ := parseBool(s)
		return b
	case intRE.MatchString(s):
		if v, ok := parseInt(s); ok {
			return v
		}
	case floatRE.MatchString(s):
		if v, ok := parseFloat(s); ok {
			return v
		}
	}
	return s
}

func parseBool(s string) (any, bool) {
	switch strings.ToLower(s) {
	case "yes", "true", "on":
		return true, true
	case "no", "false", "off":
		return false, true
	}
	return nil, false
}

// parseInt reads a YAML 1.1 integer: binary, octal (leading 0), decimal, hexadecimal or
// base 60 (1:30), with underscores allowed.
func parseInt(s string) (any, bool) {
	s = strings.ReplaceAll(s, "_", "")
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" {
		return nil, false
	}
	var z big.Int
	var ok bool
	switch {
	case s == "0":
		ok = true
	case strings.HasPrefix(s, "0b"):
		_, ok = z.SetString(s[2:], 2)
	case strings.HasPrefix(s, "0x"):
		_, ok = z.SetString(s[2:], 16)
	case s[0] == '0':
		_, ok = z.SetString(s[1:], 8)
	case strings.Contains(s, ":"):
		ok = true
		for _, part := range strings.Split(s, ":") {
			d, err := strconv.ParseInt(part, 10, 64)
			if err != nil {
				return nil, false
			}
			z.Mul(&z, big.NewInt(60))
			z.Add(&z, big.NewInt(d))
		}
	default:
		_, ok = z.SetString(s, 10)
	}
	if !ok {
		return nil, false
	}
	if neg {
		z.Neg(&z)
	}
	if z.IsInt64() && z.Int64() >= math.MinInt && z.Int64() <= math.MaxInt {
		return int(z.Int64()), true
	}
	return &z, true
}

// parseFloat reads a YAML 1.1 float, including base 60 (1:30.5), .inf and .nan.
func parseFloat(s string) (any, bool) {
	s = strings.ToLower(strings.ReplaceAll(s, "_", ""))
	sign := 1.0
	if s != "" && (s[0] == '-' || s[0] == '+') {
		if s[0] == '-' {
			sign = -1
		}
		s = s[1:]
	}
	switch s {
	case ".inf":
		return sign * math.Inf(1), true
	case ".nan":
		return math.NaN(), true
	}
	if strings.Contains(s, ":") {
		var v float64
		for _, part := range strings.Split(s, ":") {
			d, err := strconv.ParseFloat(part, 64)
			if err != nil {
				return nil, false
			}
			v = v*60 + d
		}
		return sign * v, true
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return nil, false
	}
	return sign * v, true // out of range: ±Inf or 0, as Python's float() gives
}
