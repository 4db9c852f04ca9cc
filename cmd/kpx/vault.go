package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/kpxdev/kpx/internal/ansiblecfg"
	"github.com/kpxdev/kpx/internal/vault"
)

// vaultFlags are ansible-playbook's Vault flags: where vault passwords come from.
type vaultFlags struct {
	ids           []string
	passwordFiles []string
	ask           bool
	// opened is the Vault once its passwords are read (they are read once per command).
	opened *vault.Vault
}

func addVaultFlags(f *pflag.FlagSet, v *vaultFlags) {
	f.StringArrayVar(&v.ids, "vault-id", nil, "a vault password as LABEL@SOURCE (or SOURCE), SOURCE being a file, an executable printing the password, or prompt (repeatable)")
	f.StringArrayVar(&v.passwordFiles, "vault-password-file", nil, "vault password file, or an executable printing the password (repeatable)")
	f.BoolVarP(&v.ask, "ask-vault-pass", "J", false, "ask for the vault password")
	f.SetNormalizeFunc(vaultFlagAliases(f.GetNormalizeFunc()))
}

// vaultFlagAliases accepts ansible-playbook's other spellings of the vault flags.
func vaultFlagAliases(next func(*pflag.FlagSet, string) pflag.NormalizedName) func(*pflag.FlagSet, string) pflag.NormalizedName {
	return func(f *pflag.FlagSet, name string) pflag.NormalizedName {
		switch name {
		case "vault-pass-file":
			name = "vault-password-file"
		case "ask-vault-password":
			name = "ask-vault-pass"
		}
		return next(f, name)
	}
}

// openVault reads the vault passwords o names (flags first, then ansible.cfg's
// vault_identity_list before them and vault_password_file after them, as Ansible orders
// them), once. With no source it returns nil: encrypted content is then an error that
// says which flag to use.
func openVault(ctx context.Context, o *runOptions, prompt io.Writer) (*vault.Vault, error) {
	return o.vault.open(ctx, o.cfg, prompt)
}

func (f *vaultFlags) open(ctx context.Context, cfg *ansiblecfg.Config, prompt io.Writer) (*vault.Vault, error) {
	if f.opened != nil {
		return f.opened, nil
	}
	if ctx == nil {
		ctx = context.Background()
	}
	src := vault.Sources{IDs: f.ids, PasswordFiles: f.passwordFiles, Ask: f.ask}
	if cfg != nil {
		src.IDs = append(slices.Clone(cfg.VaultIdentityList), src.IDs...)
		src.ConfigFile = cfg.VaultPasswordFile
	}
	v, err := src.Open(ctx, terminalPrompt(prompt))
	if err != nil {
		return nil, err
	}
	f.opened = v
	return v, nil
}

// terminalPrompt asks on the terminal, without echo, as ansible-playbook words it.
func terminalPrompt(prompt io.Writer) vault.Prompter {
	return func(label string) ([]byte, error) {
		fd := int(os.Stdin.Fd())
		if !term.IsTerminal(fd) {
			return nil, errors.New("--ask-vault-pass and --vault-id LABEL@prompt read the password from a terminal, and standard input is not one")
		}
		if label == vault.DefaultLabel {
			fmt.Fprint(prompt, "Vault password: ")
		} else {
			fmt.Fprintf(prompt, "Vault password (%s): ", label)
		}
		b, err := term.ReadPassword(fd)
		fmt.Fprintln(prompt)
		return b, err
	}
}

// maskWriter hides the secrets a Vault decrypted from what is written through it; each
// Write is masked whole (messages are written a line at a time).
type maskWriter struct {
	w io.Writer
	v *vault.Vault
}

func (m maskWriter) Write(p []byte) (int, error) {
	if !m.v.HasSecrets() {
		return m.w.Write(p)
	}
	if _, err := io.WriteString(m.w, m.v.Mask(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// maskedError is an error whose message has its secrets masked; errors.As still finds
// what it wraps (exit codes).
type maskedError struct {
	err error
	msg string
}

func (e maskedError) Error() string { return e.msg }
func (e maskedError) Unwrap() error { return e.err }

// maskError hides v's secrets in err's message.
func maskError(err error, v *vault.Vault) error {
	if err == nil || !v.HasSecrets() {
		return err
	}
	if msg := v.Mask(err.Error()); msg != err.Error() {
		return maskedError{err: err, msg: msg}
	}
	return err
}

// holdsSecret reports whether any string in val is or contains a secret v decrypted.
func holdsSecret(val any, v *vault.Vault) bool {
	switch val := val.(type) {
	case string:
		return v.Mask(val) != val
	case map[string]any:
		for _, e := range val {
			if holdsSecret(e, v) {
				return true
			}
		}
	case []any:
		for _, e := range val {
			if holdsSecret(e, v) {
				return true
			}
		}
	}
	return false
}
