package main

import (
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/kpxdev/kpx/rollout"
)

func newUnlockCmd() *cobra.Command {
	var o runOptions
	cmd := &cobra.Command{
		Use:   "unlock RUN",
		Short: "End a run's host locks in a shared (etcd) journal, for a controller known to be gone",
		Long: `unlock ends the hold of run RUN on its hosts and its registration as active, in the
etcd journal given by --journal (or $KPX_JOURNAL). Use it only when the controller running
RUN is known to be gone: a live one loses its locks and stops at once. The run's journal
stays; kpx resume or kpx rollback can take it from there.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return unlockRun(o, args[0], cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&o.stateDir, "state-dir", os.Getenv("KPX_STATE_DIR"), "where run journals are kept")
	addJournalBackendFlags(cmd.Flags(), &o.journal)
	return cmd
}

func unlockRun(o runOptions, id string, stdout io.Writer) error {
	if !o.journal.etcd() {
		return fmt.Errorf("unlock: locks exist only in a shared journal: give --journal etcd://... (or set KPX_JOURNAL)")
	}
	backend, err := openJournalBackend(o, nil)
	if err != nil {
		return err
	}
	defer backend.Close()
	reg := backend.(rollout.RunRegistry)
	if err := reg.Unlock(id); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "run %s unlocked\n", id)
	return nil
}

// listActiveRuns prints the runs a live controller holds, when the backend knows them.
func listActiveRuns(backend rollout.JournalBackend, stdout io.Writer) error {
	reg, ok := backend.(rollout.RunRegistry)
	if !ok {
		return nil
	}
	active, err := reg.ActiveRuns()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ACTIVE RUN\tCOMMAND\tUSER\tMACHINE\tPID\tSINCE\tLOCKED HOSTS")
	for _, h := range active {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%d\n", h.RunID, h.Command, h.User, h.Machine, h.PID,
			h.Since.Local().Format("2006-01-02 15:04:05"), h.Hosts)
	}
	if len(active) == 0 {
		fmt.Fprintln(tw, "(none)")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout)
	return err
}
