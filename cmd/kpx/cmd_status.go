package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"

	"github.com/kpxdev/kpx/internal/ansiblecfg"
	"github.com/kpxdev/kpx/inventory"
	"github.com/kpxdev/kpx/rollout"
	"github.com/kpxdev/kpx/transport"
	"github.com/spf13/cobra"
)

// statusOptions are the flags of `kpx status`.
type statusOptions struct {
	sources    []string
	pattern    string
	limit      string
	forks      int
	json       bool
	user       string
	privateKey string
	become     bool
	becomeUser string
	// cfg is Ansible's configuration in effect (ansible.cfg, ANSIBLE_*); nil for none.
	cfg *ansiblecfg.Config
	// vault decrypts a vaulted inventory.
	vault vaultFlags
}

func newStatusCmd() *cobra.Command {
	var o statusOptions
	cmd := &cobra.Command{
		Use:   "status -i INV [PATTERN]",
		Short: "Show the fleet's live patches: kernel, patches with their state, taint",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.pattern = "all"
			if len(args) == 1 {
				o.pattern = args[0]
			}
			cfg, err := loadAnsibleConfig(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			o.cfg = cfg
			cfgTargets{sources: &o.sources, forks: &o.forks, user: &o.user, privateKey: &o.privateKey,
				become: &o.become, becomeUser: &o.becomeUser}.apply(cfg, cmd.Flags())
			return runStatus(cmd.Context(), o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&o.sources, "inventory", "i", nil, "inventory source: file, directory or comma list (repeatable)")
	f.StringVarP(&o.limit, "limit", "l", "", "further limit the selected hosts")
	f.IntVarP(&o.forks, "forks", "f", 20, "hosts read at the same time")
	f.BoolVar(&o.json, "json", false, "print one JSON object per host, one per line")
	f.StringVarP(&o.user, "user", "u", "", "connect as this user")
	f.StringVar(&o.privateKey, "private-key", "", "use this private key file")
	f.BoolVarP(&o.become, "become", "b", false, "read the kernel's state as root (sudo -n)")
	f.StringVar(&o.becomeUser, "become-user", "", "with --become, as this user instead of root")
	addVaultFlags(f, &o.vault)
	return cmd
}

func runStatus(ctx context.Context, o statusOptions, stdout, stderr io.Writer) (err error) {
	if len(o.sources) == 0 {
		return errors.New("status: give an inventory with -i")
	}
	if o.forks < 1 {
		return fmt.Errorf("status: --forks must be at least 1, got %d", o.forks)
	}
	vlt, err := o.vault.open(ctx, o.cfg, stderr)
	if err != nil {
		return err
	}
	defer func() { err = maskError(err, vlt) }()
	stdout, stderr = maskWriter{w: stdout, v: vlt}, maskWriter{w: stderr, v: vlt}
	inv, err := inventory.LoadWith(o.sources, inventory.LoadOptions{Vault: vlt})
	if err != nil {
		return err
	}
	for _, w := range inv.Warnings {
		fmt.Fprintf(stderr, "[WARNING]: %s\n", w)
	}
	hosts, warnings, err := inv.MatchLimit(o.pattern, o.limit)
	if err != nil {
		return err
	}
	for _, w := range warnings {
		fmt.Fprintf(stderr, "[WARNING]: %s\n", w)
	}
	names := make([]string, len(hosts))
	for i, h := range hosts {
		names[i] = h.Name
	}
	pool := transport.NewPool(transport.PoolOptions{MaxDials: o.forks,
		Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	defer pool.Close()
	hv := transport.DefaultHostVarsOptions()
	if o.user != "" {
		hv.LocalUser = o.user
	}
	if o.privateKey != "" {
		hv.SSHArgs = append(hv.SSHArgs, "-i "+transport.Quote(o.privateKey)) // one string: each is parsed as a command line
	}
	var timeout int
	if o.cfg != nil {
		timeout = o.cfg.Timeout
	}
	configSSH(o.cfg, "", timeout, &hv)
	conn := &rollout.PoolConnector{Pool: pool, Options: hv, Warn: func(h, m string) { fmt.Fprintf(stderr, "[WARNING]: %s: %s\n", h, m) }}
	var become *transport.Become
	if o.become || o.becomeUser != "" {
		become = &transport.Become{Method: "sudo", User: o.becomeUser}
		if o.cfg != nil && o.cfg.BecomeMethod != "" {
			become.Method = o.cfg.BecomeMethod
		}
	}
	statuses := rollout.GatherStatus(ctx, conn, names, inv.HostVars, o.forks, become)
	if o.json {
		err = writeStatusJSON(stdout, statuses)
	} else {
		err = writeStatusTable(stdout, statuses)
	}
	if err != nil {
		return err
	}
	if ctx.Err() != nil {
		return exitError{code: ExitInterrupted, msg: "interrupted"}
	}
	for _, s := range statuses {
		if !s.Reachable || s.Error != "" {
			return exitError{code: ExitUnreachable}
		}
	}
	return nil
}

func writeStatusJSON(w io.Writer, statuses []rollout.HostStatus) error {
	enc := json.NewEncoder(w)
	for _, s := range statuses {
		if err := enc.Encode(s); err != nil {
			return err
		}
	}
	return nil
}

// writeStatusTable prints one row per host; a host with several patches gets one row per
// patch, the host's columns given on the first.
func writeStatusTable(w io.Writer, statuses []rollout.HostStatus) error {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tKERNEL\tEFFECTIVE\tPATCH\tENABLED\tTRANSITION\tTAINT\tSTATE")
	for _, s := range statuses {
		state := "ok"
		switch {
		case !s.Reachable:
			state = "unreachable: " + oneLine(s.Error)
		case s.Error != "":
			state = "error: " + oneLine(s.Error)
		case !s.LivepatchSysfs:
			state = "ok (no livepatch sysfs)"
		}
		first := []string{s.Host, dash(s.Kernel), dash(s.EffectiveKernel)}
		tail := []string{dash(s.Taint), state}
		if len(s.Patches) == 0 {
			fmt.Fprintln(tw, strings.Join(append(append(first, "-", "-", "-"), tail...), "\t"))
			continue
		}
		for i, p := range s.Patches {
			cols := first
			if i > 0 {
				cols = []string{"", "", ""}
			}
			row := append(append([]string{}, cols...), p.Name, yesNo(p.Enabled), yesNo(p.Transition))
			if i == 0 {
				row = append(row, tail...)
			} else {
				row = append(row, "", "") // every row has every cell: tabwriter aligns blocks of equal rows
			}
			fmt.Fprintln(tw, strings.Join(row, "\t"))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, line := range strings.SplitAfter(buf.String(), "\n") {
		if _, err := io.WriteString(w, strings.TrimRight(line, " \n")+strings.Repeat("\n", strings.Count(line, "\n"))); err != nil {
			return err
		}
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}
