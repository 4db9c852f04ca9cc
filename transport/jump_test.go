package transport

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kpxdev/kpx/internal/testfleet"
)

// A ssh_config file routes "target" through "bastion", both real sshd daemons; the target
// must see its connection coming from the bastion's sshd, and two targets behind the same
// bastion share one connection to it.
func TestProxyJumpThroughBastion(t *testing.T) {
	f := testfleet.Start(t, testfleet.Options{Hosts: 3})
	bastion, t1, t2 := f.Hosts[0], f.Hosts[1], f.Hosts[2]
	conf := filepath.Join(t.TempDir(), "ssh_config")
	writeFile(t, conf, fmt.Sprintf(`
Host target1
    HostName 127.0.0.1
    Port %d
    ProxyJump bastion
Host target2
    HostName 127.0.0.1
    Port %d
    ProxyJump bastion
Host bastion
    HostName 127.0.0.1
    Port %d
    User %s
Host *
    User %s
    IdentityFile %s
    UserKnownHostsFile %s
    StrictHostKeyChecking yes
`, t1.Port, t2.Port, bastion.Port, f.User, f.User, f.ClientKey, f.KnownHosts), 0o644)

	p := NewPool(PoolOptions{Logger: testLogger(t)})
	defer p.Close()
	for _, name := range []string{"target1", "target2"} {
		cfg, warnings, err := FromHostVars(name, map[string]any{"ansible_ssh_common_args": "-F " + conf}, HostVarsOptions{Home: t.TempDir(), LocalUser: "nobody"})
		if err != nil || len(warnings) > 0 {
			t.Fatalf("%s: %v %v", name, err, warnings)
		}
		if cfg.ProxyJump == nil || cfg.ProxyJump.Port != bastion.Port {
			t.Fatalf("%s: no ProxyJump to the bastion: %+v", name, cfg.ProxyJump)
		}
		c, err := p.Get(testCtx(t), cfg)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out := mustRun(t, c, `printf '%s %s' "$KPX_HOST_NAME" "$SSH_CONNECTION"`)
		fields := strings.Fields(out)
		want := map[string]string{"target1": t1.Name, "target2": t2.Name}[name]
		if len(fields) != 5 || fields[0] != want {
			t.Fatalf("%s answered %q, want host %s", name, out, want)
		}
		srcPort, _ := strconv.Atoi(fields[2])
		owned, err := bastion.OwnsTCPPort(srcPort)
		if err != nil {
			t.Fatal(err)
		}
		if !owned {
			t.Errorf("%s: connection from port %d does not belong to the bastion's sshd", name, srcPort)
		}
		if direct, _ := f.Host(want).OwnsTCPPort(srcPort); direct {
			t.Errorf("%s: the port check cannot tell hosts apart", name)
		}
	}
	// Both targets share one connection to the bastion.
	p.mu.Lock()
	var via []*SSHConn
	for k, c := range p.conns {
		if !strings.Contains(k, " via ") && strings.HasSuffix(k, fmt.Sprintf("@127.0.0.1:%d", bastion.Port)) {
			via = append(via, c)
		}
	}
	p.mu.Unlock()
	if len(via) != 1 || via[0].Dials() != 1 {
		t.Errorf("%d pooled connections to the bastion, want 1 dialed once", len(via))
	}
}
