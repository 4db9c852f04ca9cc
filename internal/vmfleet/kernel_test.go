package vmfleet

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func fakeKernel(t *testing.T) *Kernel {
	t.Helper()
	dir := t.TempDir()
	dep := `kernel/drivers/net/ethernet/intel/e1000/e1000.ko:
kernel/drivers/net/virtio_net.ko.xz: kernel/drivers/net/net_failover.ko.xz kernel/net/core/failover.ko.xz
kernel/drivers/net/net_failover.ko.xz: kernel/net/core/failover.ko.xz
kernel/net/core/failover.ko.xz:
kernel/drivers/block/virtio-blk.ko:
`
	if err := os.WriteFile(filepath.Join(dir, "modules.dep"), []byte(dep), 0o644); err != nil {
		t.Fatal(err)
	}
	builtin := "kernel/drivers/virtio/virtio.ko\nkernel/drivers/virtio/virtio_pci.ko\n"
	if err := os.WriteFile(filepath.Join(dir, "modules.builtin"), []byte(builtin), 0o644); err != nil {
		t.Fatal(err)
	}
	return &Kernel{Release: "6.1.0-0-test", Modules: dir}
}

func TestModuleFiles(t *testing.T) {
	k := fakeKernel(t)
	for _, tc := range []struct {
		names []string
		want  []string
		err   bool
	}{
		{names: []string{"e1000"}, want: []string{"kernel/drivers/net/ethernet/intel/e1000/e1000.ko"}},
		{names: []string{"virtio_net"}, want: []string{"kernel/net/core/failover.ko.xz",
			"kernel/drivers/net/net_failover.ko.xz", "kernel/drivers/net/virtio_net.ko.xz"}},
		{names: []string{"virtio-pci", "virtio_net", "failover"}, want: []string{"kernel/net/core/failover.ko.xz",
			"kernel/drivers/net/net_failover.ko.xz", "kernel/drivers/net/virtio_net.ko.xz"}},
		{names: []string{"virtio_blk"}, want: []string{"kernel/drivers/block/virtio-blk.ko"}},
		{names: []string{"nosuch"}, err: true},
	} {
		got, err := k.ModuleFiles(tc.names...)
		if (err != nil) != tc.err {
			t.Errorf("%v: error %v, want error %v", tc.names, err, tc.err)
			continue
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%v: got %v, want %v", tc.names, got, tc.want)
		}
	}
}

func TestFindKernelNamesWhatIsMissing(t *testing.T) {
	_, err := FindKernel("0.0.0-kpx-none")
	if err == nil {
		t.Fatal("FindKernel accepted a kernel that is not installed")
	}
}
