package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/kpxdev/kpx/internal/demo"
	"github.com/kpxdev/kpx/internal/simfleet"
	"github.com/kpxdev/kpx/inventory"
	"github.com/kpxdev/kpx/modules"
	"github.com/kpxdev/kpx/playbooks"
)

// demoOptions are the flags of `kpx demo`.
type demoOptions struct {
	hosts         int
	fail          string
	ui            string
	forks         int
	printPlaybook bool
}

// demoFailure is what the failing host's health check says.
const demoFailure = "replication lag 94s since the live patch (simulated failure)"

func newDemoCmd() *cobra.Command {
	var o demoOptions
	cmd := &cobra.Command{
		Use:   "demo [--hosts N] [--fail HOST|none] [--ui auto|tui|plain|json]",
		Short: "Roll a live patch out to a simulated fleet, in canary waves, with nothing to set up",
		Long: `kpx demo starts a simulated fleet inside this process (SSH servers on 127.0.0.1, one per
host, each running commands in a real shell in its own sandbox directory) and runs the
sample canary rollout on it through kpx's real engine, SSH connections and host key
checks. By default one host of the third wave fails its health check and the rollout
stops there (exit 2); --fail none shows a clean rollout (exit 0). Everything it writes
lives in a temporary directory, removed at the end.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd.Context(), o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.hosts, "hosts", demo.DefaultHosts, "number of simulated hosts")
	f.StringVar(&o.fail, "fail", "", "host whose health check fails (default: one in the third wave), or none")
	f.StringVar(&o.ui, "ui", "auto", "output: auto (tui on a terminal), tui, plain or json")
	f.IntVarP(&o.forks, "forks", "f", 50, "hosts that run a task at once")
	f.BoolVar(&o.printPlaybook, "print-playbook", false, "print the sample inventory and playbook, run nothing")
	return cmd
}

func runDemo(ctx context.Context, o demoOptions, stdout, stderr io.Writer) error {
	if o.printPlaybook {
		_, err := fmt.Fprintf(stdout, "# %s\n%s\n# %s\n%s", demo.InventoryName, demo.Inventory(), demo.PlaybookName, demo.Playbook())
		return err
	}
	if err := checkUIFlag(o.ui); err != nil {
		return err
	}
	if o.hosts < 1 {
		return fmt.Errorf("--hosts %d: give at least one host", o.hosts)
	}
	dir, err := demo.WorkDir("")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	groups, err := demo.Layout(dir, o.hosts)
	if err != nil {
		return err
	}
	if err := simfleet.RaiseOpenFiles(uint64(4*o.hosts + 1024)); err != nil {
		return fmt.Errorf("--hosts %d: %w", o.hosts, err)
	}
	// The fleet's SSH servers share this process and the machine's cores with kpx and with
	// every host's shells: on a large demo fleet a handshake can wait its turn for longer
	// than the 10s a real network is given.
	fleet, err := simfleet.Start(ctx, simfleet.Options{Groups: groups, Dir: filepath.Join(dir, "fleet"), Prepare: demo.Prepare,
		SSHArgs: "-o ConnectTimeout=60"})
	if err != nil {
		return err
	}
	defer fleet.Close()
	play := filepath.Join(dir, demo.PlaybookName)
	if err := os.WriteFile(play, demo.Playbook(), 0o600); err != nil {
		return err
	}
	if err := demo.WritePatch(dir); err != nil {
		return err
	}
	failing, wave, err := demoFailingHost(o.fail, play, fleet)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "kpx demo: %d simulated hosts on 127.0.0.1 (in-process SSH servers, real shells), files in %s\n", len(fleet.Hosts), dir)
	if failing != "" {
		if err := fleet.Host(failing).SetFailing(true, demoFailure); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "kpx demo: %s (wave %d) will fail its health check; --fail none for a clean rollout\n", failing, wave)
	}
	return runPlaybook(ctx, runOptions{playbook: play, sources: []string{fleet.Inventory}, forks: o.forks, ui: o.ui,
		stateDir: filepath.Join(dir, "state")}, os.Stdin, stdout, stderr)
}

// demoFailingHost returns the host to fail and its wave: the --fail host, none, or by
// default the middle host of the play's third wave.
func demoFailingHost(flag, play string, fleet *simfleet.Fleet) (string, int, error) {
	if flag == "none" {
		return "", 0, nil
	}
	pb, err := playbooks.Load(play, playbooks.LoadOptions{Modules: modules.Builtin()})
	if err != nil {
		return "", 0, err
	}
	inv, err := inventory.Load([]string{fleet.Inventory})
	if err != nil {
		return "", 0, err
	}
	if len(pb.Plays) == 0 {
		return "", 0, errors.New("demo playbook has no play")
	}
	hosts, err := newEngineInventory(inv, "").resolve(pb.Plays[0])
	if err != nil {
		return "", 0, err
	}
	waves := playbooks.Batches(hosts, pb.Plays[0].Serial)
	if flag != "" {
		for i, w := range waves {
			for _, h := range w {
				if h == flag {
					return h, i + 1, nil
				}
			}
		}
		return "", 0, fmt.Errorf("--fail %q: no such host in the demo fleet (see kpx demo --print-playbook; or none)", flag)
	}
	w := min(2, len(waves)-1)
	return waves[w][len(waves[w])/2], w + 1, nil
}
