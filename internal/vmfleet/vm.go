package vmfleet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
)

// VM is one qemu virtual machine of the fleet.
type VM struct {
	Name    string
	Port    int           // 127.0.0.1:Port is forwarded to the VM's sshd
	HostKey ssh.PublicKey // the host key generated for the VM
	Console string        // file receiving the VM's serial console
	Initrd  string

	cmd    *exec.Cmd
	exited chan struct{}
	kernel *Kernel
	memMB  int
	client *ssh.Client
}

// newVM generates the VM's host key and its initramfs (the shared base with the VM's own
// part appended: the kernel unpacks concatenated archives in order).
func newVM(ctx context.Context, dir, name, base string, authorized []byte) (*VM, error) {
	keyPEM, signer, err := newKey("kpx vmfleet host " + name)
	if err != nil {
		return nil, err
	}
	vm := &VM{Name: name, HostKey: signer.PublicKey(), Console: filepath.Join(dir, name+".console"),
		Initrd: filepath.Join(dir, name+".initrd")}
	part := filepath.Join(dir, name+".cpio.gz")
	if err := buildHostPart(ctx, dir, part, name, keyPEM, authorized); err != nil {
		return nil, fmt.Errorf("%s: initramfs: %w", name, err)
	}
	b1, err := os.ReadFile(base)
	if err != nil {
		return nil, err
	}
	b2, err := os.ReadFile(part)
	if err != nil {
		return nil, err
	}
	return vm, os.WriteFile(vm.Initrd, append(b1, b2...), 0o600)
}

// boot starts qemu (niced: the VMs must not starve the machine) with 127.0.0.1:port
// forwarded to the VM's sshd.
func (vm *VM) boot(k *Kernel, memMB, port int) error {
	vm.Port = port
	vm.kernel, vm.memMB = k, memMB
	args := []string{"-n", "10", "qemu-system-x86_64", "-accel", "tcg", "-machine", "pc", "-cpu", "qemu64",
		"-m", fmt.Sprint(memMB), "-smp", "1", "-nodefaults", "-no-user-config", "-display", "none",
		"-no-reboot", "-serial", "file:" + vm.Console,
		"-kernel", k.Image, "-initrd", vm.Initrd,
		"-append", "console=ttyS0 panic=-1 loglevel=4 no_timer_check mitigations=off kpx_vm=" + vm.Name,
		"-nic", fmt.Sprintf("user,model=%s,restrict=on,hostfwd=tcp:127.0.0.1:%d-:22", NICModel, port)}
	vm.cmd = exec.Command("nice", args...)
	vm.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	log, err := os.Create(vm.Console + ".qemu")
	if err != nil {
		return err
	}
	vm.cmd.Stdout, vm.cmd.Stderr = log, log
	if err := vm.cmd.Start(); err != nil {
		log.Close()
		return fmt.Errorf("%s: starting qemu: %w", vm.Name, err)
	}
	vm.exited = make(chan struct{})
	go func() { _ = vm.cmd.Wait(); log.Close(); close(vm.exited) }()
	return nil
}

// freePorts returns n distinct loopback TCP ports nobody listens on now (all are held
// open until every one is chosen, so the kernel cannot hand out one twice).
func freePorts(n int) ([]int, error) {
	var ports []int
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// portTaken says whether qemu exited because its forwarded port was taken meanwhile.
func (vm *VM) portTaken() bool {
	b, _ := os.ReadFile(vm.Console + ".qemu")
	return bytes.Contains(b, []byte("Could not set up host forwarding"))
}

// reboot starts the VM again after its qemu exited, on another port if it lost the
// port to another process; the previous console is kept next to the new one.
func (vm *VM) reboot() error {
	port := vm.Port
	if vm.portTaken() {
		ports, err := freePorts(1)
		if err != nil {
			return err
		}
		port = ports[0]
	}
	_ = os.Rename(vm.Console, fmt.Sprintf("%s.%d", vm.Console, time.Now().UnixNano()))
	return vm.boot(vm.kernel, vm.memMB, port)
}

// waitSSH polls the VM's sshd until it accepts the client key with the VM's host key.
func (vm *VM) waitSSH(ctx context.Context, signer ssh.Signer) error {
	cfg := &ssh.ClientConfig{User: "root", Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: ssh.FixedHostKey(vm.HostKey), Timeout: 20 * time.Second}
	var last error
	restarts := 0
	for {
		select {
		case <-vm.exited:
			// A boot that dies (a port taken meanwhile, a kernel panic of an emulated
			// machine starved of CPU) is retried a few times before it counts.
			if restarts < 3 {
				restarts++
				if err := vm.reboot(); err != nil {
					return err
				}
				continue
			}
			b, _ := os.ReadFile(vm.Console + ".qemu")
			return fmt.Errorf("%s: qemu exited before sshd answered (%d boots): %s\n%s", vm.Name, restarts+1, bytes.TrimSpace(b), vm.ConsoleTail(20))
		default:
		}
		c, err := ssh.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", vm.Port), cfg)
		if err == nil {
			vm.client = c
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: sshd on 127.0.0.1:%d did not answer: %v (%w)", vm.Name, vm.Port, last, ctx.Err())
		case <-time.After(2 * time.Second):
		}
	}
}

// Run runs a shell command on the VM as root (over the fleet's own SSH connection, not
// kpx's) and returns its standard output; a non-zero exit is an error with stderr.
func (vm *VM) Run(ctx context.Context, cmd string) (string, error) {
	if vm.client == nil {
		return "", errors.New(vm.Name + ": not connected")
	}
	s, err := vm.client.NewSession()
	if err != nil {
		return "", fmt.Errorf("%s: %w", vm.Name, err)
	}
	defer s.Close()
	var out, errb bytes.Buffer
	s.Stdout, s.Stderr = &out, &errb
	done := make(chan error, 1)
	go func() { done <- s.Run(cmd) }()
	select {
	case err = <-done:
	case <-ctx.Done():
		return "", fmt.Errorf("%s: %q: %w", vm.Name, cmd, ctx.Err())
	}
	if err != nil {
		return out.String(), fmt.Errorf("%s: %q: %w: %s", vm.Name, cmd, err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// ConsoleTail returns the last n lines of the VM's serial console.
func (vm *VM) ConsoleTail(n int) string {
	f, err := os.Open(vm.Console)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	b, _ := io.ReadAll(f)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// kill stops the VM's qemu and waits for it.
func (vm *VM) kill() {
	if vm.client != nil {
		vm.client.Close()
	}
	if vm.cmd == nil || vm.cmd.Process == nil {
		return
	}
	_ = vm.cmd.Process.Kill()
	select {
	case <-vm.exited:
	case <-time.After(30 * time.Second):
	}
}

// Running says whether the VM's qemu process is still running.
func (vm *VM) Running() bool {
	if vm.exited == nil {
		return false
	}
	select {
	case <-vm.exited:
		return false
	default:
		return true
	}
}
