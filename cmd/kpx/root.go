package main

import (
	"github.com/spf13/cobra"
)

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "kpx",
		Short: "Roll out kernel live patches across fleets in canary waves",
		Long: `kpx is an agentless remote executor that reads Ansible inventories and playbooks.
It connects over SSH, copies live-patch modules over SFTP, applies them in canary
waves, checks health after each wave and rolls back when a wave fails.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(
		newRunCmd(),
		newExecCmd(),
		newVersionCmd(),
		newInventoryCmd(),
		newStatusCmd(),
		newDemoCmd(),
		newPlanCmd(),
		newRunsCmd(),
		newResumeCmd(),
		newRollbackCmd(),
		newUnlockCmd(),
		newVaultCmd(),
	)
	return root
}
