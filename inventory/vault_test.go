package inventory

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kpxdev/kpx/internal/vault"
)

// The files under testdata/vault were encrypted by ansible-vault (ansible-core 2.14) with
// testdata/vault/password.txt (vault id default) and password-prod.txt (vault id prod).
var vaultDir = filepath.Join("testdata", "vault")

func openTestVault(t *testing.T, files ...string) *vault.Vault {
	t.Helper()
	src := vault.Sources{}
	for _, f := range files {
		src.IDs = append(src.IDs, f)
	}
	v, err := src.Open(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestLoadVaultedInventory(t *testing.T) {
	v := openTestVault(t, filepath.Join(vaultDir, "password.txt"), "prod@"+filepath.Join(vaultDir, "password-prod.txt"))
	inv, err := LoadWith([]string{filepath.Join(vaultDir, "yaml", "hosts.yml"), filepath.Join(vaultDir, "ini", "hosts")}, LoadOptions{Vault: v})
	if err != nil {
		t.Fatal(err)
	}
	if err := inv.ReadVarsFiles(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		host, name string
		want       any
	}{
		{"web1", "ansible_become_password", "yaml-inline-become-pw"}, // inline, in the inventory
		{"web1", "db_password", "group-all-whole-file-secret"},       // group_vars/all.yml, whole file
		{"web1", "shared_port", 5432},
		{"web1", "web_token", "web-inline-token-12"}, // group_vars/web.yml, inline 1.2
		{"web1", "web_plain", "visible"},
		{"web2", "host_key", "web2-host-vars-secret"},   // host_vars/web2.yml, whole file 1.2
		{"db1", "db_admin_pw", "ini-whole-file-secret"}, // INI inventory encrypted whole
		{"db1", "replica_key", "ini-group-var-secret"},
		{"db1", "ansible_host", "127.0.0.1"},
	}
	for _, tt := range tests {
		if got := inv.HostVars(tt.host)[tt.name]; got != tt.want {
			t.Errorf("%s %s = %#v, want %#v", tt.host, tt.name, got, tt.want)
		}
	}
	for _, secret := range []string{"yaml-inline-become-pw", "group-all-whole-file-secret", "web-inline-token-12",
		"web2-host-vars-secret", "ini-whole-file-secret", "ini-group-var-secret"} {
		if m := v.Mask("x " + secret + " y"); m != "x "+vault.Mask+" y" {
			t.Errorf("%s is not masked: %q", secret, m)
		}
	}
	if m := v.Mask("visible web1 db"); m != "visible web1 db" {
		t.Errorf("names and plain values are not secrets: %q", m)
	}
}

func TestLoadVaultedInventoryErrors(t *testing.T) {
	yml := filepath.Join(vaultDir, "yaml", "hosts.yml")
	ini := filepath.Join(vaultDir, "ini", "hosts")
	wrong := vault.New(vault.Password{Label: "default", Secret: []byte("wrong")})
	tests := []struct {
		name    string
		src     string
		v       *vault.Vault
		vars    bool // the error comes from group_vars/host_vars
		want    string
		wantErr error
	}{
		{"inline, no password", yml, nil, false, yml + ":6:36: vault: encrypted with Ansible Vault, and no vault password was given: use --vault-password-file", vault.ErrNoPassword},
		{"inline, wrong password", yml, wrong, false, yml + ":6:36: vault: decryption failed: HMAC-SHA256 of the ciphertext does not match", vault.ErrHMAC},
		{"whole file, no password", ini, nil, false, ini + ": vault: encrypted with Ansible Vault, and no vault password was given", vault.ErrNoPassword},
		{"whole file, wrong password", ini, wrong, false, ini + `: vault: decryption failed: HMAC-SHA256 of the ciphertext does not match with the password of vault id "default"`, vault.ErrHMAC},
		{"group_vars, wrong password", yml, vault.New(vault.Password{Label: "default", Secret: []byte("correct horse battery staple")}), true,
			filepath.Join(vaultDir, "yaml", "group_vars", "web.yml") + `:1:12: vault: decryption failed (encrypted with vault id "prod")`, vault.ErrHMAC},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := LoadWith([]string{tt.src}, LoadOptions{Vault: tt.v})
			if tt.vars {
				if err != nil {
					t.Fatal(err)
				}
				err = inv.ReadVarsFiles()
			}
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) || !errors.Is(err, tt.wantErr) {
				t.Errorf("error %v\nwant it to start with %q", err, tt.want)
			}
		})
	}
}
