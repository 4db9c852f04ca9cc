package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/kpxdev/kpx/inventory"
	"github.com/kpxdev/kpx/modules"
	"github.com/kpxdev/kpx/playbooks"
	"github.com/kpxdev/kpx/report"
	"github.com/kpxdev/kpx/rollout"
	"github.com/kpxdev/kpx/transport"
)

// runOptions are the flags of `kpx run`, named as ansible-playbook names them.
type runOptions struct {
	playbook      string
	sources       []string
	limit         string
	extraVars     []string
	forks         int
	check         bool
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
	diff          bool
	startAtTask   string
	list          listOptions
}

func newRunCmd() *cobra.Command {
	var o runOptions
	cmd := &cobra.Command{
		Use:   "run PLAYBOOK -i INVENTORY [flags]",
		Short: "Run a playbook against an inventory, as ansible-playbook does",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.playbook = args[0]
			return runPlaybook(cmd.Context(), o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&o.sources, "inventory", "i", nil, "inventory source: file, directory or comma list (repeatable)")
	f.StringVarP(&o.limit, "limit", "l", "", "further limit the hosts (pattern grammar, @file allowed)")
	f.StringArrayVarP(&o.extraVars, "extra-vars", "e", nil, "variables: key=value, YAML/JSON, or @file (repeatable; later wins)")
	f.IntVarP(&o.forks, "forks", "f", 5, "hosts that run a task at once (Ansible's default is 5; large fleets want more)")
	f.BoolVarP(&o.check, "check", "C", false, "report what would change, change nothing")
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
	return cmd
}

func runPlaybook(ctx context.Context, o runOptions, stdout, stderr io.Writer) error {
	pb, err := playbooks.Load(o.playbook, playbooks.LoadOptions{Modules: modules.Builtin()})
	if err != nil {
		return err
	}
	if o.syntaxCheck {
		_, err := fmt.Fprintf(stdout, "\nplaybook: %s\n", o.playbook)
		return err
	}
	if o.list.any() {
		return listRun(o, pb, stdout, stderr)
	}
	pb, notFound := startAt(o, pb, stderr)
	defer notFound()
	extra, err := playbooks.ParseExtraVars(o.extraVars)
	if err != nil {
		return err
	}
	if len(o.sources) == 0 {
		return errors.New("run: give an inventory with -i")
	}
	inv, err := inventory.Load(o.sources)
	if err != nil {
		return err
	}
	for _, w := range inv.Warnings {
		fmt.Fprintf(stderr, "[WARNING]: %s\n", w)
	}
	loginPass, becomePass, err := askPasswords(o, stderr)
	if err != nil {
		return err
	}
	pool := transport.NewPool(transport.PoolOptions{MaxDials: o.forks,
		Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	defer pool.Close()
	hv := transport.DefaultHostVarsOptions()
	if o.user != "" {
		hv.LocalUser = o.user
	}
	if o.privateKey != "" {
		hv.SSHArgs = append(hv.SSHArgs, "-i", o.privateKey)
	}
	ri := newEngineInventory(inv, o.limit)
	ri.warn = func(msg string) { fmt.Fprintf(stderr, "[WARNING]: %s\n", msg) }
	exe := &rollout.TaskExecutor{
		Templar:   playbooks.NewTemplar(playbooks.TemplarOptions{SearchDirs: []string{filepath.Dir(pb.Path)}}),
		Inventory: ri,
		Connector: &rollout.PoolConnector{Pool: pool, Options: hv, Password: loginPass,
			Warn: func(h, m string) { fmt.Fprintf(stderr, "[WARNING]: %s: %s\n", h, m) }},
		ExtraVars: extra,
		Check:     o.check,
		Diff:      o.diff,
	}
	if o.become || o.becomeUser != "" || o.askBecomePass {
		exe.DefaultBecome = &transport.Become{Method: o.becomeMethod, User: o.becomeUser, Password: becomePass}
	}
	p := report.NewPlain(stdout, o.verbose)
	p.Warnings = stderr
	runner := rollout.NewRunner(exe, ri.resolve, rollout.Options{Forks: o.forks, Emit: p.Handle, Tags: o.tags, SkipTags: o.skipTags})
	fin, err := runner.Run(ctx, pb)
	switch {
	case ctx.Err() != nil:
		return exitError{code: ExitInterrupted, msg: "interrupted; the run stopped before its end"}
	case err != nil:
		return err
	case p.Err() != nil:
		return p.Err()
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
