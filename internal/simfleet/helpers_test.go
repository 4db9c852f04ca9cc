package simfleet_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/kpxdev/kpx/internal/simfleet"
)

func fmtSscan(s string, pid *int) (int, error) { return fmt.Sscan(s, pid) }

func sshFingerprint(h *simfleet.Host) string { return ssh.FingerprintSHA256(h.HostKey) }

// groupAlive reports whether a live (non-zombie) process is in process group pgid.
func groupAlive(pgid int) bool {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...: comm may hold spaces, so split after the last ')'.
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 2 && f[0] != "Z" && f[2] == fmt.Sprint(pgid) {
			return true
		}
	}
	return false
}
