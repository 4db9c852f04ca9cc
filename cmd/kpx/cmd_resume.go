package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/kpxdev/kpx/playbooks"
	"github.com/kpxdev/kpx/rollout"
)

func newResumeCmd() *cobra.Command {
	var o runOptions
	cmd := &cobra.Command{
		Use:   "resume RUN",
		Short: "Continue a journaled run after a crash or an interrupt: finished waves and hosts are skipped",
		Long: `resume continues the run RUN (an id from kpx runs, or a unique prefix) with the playbook,
inventory, limit and variables its journal records. Waves that were promoted are skipped;
in the wave that was running, hosts that finished its tasks are skipped and the others
(those whose last step is unknown included) run them again, then the whole wave is
health-checked. A wave that had failed is rolled back. Extra variables whose names look
like secrets are not journaled: give them again with -e.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// Ansible's configuration is the one the working directory finds, as for
			// ansible-playbook, not the one of the directory the run was started in.
			if err := applyAnsibleConfig(&o, cmd.Flags(), cmd.ErrOrStderr()); err != nil {
				return err
			}
			return resumeRun(cmd.Context(), args[0], o, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr(), false)
		},
	}
	addReplayFlags(cmd, &o)
	return cmd
}

func newRollbackCmd() *cobra.Command {
	var o runOptions
	cmd := &cobra.Command{
		Use:   "rollback RUN",
		Short: "Undo a journaled run: rollback tasks on every host it changed, newest wave first",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// Ansible's configuration is the one the working directory finds, as for
			// ansible-playbook, not the one of the directory the run was started in.
			if err := applyAnsibleConfig(&o, cmd.Flags(), cmd.ErrOrStderr()); err != nil {
				return err
			}
			return resumeRun(cmd.Context(), args[0], o, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr(), true)
		},
	}
	addReplayFlags(cmd, &o)
	return cmd
}

// addReplayFlags are the flags of resume and rollback: what the journal cannot hold.
func addReplayFlags(cmd *cobra.Command, o *runOptions) {
	f := cmd.Flags()
	f.StringArrayVarP(&o.extraVars, "extra-vars", "e", nil, "variables the journal does not hold (secrets), as for run")
	f.IntVarP(&o.forks, "forks", "f", 5, "hosts that run a task at once")
	f.CountVarP(&o.verbose, "verbose", "v", "show task results (-v), more with -vvv")
	f.StringVarP(&o.user, "user", "u", "", "login user for hosts whose variables name none")
	f.StringVar(&o.privateKey, "private-key", "", "private key file for every host")
	f.BoolVarP(&o.become, "become", "b", false, "run tasks with privilege escalation (sudo) unless they say otherwise")
	f.StringVar(&o.becomeUser, "become-user", "", "user to become (default root)")
	f.StringVar(&o.becomeMethod, "become-method", "sudo", "sudo or su")
	f.BoolVarP(&o.askPass, "ask-pass", "k", false, "ask for the SSH login password")
	f.BoolVarP(&o.askBecomePass, "ask-become-pass", "K", false, "ask for the become password")
	addJournalFlags(f, o)
	addUIFlag(f, o)
	addVaultFlags(f, &o.vault)
}

// resumeRun continues (or, with undo, rolls back) the journaled run id.
func resumeRun(ctx context.Context, id string, o runOptions, stdin io.Reader, stdout, stderr io.Writer, undo bool) (err error) {
	if err := o.validateInterrupt(); err != nil {
		return err
	}
	vlt, err := openVault(ctx, &o, stderr) // asked for before a TUI takes the terminal
	if err != nil {
		return err
	}
	defer func() { err = maskError(err, vlt) }()
	stderr = maskWriter{w: stderr, v: vlt}
	watch := newJournalWatch(stderr)
	backend, err := openJournalBackend(o, watch)
	if err != nil {
		return err
	}
	defer backend.Close()
	j, err := backend.Open(id)
	if err != nil {
		return err
	}
	defer j.Close()
	entries, err := j.Read()
	if err != nil {
		return err
	}
	state := rollout.Replay(entries)
	if state.Attempts == 0 {
		return fmt.Errorf("run %s: the journal records no start; nothing to %s", id, map[bool]string{true: "roll back", false: "resume"}[undo])
	}
	if !undo && state.RanToEnd() {
		return fmt.Errorf("run %s finished (%s); nothing to resume", state.Start.RunID, state.Outcome())
	}
	o = fromJournal(o, state.Start)
	ui, err := newOutput(o, stdin, stdout, stderr)
	if err != nil {
		return err
	}
	stderr = ui.stderr // held while the TUI owns the terminal
	if missing := redactedNames(state.Start.ExtraVars, o.extraVars); len(missing) > 0 {
		fmt.Fprintf(stderr, "[WARNING]: the journal does not hold %v (secrets); give them with -e if the playbook needs them\n", missing)
	}
	eng, err := setupEngine(o, stderr)
	if err != nil {
		return err
	}
	defer eng.close()
	command := "resume"
	if undo {
		command = "rollback"
	}
	if err := lockHosts(j, state.Start.Hosts); err != nil {
		return err // another run holds some of them: nothing is touched
	}
	fmt.Fprintf(stderr, "kpx: %s of run %s (journal %s)\n", command, state.Start.RunID, backend.Where(state.Start.RunID))
	start := runStart(state.Start.RunID, command, o, eng)
	start.ExtraVars = state.Start.ExtraVars
	fin, interrupted, err, presentErr := ui.run(ctx, func(emit func(rollout.Event)) *rollout.Runner {
		runner := rollout.NewRunner(eng.exe, eng.inv.resolve, rollout.Options{Forks: o.forks, Emit: emit, Tags: o.tags, SkipTags: o.skipTags,
			Journal: j, Start: start, OnInterrupt: o.onInterrupt, Resume: state, Mask: eng.mask(), Gathering: configGathering(o)})
		watch.setRunner(runner)
		return runner
	}, func(ctx context.Context, runner *rollout.Runner) (rollout.RunFinished, bool, error) {
		return runWithSignals(ctx, runner, stderr, watch.guard(func(ctx context.Context) (rollout.RunFinished, error) {
			if undo {
				return runner.RollbackRun(ctx, eng.pb)
			}
			return runner.Run(ctx, eng.pb)
		}))
	})
	if cerr := j.Close(); cerr != nil && err == nil {
		err = cerr
	}
	return journalExit(runExit(fin, interrupted, err, presentErr), j, stderr)
}

// fromJournal fills the options from what the run was started with.
func fromJournal(o runOptions, start rollout.RunStarted) runOptions {
	o.playbook, o.sources, o.limit, o.check = start.Playbook, start.Inventory, start.Limit, start.Check
	o.tags, o.skipTags = start.Tags, start.SkipTags
	o.extraVarsParsed = map[string]any{}
	for k, v := range start.ExtraVars {
		if v != rollout.Redacted {
			o.extraVarsParsed[k] = v
		}
	}
	return o
}

// redactedNames are the journaled variables kept back as secrets that -e does not give.
func redactedNames(journaled map[string]any, given []string) []string {
	parsed, _ := playbooks.ParseExtraVars(given)
	var out []string
	for k, v := range journaled {
		if _, ok := parsed[k]; v == rollout.Redacted && !ok {
			out = append(out, k)
		}
	}
	return out
}
