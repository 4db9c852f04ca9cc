package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kpxdev/kpx/rollout"
)

func newPlanCmd() *cobra.Command {
	var o runOptions
	var noPreflight bool
	cmd := &cobra.Command{
		Use:   "plan PLAYBOOK -i INVENTORY [flags]",
		Short: "Show the waves a run would take, their hosts and what runs in them, after a preflight; change nothing",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.playbook = args[0]
			if err := applyAnsibleConfig(&o, cmd.Flags(), cmd.ErrOrStderr()); err != nil {
				return err
			}
			return planRun(cmd.Context(), o, !noPreflight, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&o.sources, "inventory", "i", nil, "inventory source: file, directory or comma list (repeatable)")
	f.StringVarP(&o.limit, "limit", "l", "", "further limit the hosts (pattern grammar, @file allowed)")
	f.StringArrayVarP(&o.extraVars, "extra-vars", "e", nil, "variables: key=value, YAML/JSON, or @file (repeatable)")
	f.IntVarP(&o.forks, "forks", "f", 5, "hosts contacted at once by the preflight")
	f.StringVarP(&o.user, "user", "u", "", "login user for hosts whose variables name none")
	f.StringVar(&o.privateKey, "private-key", "", "private key file for every host")
	f.BoolVarP(&o.askPass, "ask-pass", "k", false, "ask for the SSH login password")
	f.BoolVar(&noPreflight, "no-preflight", false, "contact no host: waves and tasks only")
	addVaultFlags(f, &o.vault)
	return cmd
}

// planRun prints the plan and, with preflight, each host's reachability and facts. It
// exits 4 when a host cannot be reached, as a run would.
func planRun(ctx context.Context, o runOptions, preflight bool, stdout, stderr io.Writer) error {
	o.check = true
	eng, err := setupEngine(o, stderr)
	if err != nil {
		return err
	}
	defer eng.close()
	plan, err := rollout.BuildPlan(eng.pb, eng.inv.resolve)
	if err != nil {
		return err
	}
	var hosts []string
	seen := map[string]bool{}
	for i, pp := range plan.Plays {
		printPlanPlay(stdout, i, pp)
		for _, h := range pp.Hosts {
			if !seen[h] {
				seen[h] = true
				hosts = append(hosts, h)
			}
		}
	}
	if !preflight || len(hosts) == 0 {
		return nil
	}
	fmt.Fprintf(stdout, "\nPREFLIGHT (%d hosts)\n", len(hosts))
	unreachable := 0
	for _, r := range rollout.Preflight(ctx, eng.exe, hosts, o.forks) {
		if !r.Reachable || r.Error != "" {
			unreachable++
			fmt.Fprintf(stdout, "  %-24s UNREACHABLE  %s\n", r.Host, r.Error)
			continue
		}
		fmt.Fprintf(stdout, "  %-24s ok  %s %s, kernel %s, %s\n", r.Host, r.Facts["ansible_distribution"],
			r.Facts["ansible_distribution_version"], r.Facts["ansible_kernel"], r.Facts["ansible_architecture"])
	}
	if unreachable > 0 {
		return exitError{code: ExitUnreachable, msg: fmt.Sprintf("plan: %d of %d hosts failed the preflight", unreachable, len(hosts))}
	}
	return nil
}

func printPlanPlay(w io.Writer, i int, pp rollout.PlanPlay) {
	kind := "play"
	if pp.Rollout {
		kind = "rollout"
	}
	fmt.Fprintf(w, "PLAY %d [%s] (%s, %d hosts, %d waves)\n", i+1, pp.Name, kind, len(pp.Hosts), len(pp.Waves))
	for n, wave := range pp.Waves {
		fmt.Fprintf(w, "  wave %d (%d): %s\n", n+1, len(wave), strings.Join(wave, ", "))
	}
	if pp.Rollout {
		fmt.Fprintf(w, "  a wave fails when more than %g%% of its hosts fail or are unreachable\n", pp.MaxFail)
	}
	fmt.Fprintln(w, "  tasks:")
	for _, t := range pp.Tasks {
		fmt.Fprintf(w, "    - %s\n", t)
	}
	if h := pp.Health; h != nil {
		fmt.Fprintf(w, "  health: bake %s, retries %d, delay %s", h.Bake, h.Retries, h.Delay)
		if h.Timeout > 0 {
			fmt.Fprintf(w, ", timeout %s", h.Timeout)
		}
		fmt.Fprintln(w)
		for _, c := range pp.Checks {
			fmt.Fprintf(w, "    - check: %s\n", c)
		}
	}
	if pp.Rollback != nil {
		fmt.Fprintf(w, "  rollback (scope %s):\n", pp.Scope)
		for _, t := range pp.Rollback {
			fmt.Fprintf(w, "    - %s\n", t)
		}
	}
}
