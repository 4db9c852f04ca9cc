package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/kpxdev/kpx/internal/ansiblecfg"
	"github.com/kpxdev/kpx/playbooks"
	"github.com/kpxdev/kpx/rollout"
)

// runOptions are the flags of `kpx run`, named as ansible-playbook names them.
type runOptions struct {
	playbook      string
	sources       []string
	limit         string
	extraVars     []string
	forks         int
	check         bool
	diff          bool
	modulePath    []string
	tags          []string
	skipTags      []string
	verbose       int
	syntaxCheck   bool
	user          string
	privateKey    string
	become        bool
	becomeUser    string
	becomeMethod  string
	askPass       bool
	askBecomePass bool
	startAtTask   string
	list          listOptions
	stateDir      string
	journal       journalOptions
	onInterrupt   string
	ui            string
	// extraVarsParsed are variables from the journal of a resumed run, under -e.
	extraVarsParsed map[string]any
	// cfg is Ansible's configuration in effect (ansible.cfg, ANSIBLE_*); nil for none.
	cfg *ansiblecfg.Config
	// vault is where vault passwords come from (--vault-id, --vault-password-file,
	// --ask-vault-pass; cfg adds vault_password_file and vault_identity_list).
	vault vaultFlags
}

func (o runOptions) validateInterrupt() error {
	switch o.onInterrupt {
	case "", rollout.OnInterruptRollback, rollout.OnInterruptStop:
		return nil
	}
	return fmt.Errorf("--on-interrupt %q: give rollback or stop", o.onInterrupt)
}

