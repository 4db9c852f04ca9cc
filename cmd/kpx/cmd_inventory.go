package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/kpxdev/kpx/internal/ansiblecfg"
	"github.com/kpxdev/kpx/inventory"
	"github.com/spf13/cobra"
)

// inventoryOptions are the flags of `kpx inventory`.
type inventoryOptions struct {
	sources   []string
	list      bool
	graph     bool
	host      string
	listHosts string
	limit     string
	vault     vaultFlags // for files encrypted whole; inline !vault values are shown encrypted
	// cfg is Ansible's configuration in effect (inventory, vault passwords); nil for none.
	cfg *ansiblecfg.Config
}

func newInventoryCmd() *cobra.Command {
	var o inventoryOptions
	cmd := &cobra.Command{
		Use:   "inventory -i SRC [-i SRC...] (--list | --graph | --host HOST | --list-hosts PATTERN [--limit LIMIT])",
		Short: "Show an Ansible inventory as ansible-inventory does, or the hosts a pattern selects",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadAnsibleConfig(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			o.cfg = cfg
			cfgTargets{sources: &o.sources}.apply(cfg, cmd.Flags())
			return runInventory(cmd.Context(), o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&o.sources, "inventory", "i", nil, "inventory source: file, directory or comma list (repeatable)")
	f.BoolVar(&o.list, "list", false, "print the inventory as ansible-inventory --list does")
	f.BoolVar(&o.graph, "graph", false, "print the group tree as ansible-inventory --graph does")
	f.StringVar(&o.host, "host", "", "print one host's merged variables")
	f.StringVar(&o.listHosts, "list-hosts", "", "print the hosts PATTERN selects, one per line")
	f.StringVarP(&o.limit, "limit", "l", "", "further limit the selected hosts (same grammar, @file allowed)")
	addVaultFlags(f, &o.vault)
	return cmd
}

func (o inventoryOptions) validate() error {
	n := 0
	for _, set := range []bool{o.list, o.graph, o.host != "", o.listHosts != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		return errors.New("inventory: give exactly one of --list, --graph, --host, --list-hosts")
	}
	if len(o.sources) == 0 {
		return errors.New("inventory: give at least one -i SOURCE")
	}
	if o.limit != "" && o.listHosts == "" {
		return errors.New("inventory: --limit goes with --list-hosts")
	}
	return nil
}

func runInventory(ctx context.Context, o inventoryOptions, stdout, stderr io.Writer) error {
	if err := o.validate(); err != nil {
		return err
	}
	// As ansible-inventory: files encrypted whole are decrypted (a password is needed),
	// inline !vault values are printed encrypted.
	vlt, err := o.vault.open(ctx, o.cfg, stderr)
	if err != nil {
		return err
	}
	inv, err := inventory.LoadWith(o.sources, inventory.LoadOptions{Vault: vlt, KeepInlineVault: true})
	if err != nil {
		return err
	}
	for _, w := range inv.Warnings {
		fmt.Fprintf(stderr, "[WARNING]: %s\n", w)
	}
	switch {
	case o.list:
		s, err := inv.ListJSON()
		if err != nil {
			return err
		}
		_, err = io.WriteString(stdout, s)
		return err
	case o.graph:
		_, err := io.WriteString(stdout, inv.Graph())
		return err
	case o.host != "":
		s, ok, err := inv.HostJSON(o.host)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("inventory: you must pass a single valid host to --host parameter: %s not found", o.host)
		}
		_, err = io.WriteString(stdout, s)
		return err
	}
	return listHosts(inv, o, stdout, stderr)
}

func listHosts(inv *inventory.Inventory, o inventoryOptions, stdout, stderr io.Writer) error {
	hosts, warns, err := inv.MatchLimit(o.listHosts, o.limit)
	for _, w := range warns {
		fmt.Fprintf(stderr, "[WARNING]: %s\n", w)
	}
	if err != nil {
		return err
	}
	if len(hosts) == 0 {
		fmt.Fprintln(stderr, "[WARNING]: No hosts matched, nothing to do")
	}
	for _, h := range hosts {
		if _, err := fmt.Fprintln(stdout, h.Name); err != nil {
			return err
		}
	}
	return nil
}
