package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kpxdev/kpx/adhoc"
	"github.com/kpxdev/kpx/internal/ansiblecfg"
	"github.com/kpxdev/kpx/inventory"
	"github.com/kpxdev/kpx/modules"
	"github.com/kpxdev/kpx/report"
	"github.com/kpxdev/kpx/rollout"
	"github.com/kpxdev/kpx/transport"
)

// execOptions are the flags of `kpx exec`, named as Ansible's ad-hoc command names them.
type execOptions struct {
	pattern       string
	command       string
	sources       []string
	limit         string
	forks         int
	user          string
	privateKey    string
	become        bool
	becomeUser    string
	becomeMethod  string
	askPass       bool
	askBecomePass bool
	timeout       int // connection timeout, seconds (ansible -T)
	taskTimeout   int // per host, seconds (ansible --task-timeout)
	oneLine       bool
	listHosts     bool
	ui            string
	// cfg is Ansible's configuration in effect (ansible.cfg, ANSIBLE_*); nil for none.
	cfg *ansiblecfg.Config
	// vault decrypts a vaulted inventory (group_vars, host_vars, inline !vault values).
	vault vaultFlags
}

func newExecCmd() *cobra.Command {
	var o execOptions
	var args string
	cmd := &cobra.Command{
		Use:   "exec PATTERN -i INVENTORY [flags] -- COMMAND [ARG...]",
		Short: "Run a shell command on the hosts matching a pattern, as `ansible PATTERN -m raw -a CMD` does",
		Long: `Run one command through each host's login shell (Ansible's raw module: nothing but
POSIX sh is needed on the hosts), --forks hosts at a time, and print each host's result
as it finishes, as Ansible's ad-hoc command does:

  host1 | CHANGED | rc=0 >>      the command ran and exited 0, then its output
  host2 | FAILED | rc=3 >>       it exited nonzero
  host3 | UNREACHABLE! => {...}  no connection

The words after -- are joined with spaces into the command line, as ssh does; -a gives
it as one string instead. Exit status: 0 every host succeeded, 2 a command failed,
4 a host was unreachable (which wins over 2), 1 a usage or inventory error, 99 interrupted.`,
		Args: func(cmd *cobra.Command, pos []string) error {
			return execArgs(cmd.ArgsLenAtDash(), pos, args, &o)
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadAnsibleConfig(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			o.cfg = cfg
			cfgTargets{sources: &o.sources, forks: &o.forks, user: &o.user, privateKey: &o.privateKey, timeout: &o.timeout,
				become: &o.become, becomeMethod: &o.becomeMethod, becomeUser: &o.becomeUser,
				askPass: &o.askPass, askBecomePass: &o.askBecomePass}.apply(cfg, cmd.Flags())
			return runExec(cmd.Context(), o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&o.sources, "inventory", "i", nil, "inventory source: file, directory or comma list (repeatable)")
	f.StringVarP(&o.limit, "limit", "l", "", "further limit the selected hosts (pattern grammar, @file allowed)")
	f.IntVarP(&o.forks, "forks", "f", 5, "hosts that run the command at once (Ansible's default is 5)")
	f.StringVarP(&args, "args", "a", "", "the command line, as one string (instead of the words after --)")
	f.StringVarP(&o.user, "user", "u", "", "login user for hosts whose variables name none")
	f.StringVar(&o.privateKey, "private-key", "", "private key file for hosts whose variables name none")
	f.BoolVarP(&o.become, "become", "b", false, "run the command with privilege escalation (sudo)")
	f.StringVar(&o.becomeUser, "become-user", "", "user to become (default root)")
	f.StringVar(&o.becomeMethod, "become-method", "sudo", "sudo or su")
	f.BoolVarP(&o.askPass, "ask-pass", "k", false, "ask for the SSH login password")
	f.BoolVarP(&o.askBecomePass, "ask-become-pass", "K", false, "ask for the become password")
	f.IntVarP(&o.timeout, "timeout", "T", 0, "connection timeout in seconds for hosts whose variables set none (default 10)")
	f.IntVar(&o.taskTimeout, "task-timeout", 0, "seconds a host may take to run the command before it is stopped and failed (0: no limit)")
	f.BoolVarP(&o.oneLine, "one-line", "o", false, "one line per host (Ansible's -o)")
	f.BoolVar(&o.listHosts, "list-hosts", false, "list the matching hosts; run nothing")
	f.StringVar(&o.ui, "ui", "plain", "output: plain (Ansible's ad-hoc output) or json (one host_result event per line, as kpx run --ui json)")
	addVaultFlags(f, &o.vault)
	return cmd
}

// execArgs splits the positional arguments: the pattern comes before --, the command
// after it (or in -a, but not both).
func execArgs(dash int, pos []string, argFlag string, o *execOptions) error {
	before, after := pos, []string(nil)
	if dash >= 0 {
		before, after = pos[:dash], pos[dash:]
	}
	switch {
	case len(before) == 0:
		return errors.New("exec: give a host pattern (for example: kpx exec all -i hosts -- uptime)")
	case len(before) > 1:
		return fmt.Errorf("exec: one host pattern expected before --, got %q; put the command after --", before)
	case len(after) > 0 && argFlag != "":
		return errors.New("exec: give the command either after -- or with -a, not both")
	}
	o.pattern = before[0]
	o.command = argFlag
	if len(after) > 0 {
		o.command = strings.Join(after, " ")
	}
	return nil
}

func (o execOptions) validate() error {
	switch {
	case len(o.sources) == 0:
		return errors.New("exec: give an inventory with -i")
	case o.forks < 1:
		return fmt.Errorf("exec: --forks must be at least 1, got %d", o.forks)
	case o.timeout < 0:
		return fmt.Errorf("exec: --timeout must be a number of seconds, got %d", o.timeout)
	case o.taskTimeout < 0:
		return fmt.Errorf("exec: --task-timeout must be a number of seconds, got %d", o.taskTimeout)
	case o.ui != "plain" && o.ui != "json":
		return fmt.Errorf("exec: --ui %q: want plain or json", o.ui)
	case o.becomeMethod != "sudo" && o.becomeMethod != "su":
		return fmt.Errorf("exec: --become-method %q: want sudo or su", o.becomeMethod)
	case !o.listHosts && strings.TrimSpace(o.command) == "":
		return errors.New("exec: give the command after -- (for example: kpx exec all -i hosts -- uptime)")
	}
	return nil
}

func runExec(ctx context.Context, o execOptions, stdout, stderr io.Writer) (err error) {
	if err := o.validate(); err != nil {
		return err
	}
	vlt, err := o.vault.open(ctx, o.cfg, stderr)
	if err != nil {
		return err
	}
	// What the vault decrypts is masked in everything the command prints.
	defer func() { err = maskError(err, vlt) }()
	stdout, stderr = maskWriter{w: stdout, v: vlt}, maskWriter{w: stderr, v: vlt}
	inv, err := inventory.LoadWith(o.sources, inventory.LoadOptions{Vault: vlt})
	if err != nil {
		return err
	}
	warn := func(msg string) { fmt.Fprintf(stderr, "[WARNING]: %s\n", msg) }
	for _, w := range inv.Warnings {
		warn(w)
	}
	hosts, warnings, err := inv.MatchLimit(o.pattern, o.limit)
	if err != nil {
		return err
	}
	for _, w := range warnings {
		warn(w)
	}
	names := make([]string, len(hosts))
	for i, h := range hosts {
		names[i] = h.Name
	}
	if o.listHosts {
		fmt.Fprintf(stdout, "  hosts (%d):\n", len(names))
		for _, h := range names {
			fmt.Fprintf(stdout, "    %s\n", h)
		}
		return nil
	}
	if len(names) == 0 {
		warn("No hosts matched, nothing to do")
		return nil
	}
	loginPass, becomePass, err := askPasswords(runOptions{askPass: o.askPass, askBecomePass: o.askBecomePass}, stderr)
	if err != nil {
		return err
	}
	pool := transport.NewPool(transport.PoolOptions{MaxDials: o.forks,
		Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	defer pool.Close()
	hv := connectOptions(o.user, o.privateKey, o.timeout)
	configSSH(o.cfg, "", 0, &hv)
	opts := adhoc.Options{
		Hosts: names,
		Vars:  inv.HostVars,
		Connector: &rollout.PoolConnector{Pool: pool, Options: hv, Password: loginPass,
			Warn: func(h, m string) { warn(h + ": " + m) }},
		Forks:       o.forks,
		Action:      "raw",
		Module:      modules.Raw,
		Args:        map[string]any{"_raw_params": o.command},
		TaskTimeout: time.Duration(o.taskTimeout) * time.Second,
	}
	if o.become || o.becomeUser != "" || o.askBecomePass {
		opts.Become = &transport.Become{Method: o.becomeMethod, User: o.becomeUser, Password: becomePass}
		if opts.Become.User == "" && o.cfg != nil {
			opts.Become.User = o.cfg.BecomeUser
		}
	}
	var emit func(rollout.HostResult)
	var presentErr func() error
	if o.ui == "json" {
		j := report.NewJSON(stdout)
		emit, presentErr = func(r rollout.HostResult) { j.Handle(r) }, j.Err
	} else {
		p := report.NewAdHoc(stdout, o.oneLine)
		emit, presentErr = p.Handle, p.Err
	}
	sum := adhoc.Run(ctx, opts, emit)
	return execExit(ctx, sum, presentErr())
}

// execExit maps an ad-hoc run's outcome to the exit code Ansible's ad-hoc command gives:
// unreachable hosts (4) win over failed ones (2).
func execExit(ctx context.Context, sum adhoc.Summary, presentErr error) error {
	switch {
	case ctx.Err() != nil:
		return exitError{code: ExitInterrupted, msg: fmt.Sprintf("interrupted; %d host(s) were not started", sum.NotRun)}
	case presentErr != nil:
		return presentErr
	case sum.Unreachable > 0:
		return exitError{code: ExitUnreachable}
	case sum.Failed > 0:
		return exitError{code: ExitHostFailed}
	}
	return nil
}

// connectOptions are the connection settings the command line gives for hosts whose
// variables give none: -u, --private-key and the connection timeout.
func connectOptions(user, privateKey string, timeout int) transport.HostVarsOptions {
	hv := transport.DefaultHostVarsOptions()
	if user != "" {
		hv.LocalUser = user
	}
	if privateKey != "" {
		hv.SSHArgs = append(hv.SSHArgs, "-i "+transport.Quote(privateKey))
	}
	if timeout > 0 {
		hv.SSHArgs = append(hv.SSHArgs, fmt.Sprintf("-o ConnectTimeout=%d", timeout))
	}
	return hv
}