func newRunCmd() *cobra.Command {
	var o runOptions
	cmd := &cobra.Command{
		Use:   "run PLAYBOOK -i INVENTORY [flags]",
		Short: "Run a playbook against an inventory, as ansible-playbook does",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.playbook = args[0]
			if err := applyAnsibleConfig(&o, cmd.Flags(), cmd.ErrOrStderr()); err != nil {
				return err
			}
			return runPlaybook(cmd.Context(), o, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&o.sources, "inventory", "i", nil, "inventory source: file, directory or comma list (repeatable)")
	f.StringVarP(&o.limit, "limit", "l", "", "further limit the hosts (pattern grammar, @file allowed)")
	f.StringArrayVarP(&o.extraVars, "extra-vars", "e", nil, "variables: key=value, YAML/JSON, or @file (repeatable; later wins)")
	f.IntVarP(&o.forks, "forks", "f", 5, "hosts that run a task at once (Ansible's default is 5; large fleets want more)")
	f.BoolVarP(&o.check, "check", "C", false, "report what would change, change nothing")
	f.BoolVarP(&o.diff, "diff", "D", false, "show the changes files and templates get (Ansible's before/after diff)")
	f.StringArrayVarP(&o.modulePath, "module-path", "M", nil, "directories of custom modules, colon-separated (also ANSIBLE_LIBRARY); library/ beside the playbook comes first")
	f.StringSliceVarP(&o.tags, "tags", "t", nil, "run only tasks with these tags")
	f.StringSliceVar(&o.skipTags, "skip-tags", nil, "skip tasks with these tags")
	f.CountVarP(&o.verbose, "verbose", "v", "show task results (-v), more with -vvv")
	f.BoolVar(&o.syntaxCheck, "syntax-check", false, "validate the playbook and stop; no host is contacted")
	f.StringVarP(&o.user, "user", "u", "", "login user for hosts whose variables name none")
	f.StringVar(&o.privateKey, "private-key", "", "private key file for every host")
	f.BoolVarP(&o.become, "become", "b", false, "run tasks with privilege escalation (sudo) unless they say otherwise")
	f.StringVar(&o.becomeUser, "become-user", "", "user to become (default root)")
	f.StringVar(&o.becomeMethod, "become-method", "sudo", "sudo or su")
	f.BoolVarP(&o.askPass, "ask-pass", "k", false, "ask for the SSH login password")
	f.BoolVarP(&o.askBecomePass, "ask-become-pass", "K", false, "ask for the become password")
	addRunExtraFlags(f, &o)
	addJournalFlags(f, &o)
	addUIFlag(f, &o)
	addVaultFlags(f, &o.vault)
	return cmd
}

// addJournalFlags adds the flags of the commands that run and journal: where the journal
// goes, and what the first interrupt does.
func addJournalFlags(f *pflag.FlagSet, o *runOptions) {
	f.StringVar(&o.stateDir, "state-dir", os.Getenv("KPX_STATE_DIR"), "where run journals are kept (RUNS under it; default $XDG_STATE_HOME/kpx, ~/.local/state/kpx)")
	f.StringVar(&o.onInterrupt, "on-interrupt", rollout.OnInterruptRollback, "what the first SIGINT/SIGTERM does once tasks in flight finish: rollback (the current wave) or stop")
	addJournalBackendFlags(f, &o.journal)
}

func runPlaybook(ctx context.Context, o runOptions, stdin io.Reader, stdout, stderr io.Writer) (err error) {
	// Vault passwords are asked for first, before a TUI takes the terminal. What they
	// decrypt is masked in every output: events (runner's Mask), stderr, the final error.
	vlt, err := openVault(ctx, &o, stderr)
	if err != nil {
		return err
	}
	defer func() { err = maskError(err, vlt) }()
	stderr = maskWriter{w: stderr, v: vlt}
	ui, err := newOutput(o, stdin, stdout, stderr)
	if err != nil {
		return err
	}
	stderr = ui.stderr // held while the TUI owns the terminal
	if o.syntaxCheck {
		catalog, err := moduleCatalog(o)
		if err != nil {
			return err
		}
		if _, err := playbooks.Load(o.playbook, withRoles(playbooks.LoadOptions{Modules: catalog, Vault: vlt}, o, &catalog)); err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "\nplaybook: %s\n", o.playbook)
		return err
	}
	if o.list.any() {
		return listRun(o, stdout, stderr)
	}
	if err := o.validateInterrupt(); err != nil {
		return err
	}
	eng, err := setupEngine(o, stderr)
	if err != nil {
		return err
	}
	defer eng.close()
	var notFound func()
	eng.pb, notFound = startAt(o, eng.pb, stderr)
	defer notFound()
	watch := newJournalWatch(stderr)
	backend, err := openJournalBackend(o, watch)
	if err != nil {
		return err
	}
	defer backend.Close()
	id := rollout.NewRunID(time.Now())
	j, err := backend.Create(id)
	if err != nil {
		return err
	}
	defer j.Close()
	fmt.Fprintf(stderr, "kpx: run %s (journal %s)\n", id, backend.Where(id))
	fin, interrupted, err, presentErr := ui.run(ctx, func(emit func(rollout.Event)) *rollout.Runner {
		runner := rollout.NewRunner(eng.exe, eng.inv.resolve, rollout.Options{Forks: o.forks, Emit: emit, Tags: o.tags, SkipTags: o.skipTags,
			Journal: j, Start: runStart(id, "run", o, eng), OnInterrupt: o.onInterrupt, Mask: eng.mask(), Gathering: configGathering(o)})
		watch.setRunner(runner)
		return runner
	}, func(ctx context.Context, runner *rollout.Runner) (rollout.RunFinished, bool, error) {
		return runWithSignals(ctx, runner, stderr, watch.guard(func(ctx context.Context) (rollout.RunFinished, error) {
			return runner.Run(ctx, eng.pb)
		}))
	})
	if cerr := j.Close(); cerr != nil && err == nil {
		err = cerr
	}
	return journalExit(runExit(fin, interrupted, err, presentErr), j, stderr)
}

// runExit maps how a run ended to the command's error and exit code.
func runExit(fin rollout.RunFinished, interrupted bool, err, presentErr error) error {
	switch {
	case interrupted:
		return exitError{code: ExitInterrupted, msg: "interrupted; the run stopped before its end (kpx resume continues it, kpx rollback undoes it)"}
	case err != nil:
		return err
	case presentErr != nil:
		return presentErr
	}
	if code := fin.ExitCode(); code != 0 {
		return exitError{code: code}
	}
	return nil
}

// askPasswords prompts on the terminal, without echo, for what -k and -K ask for.
// Passwords never come from the command line.
func askPasswords(o runOptions, prompt io.Writer) (login, become string, err error) {
	if !o.askPass && !o.askBecomePass {
		return "", "", nil
	}
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return "", "", errors.New("run: -k and -K read passwords from a terminal, and standard input is not one")
	}
	read := func(label string) (string, error) {
		fmt.Fprint(prompt, label)
		b, err := term.ReadPassword(fd)
		fmt.Fprintln(prompt)
		return string(b), err
	}
	if o.askPass {
		if login, err = read("SSH password: "); err != nil {
			return "", "", err
		}
	}
	if o.askBecomePass {
		label := "BECOME password: "
		if o.askPass {
			label = "BECOME password[defaults to SSH password]: "
		}
		if become, err = read(label); err != nil {
			return "", "", err
		}
		if become == "" {
			become = login
		}
	}
	return login, become, nil
}
