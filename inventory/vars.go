package inventory

// HostVars returns the host's variables merged as Ansible does for `ansible-inventory
// --list`: group vars (all first, then the host's groups by depth, priority and name; inventory
// files first, then group_vars/ files per source), then inline host vars, then host_vars/.
// It returns nil for an unknown host.
func (inv *Inventory) HostVars(name string) map[string]any {
	v, err := inv.HostVarsErr(name)
	if err != nil {
		return nil
	}
	return v
}

// HostVarsErr is HostVars reporting a group_vars/host_vars file that cannot be read.
func (inv *Inventory) HostVarsErr(name string) (map[string]any, error) {
	h := inv.hosts[name]
	if h == nil {
		return nil, nil
	}
	all := inv.groups["all"]
	var groups []*Group
	for _, g := range h.groups {
		if g != all {
			groups = append(groups, g)
		}
	}
	groups = sortedGroups(groups)
	out := map[string]any{}
	merge(out, all.Vars)
	for _, g := range groups {
		merge(out, g.Vars)
	}
	if err := inv.mergeFiles(out, "group_vars", []*Group{all}); err != nil {
		return nil, err
	}
	if err := inv.mergeFiles(out, "group_vars", groups); err != nil {
		return nil, err
	}
	merge(out, h.Vars)
	for _, src := range inv.sources {
		m, err := inv.files.vars(src, "host_vars", h.Name)
		if err != nil {
			return nil, err
		}
		merge(out, m)
	}
	return out, nil
}

func (inv *Inventory) mergeFiles(out map[string]any, kind string, groups []*Group) error {
	for _, src := range inv.sources {
		for _, g := range groups {
			m, err := inv.files.vars(src, kind, g.Name)
			if err != nil {
				return err
			}
			merge(out, m)
		}
	}
	return nil
}

func merge(dst, src map[string]any) {
	for k, v := range src {
		dst[k] = v
	}
}
