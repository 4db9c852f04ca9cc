package modules

import (
	"context"
	"encoding/json"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kpxdev/kpx/internal/testfleet"
	"github.com/kpxdev/kpx/transport"
)

// factKeys are the facts kpx gathers that Ansible's setup also reports.
var factKeys = []string{
	"ansible_hostname", "ansible_fqdn", "ansible_nodename", "ansible_kernel", "ansible_kernel_version",
	"ansible_architecture", "ansible_machine", "ansible_system", "ansible_distribution",
	"ansible_distribution_version", "ansible_distribution_major_version", "ansible_distribution_release",
	"ansible_os_family", "ansible_default_ipv4", "ansible_processor_vcpus", "ansible_memtotal_mb", "ansible_user_id",
}

func gatherLocal(t *testing.T) map[string]any {
	t.Helper()
	h := transport.NewLocal(&transport.Config{Name: "localhost", Local: true})
	defer h.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r, err := Setup.Run(ctx, h, Call{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Failed() {
		t.Fatalf("setup failed: %v", r)
	}
	return r["ansible_facts"].(map[string]any)
}

// TestSetupMatchesAnsible gathers facts on this machine with kpx and with Ansible's setup
// module, and requires the same values.
func TestSetupMatchesAnsible(t *testing.T) {
	ansible := testfleet.RequireTool(t, "ansible")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, ansible, "localhost", "-c", "local", "-m", "setup")
	cmd.Env = testfleet.AnsibleEnv(t.TempDir())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ansible setup: %v\n%s", err, out)
	}
	s := string(out)
	var res struct {
		Facts map[string]any `json:"ansible_facts"`
	}
	if err := json.Unmarshal([]byte(s[strings.Index(s, "{"):]), &res); err != nil {
		t.Fatalf("%v\n%s", err, s)
	}
	got := gatherLocal(t)
	for _, k := range factKeys {
		if normalize(got[k]) != normalize(res.Facts[k]) {
			t.Errorf("%s: kpx %v, ansible %v", k, got[k], res.Facts[k])
		}
	}
}

func TestSetupKpxFacts(t *testing.T) {
	f := gatherLocal(t)
	if _, ok := f["kpx_tainted"].(int); !ok {
		t.Errorf("kpx_tainted = %#v, want an int", f["kpx_tainted"])
	}
	if _, ok := f["kpx_livepatches"].([]any); !ok {
		t.Errorf("kpx_livepatches = %#v, want a list", f["kpx_livepatches"])
	}
}

func TestFactsFromOtherSystems(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want map[string]any
	}{
		{"ubuntu", "nodename=db1.example.org\nos_id=ubuntu\nos_name=Ubuntu\nos_version_id=22.04\nos_codename=jammy\ndebian_version=bookworm/sid\nhostname_f=db1.example.org\n",
			map[string]any{"ansible_hostname": "db1", "ansible_fqdn": "db1.example.org", "ansible_distribution": "Ubuntu",
				"ansible_os_family": "Debian", "ansible_distribution_version": "22.04", "ansible_distribution_major_version": "22",
				"ansible_distribution_release": "jammy"}},
		{"rocky", "nodename=pg2\nos_id=rocky\nos_name=Rocky Linux\nos_version_id=9.3\nfqdn_names= pg2.db.internal pg2\nmachine=i686\n",
			map[string]any{"ansible_distribution": "Rocky", "ansible_os_family": "RedHat", "ansible_distribution_version": "9.3",
				"ansible_distribution_major_version": "9", "ansible_fqdn": "pg2.db.internal", "ansible_architecture": "i386"}},
		{"busybox without ip", "nodename=tiny\nsystem=Linux\nos_id=alpine\nos_name=Alpine Linux\nos_version_id=3.19.1\n",
			map[string]any{"ansible_distribution": "Alpine", "ansible_os_family": "Alpine", "ansible_fqdn": "tiny",
				"ansible_default_ipv4": map[string]any{}}},
		{"default route", "default_interface=ens3\ndefault_gateway=10.1.0.1\ndefault_cidr=10.1.2.3/20\ndefault_mtu=9000\ndefault_type=1\ndefault_mac=52:54:00:12:34:56\n",
			map[string]any{"ansible_default_ipv4": map[string]any{"address": "10.1.2.3", "alias": "ens3", "interface": "ens3",
				"gateway": "10.1.0.1", "prefix": "20", "netmask": "255.255.240.0", "network": "10.1.0.0", "broadcast": "10.1.15.255",
				"macaddress": "52:54:00:12:34:56", "mtu": 9000, "type": "ether"}}},
		{"livepatches", "tainted=32768\nlivepatch_sysfs=yes\nlivepatch=livepatch_cve_1 1 0\nlivepatch=kpatch_fix 0 1\n",
			map[string]any{"kpx_tainted": 32768, "kpx_livepatch_sysfs": true, "kpx_livepatches": []any{
				map[string]any{"name": "livepatch_cve_1", "enabled": true, "transition": false},
				map[string]any{"name": "kpatch_fix", "enabled": false, "transition": true}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := factsFrom(parseRawFacts(tc.raw))
			for k, want := range tc.want {
				if !reflect.DeepEqual(f[k], want) {
					t.Errorf("%s = %#v, want %#v", k, f[k], want)
				}
			}
		})
	}
}
