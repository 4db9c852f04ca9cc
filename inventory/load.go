package inventory

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/kpxdev/kpx/internal/vault"
)

// ignoredExts are the extensions Ansible 2.14 skips inside an inventory directory
// (INVENTORY_IGNORE_EXTS: REJECT_EXTS plus .orig, .ini, .cfg, .retry).
var ignoredExts = []string{".pyc", ".pyo", ".swp", ".bak", "~", ".rpm", ".md", ".txt", ".rst", ".orig", ".ini", ".cfg", ".retry"}

// Load reads the inventory sources (files, directories or comma lists such as "h1,h2,")
// in order, as `ansible-inventory -i SRC...` does. Vault-encrypted content is an error;
// LoadWith can decrypt it.
func Load(sources []string) (*Inventory, error) {
	return LoadWith(sources, LoadOptions{})
}

// LoadOptions configure LoadWith.
type LoadOptions struct {
	// Vault decrypts inventory and group_vars/host_vars files encrypted whole and inline
	// !vault values, and records what it decrypts as secrets. nil has no password.
	Vault *vault.Vault
	// KeepInlineVault leaves inline !vault values encrypted, as ansible-inventory shows
	// them: {"__ansible_vault": text}. Files encrypted whole are still decrypted.
	KeepInlineVault bool
}

// LoadWith is Load with options.
func LoadWith(sources []string, opts LoadOptions) (*Inventory, error) {
	inv := newInventory()
	inv.vault, inv.keepInline = opts.Vault, opts.KeepInlineVault
	inv.files = newVarsFiles()
	inv.files.vault, inv.files.keepInline = opts.Vault, opts.KeepInlineVault
	for _, src := range sources {
		if err := inv.loadSource(src); err != nil {
			return nil, err
		}
	}
	inv.reconcile()
	return inv, nil
}

func (inv *Inventory) loadSource(src string) error {
	st, err := os.Stat(src)
	if err != nil {
		if strings.Contains(src, ",") {
			inv.loadHostList(src)
			return nil
		}
		return &ParseError{File: src, Msg: "inventory source not found", Err: err}
	}
	inv.sources = append(inv.sources, src)
	if st.IsDir() {
		return inv.loadDir(src)
	}
	return inv.loadFile(src)
}

// loadHostList reads a comma list of hosts ("h1,h2,", host:port allowed) into ungrouped.
func (inv *Inventory) loadHostList(src string) {
	for _, h := range strings.Split(src, ",") {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		name, port := h, (*int)(nil)
		if names, p, err := expandHostPattern(h); err == nil && len(names) == 1 {
			name, port = names[0], p
		}
		inv.addHost(name, inv.groups["ungrouped"], port)
	}
}

func (inv *Inventory) loadDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return &ParseError{File: dir, Msg: err.Error(), Err: err}
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	for _, name := range names {
		if skipInDir(name) {
			continue
		}
		if err := inv.loadSource(filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	return nil
}

// skipInDir reports whether a directory entry is not an inventory source for Ansible:
// hidden files, ignored extensions, and the group_vars/host_vars directories.
func skipInDir(name string) bool {
	if strings.HasPrefix(name, ".") || name == "group_vars" || name == "host_vars" {
		return true
	}
	for _, ext := range ignoredExts {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}

func (inv *Inventory) loadFile(file string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return &ParseError{File: file, Msg: err.Error(), Err: err}
	}
	data, encrypted, err := inv.vault.DecryptFile(file, data)
	if err != nil {
		return err
	}
	if encrypted {
		inv.noteSecrets(data)
	}
	switch strings.ToLower(filepath.Ext(file)) {
	case ".yml", ".yaml", ".json":
		return parseYAML(inv, file, data)
	case "":
		yerr := parseYAML(inv, file, data)
		if yerr == nil || !errors.Is(yerr, errNotYAMLInventory) {
			return yerr
		}
		return parseINI(inv, file, data)
	default:
		return parseINI(inv, file, data)
	}
}

// String describes the inventory's size, for messages.
func (inv *Inventory) String() string {
	return fmt.Sprintf("%d hosts, %d groups", len(inv.Hosts), len(inv.Groups))
}
