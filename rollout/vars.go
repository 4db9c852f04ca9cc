package rollout

import (
	"maps"
	"sync"
)

// Inventory is what the engine needs of an inventory: each host's merged variables and the
// groups, both as Ansible's magic variables show them.
type Inventory interface {
	HostVars(host string) map[string]any // inventory vars, merged; nil for a host not in the inventory
	Groups() map[string][]string         // group name -> hosts, "all" and "ungrouped" included
	GroupNames(host string) []string     // the groups of host, sorted, without "all"
}

// hostState is what a run has learnt about one host: facts, set_fact and registered
// variables. It lives for the whole run, across plays.
type hostState struct {
	mu         sync.Mutex
	facts      map[string]any // from setup, without the ansible_ prefix
	factVars   map[string]any // facts as top-level ansible_* variables
	setFacts   map[string]any
	registered map[string]any
}

// varLayers composes a host's variables in Ansible's order of precedence, lowest first:
// role defaults, inventory vars, facts, play vars, vars_files, role vars, block and task
// vars, set_fact and registered vars, role parameters, extra vars. Magic variables are
// added on top.
type varLayers struct {
	roleDefaults, inventory, facts, play, varsFiles, roleVars, task, setFacts, roleParams, extra, magic map[string]any
}

func (l varLayers) merge() map[string]any {
	out := map[string]any{}
	for _, m := range []map[string]any{l.roleDefaults, l.inventory, l.facts, l.play, l.varsFiles, l.roleVars, l.task,
		l.setFacts, l.roleParams, l.extra, l.magic} {
		maps.Copy(out, m)
	}
	return out
}

func (s *hostState) snapshot() (facts, factVars, setFacts map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	setFacts = make(map[string]any, len(s.setFacts)+len(s.registered))
	maps.Copy(setFacts, s.setFacts)
	maps.Copy(setFacts, s.registered)
	return maps.Clone(s.facts), maps.Clone(s.factVars), setFacts
}

// layers returns what the host has learnt as two variable layers: its facts (as ansible_*
// variables and under ansible_facts), and its set_fact and registered variables.
func (s *hostState) layers() (facts, setFacts map[string]any) {
	f, factVars, setFacts := s.snapshot()
	facts = maps.Clone(factVars)
	if facts == nil {
		facts = map[string]any{}
	}
	facts["ansible_facts"] = f
	return facts, setFacts
}

func (s *hostState) setFact(k string, v any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.setFacts == nil {
		s.setFacts = map[string]any{}
	}
	s.setFacts[k] = v
	delete(s.registered, k)
}

func (s *hostState) register(k string, v any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.registered == nil {
		s.registered = map[string]any{}
	}
	s.registered[k] = v
	delete(s.setFacts, k)
}

// addFacts records gathered facts: ansible_facts.x and the top-level ansible_x.
func (s *hostState) addFacts(f map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.facts == nil {
		s.facts, s.factVars = map[string]any{}, map[string]any{}
	}
	for k, v := range f {
		short := k
		if len(k) > 8 && k[:8] == "ansible_" {
			short = k[8:]
		}
		s.facts[short] = v
		s.factVars[k] = v
	}
}
