package vmfleet

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// NICModel is the network card qemu gives each VM; its driver goes into the initramfs.
const NICModel = "e1000"

// guestInit is the VMs' /init: busybox applets, the kernel's filesystems, the NIC driver,
// a static address on qemu's user network (10.0.2.15, gateway 10.0.2.2), then sshd.
const guestInit = `#!/bin/busybox sh
/bin/busybox mkdir -p /bin /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mkdir -p /proc /sys /dev /tmp /run/sshd /var/log /root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
chmod 1777 /tmp
hostname -F /etc/hostname
while read -r m; do insmod "/lib/modules/$m" || echo "init: insmod $m failed" >/dev/console; done </etc/kpx-modules
ip link set lo up
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2
/usr/sbin/sshd -E /var/log/sshd.log || echo "init: sshd failed" >/dev/console
echo "kpx-vm: sshd started" >/dev/console
while :; do sleep 3600; done
`

const sshdConfig = `Port 22
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
AuthorizedKeysFile .ssh/authorized_keys
Subsystem sftp /usr/lib/openssh/sftp-server
PidFile /run/sshd.pid
MaxSessions 64
MaxStartups 100
`

const passwd = `root:x:0:0:root:/root:/bin/sh
sshd:x:100:65534::/run/sshd:/bin/false
`

const group = `root:x:0:
nogroup:x:65534:
`

// sshdBinaries are copied into the initramfs with the libraries ldd names.
var sshdBinaries = []string{"/usr/sbin/sshd", "/usr/lib/openssh/sftp-server"}

// buildBase writes the part of the initramfs every VM shares (a gzip'd newc cpio):
// busybox, sshd and sftp-server with their libraries, the NIC driver and /init.
func buildBase(ctx context.Context, k *Kernel, dir, out string) error {
	root := filepath.Join(dir, "base")
	if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	if err := copyFile("/bin/busybox", filepath.Join(root, "bin/busybox"), 0o755); err != nil {
		return fmt.Errorf("busybox (install busybox-static): %w", err)
	}
	if out, err := exec.CommandContext(ctx, "ldd", "/bin/busybox").CombinedOutput(); err == nil {
		return fmt.Errorf("/bin/busybox is dynamically linked (install busybox-static): %s", bytes.TrimSpace(out))
	}
	for _, b := range sshdBinaries {
		if err := copyWithLibs(ctx, b, root); err != nil {
			return err
		}
	}
	mods, err := k.ModuleFiles(NICModel)
	if err != nil {
		return err
	}
	var list strings.Builder
	for _, m := range mods {
		name := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(m), ".xz"), ".zst")
		if err := copyModule(ctx, filepath.Join(k.Modules, m), filepath.Join(root, "lib/modules", name)); err != nil {
			return err
		}
		list.WriteString(name + "\n")
	}
	files := map[string]string{"init": guestInit, "etc/kpx-modules": list.String(), "etc/ssh/sshd_config": sshdConfig,
		"etc/passwd": passwd, "etc/group": group}
	for name, content := range files {
		mode := os.FileMode(0o644)
		if name == "init" {
			mode = 0o755
		}
		if err := writeFile(filepath.Join(root, name), content, mode); err != nil {
			return err
		}
	}
	for _, d := range []string{"proc", "sys", "dev", "tmp", "run/sshd", "var/log", "root"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return err
		}
	}
	if err := os.Chmod(filepath.Join(root, "root"), 0o700); err != nil {
		return err
	}
	return packCPIO(ctx, root, out)
}

// buildHostPart writes one VM's own initramfs part: its host key, hostname and the
// authorized client key. The kernel unpacks it over the base (concatenated archives).
func buildHostPart(ctx context.Context, dir, out, name string, hostKeyPEM, authorized []byte) error {
	root := filepath.Join(dir, "host-"+name)
	if err := writeFile(filepath.Join(root, "etc/ssh/ssh_host_ed25519_key"), string(hostKeyPEM), 0o600); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(root, "etc/hostname"), name+"\n", 0o644); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(root, "root/.ssh/authorized_keys"), string(authorized), 0o600); err != nil {
		return err
	}
	for d, m := range map[string]os.FileMode{"root": 0o700, "root/.ssh": 0o700, "etc/ssh": 0o755} {
		if err := os.Chmod(filepath.Join(root, d), m); err != nil {
			return err
		}
	}
	return packCPIO(ctx, root, out)
}

// packCPIO archives dir as a gzip'd newc cpio owned by root, as the kernel unpacks it.
func packCPIO(ctx context.Context, dir, out string) error {
	cmd := exec.CommandContext(ctx, "sh", "-c", `cd "$1" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -1 >"$2"`, "sh", dir, out)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("packing %s (cpio, gzip): %v: %s", dir, err, bytes.TrimSpace(b))
	}
	return nil
}

var lddPath = regexp.MustCompile(`(?m)(/\S+) \(0x[0-9a-f]+\)$`)

// copyWithLibs copies an executable and the shared libraries ldd lists to the same
// paths under root.
func copyWithLibs(ctx context.Context, bin, root string) error {
	if err := copyFile(bin, filepath.Join(root, bin), 0o755); err != nil {
		return fmt.Errorf("%s (install openssh-server): %w", bin, err)
	}
	out, err := exec.CommandContext(ctx, "ldd", bin).Output()
	if err != nil {
		return fmt.Errorf("ldd %s: %w", bin, err)
	}
	for _, m := range lddPath.FindAllStringSubmatch(string(out), -1) {
		if err := copyFile(m[1], filepath.Join(root, m[1]), 0o755); err != nil {
			return fmt.Errorf("library of %s: %w", bin, err)
		}
	}
	return nil
}

// copyModule copies a kernel module, decompressing .ko.xz and .ko.zst (busybox's insmod
// loads plain .ko files).
func copyModule(ctx context.Context, src, dst string) error {
	var tool string
	switch filepath.Ext(src) {
	case ".xz":
		tool = "xz"
	case ".zst":
		tool = "zstd"
	default:
		return copyFile(src, dst, 0o644)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	b, err := exec.CommandContext(ctx, tool, "-dc", src).Output()
	if err != nil {
		return fmt.Errorf("decompressing %s with %s: %w", src, tool, err)
	}
	return os.WriteFile(dst, b, 0o644)
}

// copyFile copies src (following symlinks) to dst with mode, creating dst's directory.
func copyFile(src, dst string, mode os.FileMode) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dst, b, mode)
}

func writeFile(p, content string, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		return err
	}
	return os.Chmod(p, mode)
}
