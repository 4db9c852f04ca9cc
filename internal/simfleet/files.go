package simfleet

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/crypto/ssh"
)

// clientSigner loads the client key at path, or generates one in the fleet's directory
// when path is empty.
func (f *Fleet) clientSigner(path string) (ssh.Signer, error) {
	if path == "" {
		var err error
		if path, err = GenerateClientKey(f.Dir); err != nil {
			return nil, err
		}
	}
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("simfleet: client key: %w", err)
	}
	signer, err := ssh.ParsePrivateKey(pem)
	if err != nil {
		return nil, fmt.Errorf("simfleet: client key %s: %w", path, err)
	}
	f.ClientKey = path
	return signer, nil
}

// GenerateClientKey writes a new ed25519 client key pair, dir/id_ed25519 and
// dir/id_ed25519.pub, and returns the private key's path.
func GenerateClientKey(dir string) (string, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", err
	}
	block, err := ssh.MarshalPrivateKey(priv, "kpx simulated fleet client")
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "id_ed25519")
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		return "", err
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(path+".pub", ssh.MarshalAuthorizedKey(sshPub), 0o644); err != nil {
		return "", err
	}
	return path, nil
}

// writeKnownHosts writes one "[127.0.0.1]:port ssh-ed25519 ..." line per host.
func (f *Fleet) writeKnownHosts() error {
	var b strings.Builder
	for _, h := range f.Hosts {
		fmt.Fprintf(&b, "%s %s", h.KnownHostsName(), ssh.MarshalAuthorizedKey(h.HostKey))
	}
	f.KnownHosts = filepath.Join(f.Dir, "known_hosts")
	return os.WriteFile(f.KnownHosts, []byte(b.String()), 0o600)
}

// writeInventory writes the fleet as an Ansible INI inventory: every group with its hosts
// (a host's connection variables on its first line), children and vars, and the fleet's
// key, user and known_hosts for all hosts.
func (f *Fleet) writeInventory() error {
	var b strings.Builder
	fmt.Fprintf(&b, "# kpx simulated fleet: %d in-process SSH hosts on 127.0.0.1 (internal/simfleet)\n", len(f.Hosts))
	described := map[string]bool{}
	for _, g := range f.Groups {
		fmt.Fprintf(&b, "\n[%s]\n", g.Name)
		for _, name := range g.Hosts {
			if described[name] {
				fmt.Fprintln(&b, name)
				continue
			}
			described[name] = true
			h := f.byName[name]
			fmt.Fprintf(&b, "%s ansible_host=%s ansible_port=%d\n", name, h.Addr, h.Port)
		}
		if len(g.Children) > 0 {
			fmt.Fprintf(&b, "\n[%s:children]\n%s\n", g.Name, strings.Join(g.Children, "\n"))
		}
		if len(g.Vars) > 0 {
			fmt.Fprintf(&b, "\n[%s:vars]\n", g.Name)
			keys := make([]string, 0, len(g.Vars))
			for k := range g.Vars {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				fmt.Fprintf(&b, "%s=%s\n", k, g.Vars[k])
			}
		}
	}
	fmt.Fprintf(&b, "\n[all:vars]\n")
	fmt.Fprintf(&b, "ansible_user=%s\n", f.User)
	fmt.Fprintf(&b, "ansible_ssh_private_key_file=%s\n", f.ClientKey)
	args := fmt.Sprintf("-F none -o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes", f.KnownHosts)
	if f.sshArgs != "" {
		args += " " + f.sshArgs
	}
	fmt.Fprintf(&b, "ansible_ssh_common_args='%s'\n", args)
	f.Inventory = filepath.Join(f.Dir, "inventory.ini")
	return os.WriteFile(f.Inventory, []byte(b.String()), 0o600)
}
