package playbooks

import "github.com/nikolalohinski/gonja/v2/exec"

// HostVars is Ansible's `hostvars`: every inventory host's variables, by host name. A
// host's variables are composed when a template looks into them (hostvars['db1'].role),
// so a fleet of ten thousand hosts does not build ten thousand maps for every task.
type HostVars map[string]LazyVars

// NewHostVars returns the hostvars of hosts, whose variables load composes on demand
// (inventory, facts, set_fact and registered variables, extra vars, magic variables; play
// and task variables are not part of them, as in Ansible). Values that are templates are
// rendered in the context of their own host.
func (t *Templar) NewHostVars(hosts []string, load func(host string) map[string]any) HostVars {
	hv := make(HostVars, len(hosts))
	for _, h := range hosts {
		hv[h] = LazyVars{host: h, load: load, t: t}
	}
	return hv
}

// LazyVars is one host's variables within HostVars. It satisfies the template engine's
// attribute and item lookups.
type LazyVars struct {
	host string
	load func(host string) map[string]any
	t    *Templar
}

// Vars returns the host's variables, unrendered.
func (l LazyVars) Vars() map[string]any { return l.load(l.host) }

// GetAttribute looks up a variable: hostvars[h].name.
func (l LazyVars) GetAttribute(name string) (*exec.Value, bool) { return l.lookup(name) }

// GetItem looks up a variable: hostvars[h]['name'].
func (l LazyVars) GetItem(key any) (*exec.Value, bool) {
	name, ok := key.(string)
	if !ok {
		return exec.AsValue(nil), false
	}
	return l.lookup(name)
}

func (l LazyVars) lookup(name string) (*exec.Value, bool) {
	vars := l.load(l.host)
	v, ok := vars[name]
	if !ok {
		return exec.AsValue(nil), false
	}
	if containsTemplate(v) {
		r, err := l.t.renderValue(v, vars, 1)
		if err != nil {
			return exec.AsValue(err), false
		}
		v = r
	}
	return exec.AsValue(v), true
}
