package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/kpxdev/kpx/rollout"
)

func newRunsCmd() *cobra.Command {
	var o runOptions
	cmd := &cobra.Command{
		Use:   "runs",
		Short: "List journaled runs, newest first, with their outcome",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return listRuns(o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	cmd.Flags().StringVar(&o.stateDir, "state-dir", os.Getenv("KPX_STATE_DIR"), "where run journals are kept")
	addJournalBackendFlags(cmd.Flags(), &o.journal)
	return cmd
}

func listRuns(o runOptions, stdout, stderr io.Writer) error {
	backend, err := openJournalBackend(o, nil)
	if err != nil {
		return err
	}
	defer backend.Close()
	if err := listActiveRuns(backend, stdout); err != nil {
		return err
	}
	ids, err := backend.Runs()
	if err != nil {
		return err
	}
	slices.Reverse(ids)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tSTARTED\tHOSTS\tOUTCOME\tPLAYBOOK")
	for _, id := range ids {
		entries, err := backend.ReadRun(id)
		if err != nil {
			fmt.Fprintf(stderr, "[WARNING]: %v\n", err)
			continue
		}
		s := rollout.Replay(entries)
		started := "-"
		if !s.Start.Time.IsZero() {
			started = s.Start.Time.Local().Format("2006-01-02 15:04:05")
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", id, started, len(s.Start.Hosts), s.Outcome(), filepath.Base(s.Start.Playbook))
	}
	return tw.Flush()
}
