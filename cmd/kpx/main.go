// Command kpx rolls out Linux kernel live patches across server fleets in canary waves,
// reading Ansible inventories and playbooks and driving hosts over SSH.
//
// This package is wiring only: flags become option structs, option structs go to the
// engine packages, and errors come back to be mapped to exit codes in one place (exit.go).
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes the kpx command line and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	if msg := err.Error(); msg != "" {
		fmt.Fprintf(stderr, "kpx: %s\n", msg)
	}
	return exitCode(err)
}
