package vault

import (
	"errors"

	"gopkg.in/yaml.v3"

	"github.com/kpxdev/kpx/internal/yaml11"
)

// isVaultTag reports whether tag marks an inline vault value: `!vault`, or the older
// `!vault-encrypted` Ansible still reads.
func isVaultTag(tag string) bool { return tag == "!vault" || tag == "!vault-encrypted" }

// DecryptNodes replaces every inline `!vault` value in the YAML tree n (read from file)
// with its plaintext, a string, and records that plaintext as a secret. An error is an
// *Error placed at the value's line and column. It is a no-op on a tree without such
// values, whatever v.
func (v *Vault) DecryptNodes(file string, n *yaml.Node) error {
	if n == nil || n.Kind == yaml.AliasNode { // the anchor is decrypted where it is defined
		return nil
	}
	if isVaultTag(n.Tag) {
		if n.Kind != yaml.ScalarNode {
			return &Error{File: file, Line: n.Line, Col: n.Column, Err: errors.New("a !vault value must be a string holding a vault text")}
		}
		plain, _, err := v.Decrypt([]byte(n.Value))
		if err != nil {
			return &Error{File: file, Line: n.Line, Col: n.Column, Err: err}
		}
		n.Value, n.Tag, n.Style = string(plain), "!!str", yaml.DoubleQuotedStyle
		v.AddSecret(n.Value)
		return nil
	}
	for _, c := range n.Content {
		if err := v.DecryptNodes(file, c); err != nil {
			return err
		}
	}
	return nil
}

// AddSecretsUnder records as secrets the string values found, at any depth, under the
// mapping keys named, or all of them when no key is named (mapping keys themselves are
// names, not secrets). It serves files
// encrypted whole whose text is not all secret: a playbook's task names and module names
// are not, the values of its `vars:` are.
func (v *Vault) AddSecretsUnder(n *yaml.Node, keys ...string) {
	if v == nil || n == nil {
		return
	}
	v.addUnder(n, keys, len(keys) == 0, 0)
}

func (v *Vault) addUnder(n *yaml.Node, keys []string, inside bool, depth int) {
	if depth > 1000 {
		return
	}
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			v.addUnder(c, keys, inside, depth+1)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			in := inside
			for _, want := range keys {
				in = in || (k.Kind == yaml.ScalarNode && k.Value == want)
			}
			v.addUnder(n.Content[i+1], keys, in, depth+1)
		}
	case yaml.ScalarNode:
		if !inside {
			return
		}
		if s, err := yaml11.Scalar(n); err == nil {
			if s, ok := s.(string); ok {
				v.AddSecret(s)
			}
		}
	}
}

// ShowInline replaces every inline `!vault` value in the YAML tree n with what
// ansible-inventory prints for one it has not decrypted: the mapping
// {"__ansible_vault": vault text}. Nothing is decrypted.
func ShowInline(n *yaml.Node) {
	if n == nil || n.Kind == yaml.AliasNode {
		return
	}
	if isVaultTag(n.Tag) && n.Kind == yaml.ScalarNode {
		key := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "__ansible_vault", Line: n.Line, Column: n.Column}
		val := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Style: yaml.DoubleQuotedStyle, Value: n.Value, Line: n.Line, Column: n.Column}
		*n = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: n.Line, Column: n.Column, Content: []*yaml.Node{key, val}}
		return
	}
	for _, c := range n.Content {
		ShowInline(c)
	}
}
