package vault

import (
	"cmp"
	"encoding/base64"
	"slices"
	"strings"
	"sync"
)

// Mask is what stands in output for a decrypted secret, as Ansible masks no_log values.
const Mask = "********"

// minSubstring is the shortest secret masked wherever it appears inside a string: a
// shorter one ("1", "yes") is masked only where a whole value equals it, or every
// occurrence of a common letter pair would be.
const minSubstring = 4

// secretSet is the decrypted strings seen so far, and the replacer built from them.
type secretSet struct {
	mu       sync.RWMutex
	values   map[string]bool
	replacer *strings.Replacer // nil when stale or empty
}

// AddSecret records s (a decrypted value) as a secret: Mask hides it from then on.
func (v *Vault) AddSecret(values ...string) {
	if v == nil {
		return
	}
	s := &v.secrets
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, val := range values {
		if strings.TrimSpace(val) == "" || s.values[val] {
			continue
		}
		if s.values == nil {
			s.values = map[string]bool{}
		}
		s.values[val] = true
		// A value read from a file often comes back with its final newline trimmed
		// (command output, lookups), or cut into lines (stdout_lines): mask those too.
		t := strings.TrimRight(val, "\r\n")
		if t != val && t != "" {
			s.values[t] = true
		}
		// The one derived form common enough to mask: `| b64encode` (Kubernetes secrets,
		// basic-auth headers), of the value and of it without its final newline. Others
		// (`| upper`, `| hash`, a secret inside a larger encoded string) are not masked;
		// docs/ANSIBLE-DIFFERENCES.md says so. Short secrets get none: their encodings
		// would be masked inside any text.
		for _, form := range []string{val, t} {
			if len(form) >= minSubstring {
				s.values[base64.StdEncoding.EncodeToString([]byte(form))] = true
			}
		}
		if strings.Contains(val, "\n") {
			for _, l := range strings.Split(val, "\n") {
				if l = strings.TrimRight(l, "\r"); strings.TrimSpace(l) != "" {
					s.values[l] = true
				}
			}
		}
		s.replacer = nil
	}
}

// AddSecretsIn records every string inside a decoded value (maps, lists) as a secret;
// mapping keys are names, not secrets.
func (v *Vault) AddSecretsIn(val any) {
	switch val := val.(type) {
	case string:
		v.AddSecret(val)
	case map[string]any:
		for _, e := range val {
			v.AddSecretsIn(e)
		}
	case []any:
		for _, e := range val {
			v.AddSecretsIn(e)
		}
	}
}

// HasSecrets reports whether any secret has been recorded.
func (v *Vault) HasSecrets() bool {
	if v == nil {
		return false
	}
	v.secrets.mu.RLock()
	defer v.secrets.mu.RUnlock()
	return len(v.secrets.values) > 0
}

// Mask returns s with every recorded secret in it replaced by Mask.
func (v *Vault) Mask(s string) string {
	if v == nil || s == "" {
		return s
	}
	set := &v.secrets
	set.mu.RLock()
	n, r, whole := len(set.values), set.replacer, set.values[s]
	set.mu.RUnlock()
	if n == 0 {
		return s
	}
	if whole {
		return Mask
	}
	if r == nil {
		r = set.build()
	}
	return r.Replace(s)
}

// build makes the replacer: longer secrets first, so a secret that contains another is
// masked whole.
func (s *secretSet) build() *strings.Replacer {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.replacer != nil {
		return s.replacer
	}
	var long []string
	for val := range s.values {
		if len(val) >= minSubstring {
			long = append(long, val)
		}
	}
	slices.SortFunc(long, func(a, b string) int {
		return cmp.Or(cmp.Compare(len(b), len(a)), strings.Compare(a, b))
	})
	pairs := make([]string, 0, 2*len(long))
	for _, val := range long {
		pairs = append(pairs, val, Mask)
	}
	s.replacer = strings.NewReplacer(pairs...)
	return s.replacer
}
