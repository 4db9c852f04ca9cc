package playbooks

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Serial is a play's `serial` keyword: the sizes of its batches (kpx's waves), in order.
// The last step repeats until every host has had its batch. An empty Serial means one batch
// holding every host, as in Ansible.
type Serial []SerialStep

// SerialStep is one batch size: a host count, or a percentage of the play's hosts.
type SerialStep struct {
	Count   int  // when !Percent: the number of hosts; zero or less means all remaining hosts
	Percent bool // Count is a percentage of all the play's hosts
}

func (s SerialStep) String() string {
	if s.Percent {
		return fmt.Sprintf("%d%%", s.Count)
	}
	return strconv.Itoa(s.Count)
}

// size is the number of hosts the step takes from a play of total hosts. It is Ansible's
// pct_to_int: a percentage is truncated, and a percentage that comes to zero takes one host.
func (s SerialStep) size(total int) int {
	if !s.Percent {
		return s.Count
	}
	n := int(float64(s.Count) / 100.0 * float64(total))
	if n == 0 {
		return 1
	}
	return n
}

// UnmarshalYAML accepts what Ansible accepts: a scalar or a list of scalars, each an integer
// (written as a number or a string) or a percentage string such as "10%".
func (s *Serial) UnmarshalYAML(n *yaml.Node) error {
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = n.Content
	}
	out := make(Serial, 0, len(items))
	for _, item := range items {
		step, err := parseSerialStep(item)
		if err != nil {
			return err
		}
		out = append(out, step)
	}
	*s = out
	return nil
}

func parseSerialStep(n *yaml.Node) (SerialStep, error) {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind != yaml.ScalarNode {
		return SerialStep{}, nodeError(n, "serial: expected a number or a percentage such as \"10%%\", got a %s", kindName(n))
	}
	v := strings.TrimSpace(n.Value)
	if strings.Contains(v, "{{") {
		return SerialStep{}, nodeError(n, "serial: templated values (%q) are not supported; write the batch sizes out", n.Value)
	}
	if pct, ok := strings.CutSuffix(v, "%"); ok && n.Tag == "!!str" {
		p, err := strconv.Atoi(strings.TrimSpace(pct))
		if err != nil {
			return SerialStep{}, nodeError(n, "serial: %q is not a percentage", n.Value)
		}
		return SerialStep{Count: p, Percent: true}, nil
	}
	if c, err := strconv.Atoi(v); err == nil {
		return SerialStep{Count: c}, nil
	}
	// Python's int() truncates a float; Ansible passes floats straight to it.
	if n.Tag == "!!float" {
		if f, err := strconv.ParseFloat(v, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) && math.Abs(f) < 1e9 {
			return SerialStep{Count: int(f)}, nil
		}
	}
	return SerialStep{}, nodeError(n, "serial: %q is neither a host count nor a percentage such as \"10%%\"", n.Value)
}

// Batches cuts hosts into the batches Serial gives, exactly as ansible-playbook does:
// percentages are of all the play's hosts, each step takes at least one host, the last step
// repeats, and a step of zero or less takes every remaining host.
func Batches[T any](hosts []T, s Serial) [][]T {
	if len(s) == 0 {
		s = Serial{{Count: 0}}
	}
	total := len(hosts)
	var out [][]T
	for i := 0; len(hosts) > 0; {
		n := s[i].size(total)
		if n <= 0 || n > len(hosts) {
			n = len(hosts)
		}
		out = append(out, hosts[:n:n])
		hosts = hosts[n:]
		if i < len(s)-1 {
			i++
		}
	}
	return out
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.ScalarNode:
		return "scalar"
	default:
		return "node"
	}
}
