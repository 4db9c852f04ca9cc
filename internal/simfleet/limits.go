package simfleet

import (
	"fmt"
	"syscall"
)

// RaiseOpenFiles raises the process's open-files limit (RLIMIT_NOFILE) to at least need
// when it is lower: every simulated host holds a listener and a connection, and the
// controller a connection per host. Above the hard limit it needs privilege; without it,
// the error says how far it got.
func RaiseOpenFiles(need uint64) error {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return err
	}
	if rl.Cur >= need {
		return nil
	}
	if rl.Max < need {
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: need, Max: need}); err == nil {
			return nil
		}
		return fmt.Errorf("open files limit %d, need %d (raise it: ulimit -n %d)", rl.Max, need, need)
	}
	rl.Cur = need
	return syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
}
