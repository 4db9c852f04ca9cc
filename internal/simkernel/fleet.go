package simkernel

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kpxdev/kpx/internal/testfleet"
)

// Fleet is an OpenSSH test fleet (internal/testfleet) whose hosts carry simulated
// kernels, reached as an account whose login shell is /bin/sh (root's may be a bash whose
// ~/.bashrc costs seconds per command) that owns the simulated kernels.
type Fleet struct {
	*testfleet.Fleet
	User      *testfleet.User
	Kernels   map[string]*Kernel // by host name
	Inventory string             // INI inventory reaching every host as User
}

// StartFleet starts one OpenSSH host per Options, each with its own simulated kernel in
// its state directory ("kernel"), and registers the teardown with t.Cleanup.
func StartFleet(t testing.TB, opts ...Options) *Fleet {
	t.Helper()
	return startFleet(t, false, opts)
}

// StartFleetBecome is StartFleet for playbooks with become: true. The account may sudo
// to root without a password, sudo keeps KPX_SIMKERNEL for it (a drop-in in
// /etc/sudoers.d, removed at cleanup), and the simulated kernels stay root's, as the
// modules' prelude demands of the user they run as.
func StartFleetBecome(t testing.TB, opts ...Options) *Fleet {
	t.Helper()
	return startFleet(t, true, opts)
}

func startFleet(t testing.TB, become bool, opts []Options) *Fleet {
	t.Helper()
	byName := map[string]Options{}
	width := len(fmt.Sprint(len(opts)))
	if width < 2 {
		width = 2
	}
	for i, o := range opts {
		byName[fmt.Sprintf("host%0*d", width, i+1)] = o // testfleet's names
	}
	f := testfleet.Start(t, testfleet.Options{Hosts: len(opts), NamePrefix: "host", HostEnv: func(h *testfleet.Host) (map[string]string, error) {
		o, ok := byName[h.Name]
		if !ok {
			return nil, fmt.Errorf("simkernel: no options for host %s", h.Name)
		}
		return Install(filepath.Join(h.StateDir, "kernel"), o)
	}})
	uo := testfleet.UserOptions{}
	if become {
		uo.Sudo = testfleet.SudoNoPasswd
	}
	sf := &Fleet{Fleet: f, User: f.AddUser(t, uo), Kernels: map[string]*Kernel{}}
	if become {
		keep := filepath.Join("/etc/sudoers.d", "kpx-test-simkernel-"+sf.User.Name)
		if err := os.WriteFile(keep, []byte("Defaults:"+sf.User.Name+" env_keep += \"KPX_SIMKERNEL\"\n"), 0o440); err != nil {
			t.Fatalf("simkernel: %v", err)
		}
		t.Cleanup(func() { os.Remove(keep) })
	}
	for _, h := range f.Hosts {
		dir := filepath.Join(h.StateDir, "kernel")
		if !become {
			if out, err := exec.Command("chown", "-R", sf.User.Name+":", dir).CombinedOutput(); err != nil {
				t.Fatalf("simkernel: chown: %v: %s", err, out)
			}
		}
		k, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		sf.Kernels[h.Name] = k
	}
	var b strings.Builder
	fmt.Fprintf(&b, "[%s]\n", f.Group)
	for _, h := range f.Hosts {
		fmt.Fprintf(&b, "%s ansible_host=%s ansible_port=%d\n", h.Name, h.Addr, h.Port)
	}
	fmt.Fprintf(&b, "\n[%s:vars]\nansible_user=%s\nansible_ssh_private_key_file=%s\n", f.Group, sf.User.Name, f.ClientKey)
	fmt.Fprintf(&b, "ansible_ssh_common_args='-o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes'\n", f.KnownHosts)
	sf.Inventory = filepath.Join(f.Dir, "simkernel-inventory.ini")
	if err := os.WriteFile(sf.Inventory, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return sf
}
