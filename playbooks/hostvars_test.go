package playbooks

import (
	"strings"
	"testing"
)

func TestHostVarsLookups(t *testing.T) {
	tp := NewTemplar(TemplarOptions{})
	loads := map[string]int{}
	hostVars := map[string]map[string]any{
		"web1": {"role": "frontend", "port": 8080, "url": "http://{{ inventory_hostname }}:{{ port }}", "inventory_hostname": "web1"},
		"db1":  {"role": "database", "inventory_hostname": "db1"},
	}
	hv := tp.NewHostVars([]string{"web1", "db1"}, func(h string) map[string]any {
		loads[h]++
		return hostVars[h]
	})
	vars := map[string]any{"hostvars": hv, "inventory_hostname": "web1", "other": "db1"}
	for _, c := range []struct{ tmpl, want string }{
		{"{{ hostvars['db1'].role }}", "database"},
		{"{{ hostvars[other]['role'] }}", "database"},
		{"{{ hostvars[inventory_hostname].port + 1 }}", "8081"},
		{"{{ hostvars['web1'].url }}", "http://web1:8080"}, // rendered as web1's
		{"{{ 'db1' in hostvars }}", "True"},
		{"{{ 'nosuch' in hostvars }}", "False"},
		{"{{ hostvars | length }}", "2"},
		{"{{ hostvars['db1'].port | default('none') }}", "none"},
	} {
		got, err := tp.RenderText(c.tmpl, vars)
		if err != nil {
			t.Errorf("%s: %v", c.tmpl, err)
			continue
		}
		if got != c.want {
			t.Errorf("%s = %q, want %q", c.tmpl, got, c.want)
		}
	}
	if loads["web1"] == 0 || loads["db1"] == 0 {
		t.Errorf("loads %v: every looked-up host must be loaded", loads)
	}

	// A template that does not look into hostvars loads nobody's variables.
	before := loads["db1"] + loads["web1"]
	if _, err := tp.RenderText("{{ inventory_hostname }}", vars); err != nil {
		t.Fatal(err)
	}
	if after := loads["db1"] + loads["web1"]; after != before {
		t.Errorf("rendering without hostvars loaded %d hosts' variables", after-before)
	}

	if _, err := tp.RenderText("{{ hostvars['db1'].nosuch }}", vars); err == nil || !strings.Contains(err.Error(), "nosuch") {
		t.Errorf("undefined host variable: err = %v, want one naming it", err)
	}
}
