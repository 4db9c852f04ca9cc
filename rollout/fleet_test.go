package rollout_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kpxdev/kpx/internal/testfleet"
	"github.com/kpxdev/kpx/modules"
	"github.com/kpxdev/kpx/playbooks"
	"github.com/kpxdev/kpx/report"
	"github.com/kpxdev/kpx/rollout"
	"github.com/kpxdev/kpx/transport"
)

// fleetInventory describes a test fleet to the engine, with the same variables its
// generated Ansible inventory holds.
type fleetInventory struct{ f *testfleet.Fleet }

func (i fleetInventory) HostVars(host string) map[string]any {
	h := i.f.Host(host)
	return map[string]any{
		"ansible_host": h.Addr, "ansible_port": h.Port, "ansible_user": i.f.User,
		"ansible_ssh_private_key_file": i.f.ClientKey,
		"ansible_ssh_common_args":      "-o UserKnownHostsFile=" + i.f.KnownHosts + " -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes",
	}
}

func (i fleetInventory) hosts() []string {
	var out []string
	for _, h := range i.f.Hosts {
		out = append(out, h.Name)
	}
	return out
}

func (i fleetInventory) Groups() map[string][]string {
	return map[string][]string{"all": i.hosts(), i.f.Group: i.hosts(), "ungrouped": nil}
}

func (i fleetInventory) GroupNames(string) []string { return []string{i.f.Group} }

// TestEngineOverOpenSSHMatchesAnsible runs one playbook against a fleet of real OpenSSH
// daemons with kpx (SSH through the transport pool, facts, modules) and with
// ansible-playbook, and compares their output.
func TestEngineOverOpenSSHMatchesAnsible(t *testing.T) {
	f := testfleet.Start(t, testfleet.Options{Hosts: 3})
	ansible := testfleet.RequireTool(t, "ansible-playbook")
	play, _ := filepath.Abs("../testdata/rollout/fleet/site.yml")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	want, code := testfleet.RunAnsible(ctx, t, f.Dir, ansible, "-f", "1", "-i", f.Inventory, play)
	if code != 2 {
		t.Fatalf("ansible-playbook exit status %d, want 2\n%s", code, want)
	}

	pb, err := playbooks.Load(play, playbooks.LoadOptions{Modules: modules.Builtin()})
	if err != nil {
		t.Fatal(err)
	}
	pool := transport.NewPool(transport.PoolOptions{})
	defer pool.Close()
	opts := transport.DefaultHostVarsOptions()
	opts.SSHConfigFile = "none"
	inv := fleetInventory{f}
	exe := &rollout.TaskExecutor{
		Templar:   playbooks.NewTemplar(playbooks.TemplarOptions{}),
		Inventory: inv,
		Connector: &rollout.PoolConnector{Pool: pool, Options: opts, Warn: func(h, m string) { t.Errorf("%s: %s", h, m) }},
	}
	var got bytes.Buffer
	p := report.NewPlain(&got, 0)
	resolve := func(*playbooks.Play) ([]string, error) { return inv.hosts(), nil }
	fin, err := rollout.NewRunner(exe, resolve, rollout.Options{Forks: 1, Emit: p.Handle}).Run(ctx, pb)
	if err != nil {
		t.Fatal(err)
	}
	norm := func(s string) string { return volatile.ReplaceAllString(s, `"$1": "T"`) }
	if g, w := norm(got.String()), norm(string(want)); g != w {
		t.Errorf("kpx and ansible-playbook differ (got: kpx, want: ansible-playbook):\n%s", testfleet.Diff(g, w))
	}
	if fin.ExitCode() != 2 {
		t.Errorf("exit code %d, want 2", fin.ExitCode())
	}
	if !strings.Contains(got.String(), "host03 runs Debian") {
		t.Errorf("facts or SSH environment missing:\n%s", got.String())
	}
}
