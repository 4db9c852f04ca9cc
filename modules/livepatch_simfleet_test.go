package modules

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/kpxdev/kpx/internal/simfleet"
	"github.com/kpxdev/kpx/internal/simkernel"
	"github.com/kpxdev/kpx/transport"
)

// TestLivepatchOnSimfleet: the simulated kernel plugs into the in-process SSH fleet
// through its Prepare hook, and the livepatch module drives it there as on OpenSSH.
func TestLivepatchOnSimfleet(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	f, err := simfleet.Start(ctx, simfleet.Options{Hosts: 1, Prepare: func(ctx context.Context, h *simfleet.Host) (map[string]string, error) {
		return simkernel.Install(filepath.Join(h.Dir, "kernel"), simkernel.Options{})
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := f.Hosts[0]
	cfg := &transport.Config{Name: h.Name, Addr: h.Addr, Port: h.Port, User: f.User,
		IdentityFiles: []string{f.ClientKey}, KnownHostsFiles: []string{f.KnownHosts}, ConnectTimeout: 30 * time.Second}
	conn, err := transport.Dial(ctx, cfg, transport.PoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	k, err := simkernel.Open(filepath.Join(h.Dir, "kernel"))
	if err != nil {
		t.Fatal(err)
	}
	ko := livepatchKo(t, "lp-sim.ko", "lp_sim", simRelease, false)
	expect(t, "enable", call(t, conn, "livepatch", map[string]any{"src": ko}, false), true, false)
	if p := simPatch(t, k, "lp_sim"); p == nil || !p.Enabled {
		t.Fatalf("patch %+v", p)
	}
	expect(t, "again", call(t, conn, "livepatch", map[string]any{"src": ko}, false), false, false)
	expect(t, "absent", call(t, conn, "livepatch", map[string]any{"name": "lp_sim", "state": "absent"}, false), true, false)
}
