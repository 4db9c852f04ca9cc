package testfleet

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// OwnsTCPPort reports whether a process of the host's sshd (the daemon or one of its
// per-connection children) holds a TCP socket bound to the local port. Tests use it to
// prove that a connection to another host came through this one (a jump host).
func (h *Host) OwnsTCPPort(port int) (bool, error) {
	inodes, err := socketInodes(port)
	if err != nil || len(inodes) == 0 {
		return false, err
	}
	pid := h.proc.cmd.Process.Pid
	for _, p := range append([]int{pid}, descendants(pid)...) {
		fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", p))
		if err != nil {
			continue
		}
		for _, fd := range fds {
			link, err := os.Readlink(filepath.Join(fmt.Sprintf("/proc/%d/fd", p), fd.Name()))
			if err == nil && inodes[link] {
				return true, nil
			}
		}
	}
	return false, nil
}

// socketInodes returns "socket:[inode]" for the TCP sockets whose local port is port.
func socketInodes(port int) (map[string]bool, error) {
	out := map[string]bool{}
	for _, file := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(file)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 10 {
				continue
			}
			i := strings.LastIndexByte(fields[1], ':')
			if i < 0 {
				continue
			}
			p, err := strconv.ParseUint(fields[1][i+1:], 16, 16)
			if err == nil && int(p) == port {
				out["socket:["+fields[9]+"]"] = true
			}
		}
		f.Close()
	}
	return out, nil
}
