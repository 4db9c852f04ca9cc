package simkernel

import (
	"os/exec"
)

// shell runs script with the simulated kernel's functions loaded, and args as $1...
func (k *Kernel) shell(script string, args ...string) ([]byte, error) {
	full := "KPX_SIM_ROOT=\"$0\"; . \"$KPX_SIM_ROOT/lib/sim.sh\"; " + script
	cmd := exec.Command("/bin/sh", append([]string{"-c", full, k.Root}, args...)...)
	return cmd.CombinedOutput()
}
