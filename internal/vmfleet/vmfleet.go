// Package vmfleet boots a fleet of real Linux kernels for kpx's end-to-end tests: qemu
// virtual machines (TCG, no KVM needed) running a Debian kernel from a busybox
// initramfs with OpenSSH's sshd, each reachable on its own forwarded loopback port
// (127.0.0.1 only, through qemu's user-mode network; the VMs reach nothing else).
//
// Host keys and the client key are generated here, so the known_hosts and the Ansible
// inventory the fleet writes verify the VMs for real. Every VM is killed when the fleet
// stops (Start registers Stop with t.Cleanup), and also when the test binary dies (the
// qemu processes get SIGKILL as their parent-death signal).
//
// scripts/e2e-deps installs what the fleet needs (qemu, busybox-static, cpio, sshd, a
// Debian kernel with CONFIG_LIVEPATCH and its headers).
package vmfleet

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// Options configure a fleet. The zero value boots one VM of the newest installed kernel.
type Options struct {
	VMs        int           // number of VMs; at least 1
	Release    string        // kernel release; FindKernel's choice when empty
	MemoryMB   int           // per VM; 256 when zero
	BootWait   time.Duration // how long to wait for every sshd; 8 minutes when zero
	NamePrefix string        // VM names: NamePrefix01, ...; "vm" when empty
	Group      string        // inventory group; "vms" when empty
	Dir        string        // working directory; a fresh t.TempDir() when empty
}

// Fleet is a set of running VMs and the client-side files that reach them.
type Fleet struct {
	Dir        string
	Kernel     *Kernel
	ClientKey  string // private key (OpenSSH format) authorized for root on every VM
	Signer     ssh.Signer
	KnownHosts string // one [127.0.0.1]:port line per VM, with the key generated for it
	Inventory  string // Ansible INI inventory: ansible_user=root, the key, known_hosts
	Group      string
	VMs        []*VM
	Booted     time.Duration // from the first qemu start until every sshd answered

	stopOnce sync.Once
}

// Start builds the initramfs, boots the VMs in parallel, waits for their sshd and
// writes known_hosts and the inventory. It fails the test when any step fails, and
// stops the fleet at the end of the test.
func Start(t testing.TB, opts Options) *Fleet {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f, err := start(ctx, t, opts)
	if f != nil {
		t.Cleanup(f.Stop)
	}
	if err != nil {
		if f != nil {
			for _, vm := range f.VMs {
				t.Logf("%s console (tail):\n%s", vm.Name, vm.ConsoleTail(30))
			}
		}
		t.Fatalf("vmfleet: %v", err)
	}
	return f
}

func start(ctx context.Context, t testing.TB, opts Options) (*Fleet, error) {
	opts = withDefaults(opts)
	k, err := FindKernel(opts.Release)
	if err != nil {
		return nil, err
	}
	dir := opts.Dir
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	f := &Fleet{Dir: dir, Kernel: k, Group: opts.Group}
	if err := f.writeClientKey(); err != nil {
		return nil, err
	}
	base := filepath.Join(dir, "base.cpio.gz")
	if err := buildBase(ctx, k, dir, base); err != nil {
		return nil, fmt.Errorf("initramfs: %w", err)
	}
	authorized := ssh.MarshalAuthorizedKey(f.Signer.PublicKey())
	for i := 1; i <= opts.VMs; i++ {
		vm, err := newVM(ctx, dir, fmt.Sprintf("%s%02d", opts.NamePrefix, i), base, authorized)
		if err != nil {
			return f, err
		}
		f.VMs = append(f.VMs, vm)
	}
	ports, err := freePorts(len(f.VMs))
	if err != nil {
		return f, err
	}
	began := time.Now()
	for i, vm := range f.VMs {
		if err := vm.boot(k, opts.MemoryMB, ports[i]); err != nil {
			return f, err
		}
	}
	wctx, cancel := context.WithTimeout(ctx, opts.BootWait)
	defer cancel()
	errs := make(chan error, len(f.VMs))
	for _, vm := range f.VMs {
		go func(vm *VM) { errs <- vm.waitSSH(wctx, f.Signer) }(vm)
	}
	var first error
	for range f.VMs {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	if first != nil {
		return f, first
	}
	f.Booted = time.Since(began)
	if err := f.writeKnownHosts(); err != nil {
		return f, err
	}
	return f, f.writeInventory()
}

func withDefaults(o Options) Options {
	if o.VMs < 1 {
		o.VMs = 1
	}
	if o.MemoryMB == 0 {
		o.MemoryMB = 256
	}
	if o.BootWait == 0 {
		o.BootWait = 8 * time.Minute
	}
	if o.NamePrefix == "" {
		o.NamePrefix = "vm"
	}
	if o.Group == "" {
		o.Group = "vms"
	}
	return o
}

// Stop kills every VM and waits for its qemu to exit. It is idempotent.
func (f *Fleet) Stop() {
	f.stopOnce.Do(func() {
		for _, vm := range f.VMs {
			vm.kill()
		}
	})
}

// VM returns the VM of that name, or nil.
func (f *Fleet) VM(name string) *VM {
	for _, vm := range f.VMs {
		if vm.Name == name {
			return vm
		}
	}
	return nil
}

// Names returns the VMs' names in order.
func (f *Fleet) Names() []string {
	var out []string
	for _, vm := range f.VMs {
		out = append(out, vm.Name)
	}
	return out
}

func (f *Fleet) writeClientKey() error {
	pem, signer, err := newKey("kpx vmfleet client")
	if err != nil {
		return err
	}
	f.Signer = signer
	f.ClientKey = filepath.Join(f.Dir, "id_ed25519")
	if err := os.WriteFile(f.ClientKey, pem, 0o600); err != nil {
		return err
	}
	return os.WriteFile(f.ClientKey+".pub", ssh.MarshalAuthorizedKey(signer.PublicKey()), 0o644)
}

func (f *Fleet) writeKnownHosts() error {
	var b strings.Builder
	for _, vm := range f.VMs {
		fmt.Fprintf(&b, "[127.0.0.1]:%d %s", vm.Port, ssh.MarshalAuthorizedKey(vm.HostKey))
	}
	f.KnownHosts = filepath.Join(f.Dir, "known_hosts")
	return os.WriteFile(f.KnownHosts, []byte(b.String()), 0o644)
}

func (f *Fleet) writeInventory() error {
	var b strings.Builder
	fmt.Fprintf(&b, "# kpx vmfleet: %d qemu VMs running Linux %s\n[%s]\n", len(f.VMs), f.Kernel.Release, f.Group)
	for _, vm := range f.VMs {
		fmt.Fprintf(&b, "%s ansible_host=127.0.0.1 ansible_port=%d\n", vm.Name, vm.Port)
	}
	// Emulated CPUs on a busy machine make an SSH handshake take many seconds.
	fmt.Fprintf(&b, "\n[%s:vars]\nansible_user=root\nansible_ssh_timeout=180\n", f.Group)
	fmt.Fprintf(&b, "ansible_ssh_private_key_file=%s\n", f.ClientKey)
	fmt.Fprintf(&b, "ansible_ssh_common_args='-o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes'\n", f.KnownHosts)
	f.Inventory = filepath.Join(f.Dir, "inventory.ini")
	return os.WriteFile(f.Inventory, []byte(b.String()), 0o644)
}

// newKey generates an ed25519 key: its OpenSSH PEM and a signer.
func newKey(comment string) ([]byte, ssh.Signer, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	block, err := ssh.MarshalPrivateKey(priv, comment)
	if err != nil {
		return nil, nil, err
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(block), signer, nil
}
