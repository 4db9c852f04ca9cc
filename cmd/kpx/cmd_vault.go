package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kpxdev/kpx/internal/ansiblecfg"
	"github.com/kpxdev/kpx/internal/vault"
)

// vaultCmdOptions are the flags of `kpx vault`, named as ansible-vault's.
type vaultCmdOptions struct {
	flags     vaultFlags
	output    string // --output: a file, or - for standard output
	encryptID string // --encrypt-vault-id
	name      string // encrypt_string --name
}

func newVaultCmd() *cobra.Command {
	var o vaultCmdOptions
	cmd := &cobra.Command{
		Use:   "vault (view | decrypt | encrypt | encrypt_string) ...",
		Short: "Read and write Ansible Vault files and values, as ansible-vault does",
	}
	addVaultFlags(cmd.PersistentFlags(), &o.flags)
	output := func(c *cobra.Command) {
		c.Flags().StringVar(&o.output, "output", "", "write to this file instead of in place (- for standard output)")
	}
	view := &cobra.Command{
		Use: "view FILE...", Short: "Print decrypted files", Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.rewrite(cmd, args, "-", decryptText)
		},
	}
	decrypt := &cobra.Command{
		Use: "decrypt FILE...", Short: "Decrypt files in place (or to --output)", Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.rewrite(cmd, args, o.output, decryptText)
		},
	}
	encrypt := &cobra.Command{
		Use: "encrypt FILE...", Short: "Encrypt files in place (or to --output)", Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.rewrite(cmd, args, o.output, func(v *vault.Vault, file string, data []byte) ([]byte, error) {
				if vault.IsEncrypted(data) {
					return nil, fmt.Errorf("%s: input is already encrypted", file)
				}
				return v.Encrypt(data, o.encryptID)
			})
		},
	}
	encryptString := &cobra.Command{
		Use: "encrypt_string [STRING...]", Short: "Encrypt strings (or standard input) as inline !vault values",
		RunE: func(cmd *cobra.Command, args []string) error { return o.encryptStrings(cmd, args) },
	}
	output(decrypt)
	output(encrypt)
	for _, c := range []*cobra.Command{encrypt, encryptString} {
		c.Flags().StringVar(&o.encryptID, "encrypt-vault-id", "", "the vault id to encrypt with (default: the first password given)")
	}
	encryptString.Flags().StringVarP(&o.name, "name", "n", "", "print the value as the variable NAME")
	cmd.AddCommand(view, decrypt, encrypt, encryptString)
	return cmd
}

// open reads the passwords: the flags, and ansible.cfg's vault settings.
func (o *vaultCmdOptions) open(cmd *cobra.Command) (*vault.Vault, error) {
	cfg, err := ansiblecfg.Load(ansiblecfg.Env{})
	if err != nil {
		return nil, err
	}
	v, err := o.flags.open(cmd.Context(), cfg, cmd.ErrOrStderr())
	if err == nil && v == nil {
		err = errors.New("vault: give a password with --vault-password-file, --vault-id or --ask-vault-pass")
	}
	return v, err
}

// rewrite applies fn to each file and writes the result to out: "-" is standard output,
// "" the file itself (replaced atomically, its mode kept).
func (o *vaultCmdOptions) rewrite(cmd *cobra.Command, files []string, out string,
	fn func(v *vault.Vault, file string, data []byte) ([]byte, error)) error {
	v, err := o.open(cmd)
	if err != nil {
		return err
	}
	if out != "" && out != "-" && len(files) > 1 {
		return errors.New("vault: --output takes one input file")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		res, err := fn(v, f, data)
		if err != nil {
			return err
		}
		switch out {
		case "-":
			_, err = cmd.OutOrStdout().Write(res)
		case "":
			err = replaceFile(f, res)
		default:
			err = os.WriteFile(out, res, 0o600)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// encryptStrings prints each string (or standard input) as an inline !vault value,
// indented as ansible-vault indents it.
func (o *vaultCmdOptions) encryptStrings(cmd *cobra.Command, args []string) error {
	v, err := o.open(cmd)
	if err != nil {
		return err
	}
	if len(args) == 0 {
		b, err := io.ReadAll(cmd.InOrStdin())
		if err != nil {
			return err
		}
		args = []string{string(b)}
	}
	w := cmd.OutOrStdout()
	for _, s := range args {
		text, err := v.Encrypt([]byte(s), o.encryptID)
		if err != nil {
			return err
		}
		if o.name != "" {
			fmt.Fprintf(w, "%s: ", o.name)
		}
		fmt.Fprintln(w, "!vault |")
		for _, l := range strings.Split(strings.TrimSuffix(string(text), "\n"), "\n") {
			fmt.Fprintf(w, "          %s\n", l)
		}
	}
	return nil
}

// replaceFile writes data to a temporary file beside path and renames it over path,
// keeping path's mode: a crash leaves the old file or the new one, never half of one.
func replaceFile(path string, data []byte) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".kpx-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(st.Mode().Perm()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// decryptText is view's and decrypt's step: the plaintext of a vault file.
func decryptText(v *vault.Vault, file string, data []byte) ([]byte, error) {
	plain, encrypted, err := v.DecryptFile(file, data)
	if err == nil && !encrypted {
		err = fmt.Errorf("%s: input is not vault encrypted data", file)
	}
	return plain, err
}
