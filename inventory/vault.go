package inventory

import (
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/kpxdev/kpx/internal/vault"
)

// noteSecrets records as secrets the variable values of an inventory file that was
// encrypted whole (data is its plaintext): the values under `vars:` and of hosts in YAML,
// the right-hand sides of key=value in INI. Group and host names are not secrets.
func (inv *Inventory) noteSecrets(data []byte) {
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) == nil && len(doc.Content) > 0 && deref(doc.Content[0]).Kind == yaml.MappingNode {
		inv.vault.AddSecretsUnder(&doc, "vars", "hosts")
		return
	}
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '[' || line[0] == '#' || line[0] == ';' {
			continue
		}
		tokens, err := shlexSplit(line)
		if err != nil || len(tokens) == 1 && strings.Contains(line, "=") {
			// a [g:vars] line: key = value, blanks allowed around =
			if _, v, ok := strings.Cut(line, "="); ok {
				inv.vault.AddSecret(unquote(strings.TrimSpace(v)))
			}
			continue
		}
		for _, t := range tokens {
			if _, v, ok := strings.Cut(t, "="); ok {
				inv.vault.AddSecret(v)
			}
		}
		if len(tokens) == 3 && tokens[1] == "=" { // key = value
			inv.vault.AddSecret(tokens[2])
		}
	}
}

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}

// ReadVarsFiles reads every group_vars/ and host_vars/ file that applies to a group or a
// host of the inventory, so that one that cannot be read or decrypted is reported before
// a run rather than found missing later (HostVars reports no errors). The files are
// cached: HostVars does not read them again.
func (inv *Inventory) ReadVarsFiles() error {
	for _, src := range inv.sources {
		for _, g := range inv.Groups {
			if _, err := inv.files.vars(src, "group_vars", g.Name); err != nil {
				return err
			}
		}
		for _, h := range inv.Hosts {
			if _, err := inv.files.vars(src, "host_vars", h.Name); err != nil {
				return err
			}
		}
	}
	return nil
}

// decryptNodes decrypts the inline !vault values of a YAML tree, or, with keepInline,
// leaves them encrypted in the shape ansible-inventory prints.
func decryptNodes(v *vault.Vault, keepInline bool, file string, n *yaml.Node) error {
	if keepInline {
		vault.ShowInline(n)
		return nil
	}
	return v.DecryptNodes(file, n)
}
