package playbooks

import (
	"fmt"
	"maps"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/kpxdev/kpx/internal/vault"
	"github.com/kpxdev/kpx/internal/yaml11"
)

// ParseExtraVars reads -e values as ansible-playbook does, later values winning: "@file"
// loads a YAML or JSON file, a value starting with { or [ is YAML/JSON text, anything else
// is key=value pairs (values stay strings). Each must come to a mapping.
func ParseExtraVars(values []string) (map[string]any, error) {
	return ParseExtraVarsWith(values, nil)
}

// ParseExtraVarsWith is ParseExtraVars decrypting, with vlt, "@file" files encrypted
// whole and inline !vault values; what it decrypts is recorded as a secret.
func ParseExtraVarsWith(values []string, vlt *vault.Vault) (map[string]any, error) {
	out := map[string]any{}
	for _, v := range values {
		m, err := extraVars(v, vlt)
		if err != nil {
			return nil, fmt.Errorf("-e %q: %w", v, err)
		}
		maps.Copy(out, m)
	}
	return out, nil
}

func extraVars(v string, vlt *vault.Vault) (map[string]any, error) {
	var src []byte
	name, encrypted := "-e", false
	switch {
	case strings.HasPrefix(v, "@"):
		data, err := os.ReadFile(v[1:])
		if err != nil {
			return nil, err
		}
		name = v[1:]
		if data, encrypted, err = vlt.DecryptFile(name, data); err != nil {
			return nil, err
		}
		src = data
	case strings.HasPrefix(v, "{") || strings.HasPrefix(v, "["):
		src = []byte(v)
	default:
		kv, err := parseKV(v, false)
		if err != nil {
			return nil, err
		}
		if raw, ok := kv[rawParamsKey]; ok {
			return nil, fmt.Errorf("%q is not key=value", raw)
		}
		return kv, nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, err
	}
	if err := vlt.DecryptNodes(name, &doc); err != nil {
		return nil, err
	}
	val, err := yaml11.Decode(&doc)
	if err != nil {
		return nil, err
	}
	if encrypted {
		vlt.AddSecretsIn(val)
	}
	m, ok := val.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("extra vars must be a mapping, got %s", kindOf(val))
	}
	return m, nil
}

func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "nothing"
	case []any:
		return "a list"
	default:
		return "a scalar"
	}
}
