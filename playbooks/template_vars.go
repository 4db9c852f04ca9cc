package playbooks

// resolveVars returns the variables to render p with: a copy of vars, with the variables
// p refers to rendered first when their values are templates themselves (Ansible renders
// variables lazily, when they are used). hostvars is left alone: it is large, and the
// engine is expected to hand it over rendered.
func (t *Templar) resolveVars(p *parsedTemplate, vars map[string]any, depth int) (map[string]any, error) {
	overlay := make(map[string]any, len(vars)+1)
	for k, v := range vars {
		overlay[k] = v
	}
	for name := range p.names {
		v, ok := vars[name]
		if !ok || name == "hostvars" || !containsTemplate(v) {
			continue
		}
		r, err := t.renderValue(v, vars, depth+1)
		if err != nil {
			return nil, err
		}
		overlay[name] = r
	}
	return overlay, nil
}

// containsTemplate reports whether v holds a string with Jinja markup.
func containsTemplate(v any) bool {
	switch x := v.(type) {
	case string:
		return IsTemplate(x)
	case []any:
		for _, e := range x {
			if containsTemplate(e) {
				return true
			}
		}
	case map[string]any:
		for _, e := range x {
			if containsTemplate(e) {
				return true
			}
		}
	}
	return false
}
