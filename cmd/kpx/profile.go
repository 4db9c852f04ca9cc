package main

import (
	"fmt"
	"os"
	"runtime/pprof"

	"github.com/spf13/cobra"
)

// cpuProfile is the hidden --cpuprofile flag: the controller's CPU profile (go tool pprof)
// for the whole command, written when the command ends, whatever its exit code.
type cpuProfile struct {
	path string
	f    *os.File
}

// register adds the flag to every command of root and starts profiling before the
// command runs.
func (p *cpuProfile) register(root *cobra.Command) {
	root.PersistentFlags().StringVar(&p.path, "cpuprofile", "", "write a CPU profile of kpx to this file")
	_ = root.PersistentFlags().MarkHidden("cpuprofile")
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		if p.path == "" {
			return nil
		}
		f, err := os.Create(p.path)
		if err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		p.f = f
		return nil
	}
}

// stop ends the profile, if one was started.
func (p *cpuProfile) stop() {
	if p.f == nil {
		return
	}
	pprof.StopCPUProfile()
	p.f.Close()
	p.f = nil
}
