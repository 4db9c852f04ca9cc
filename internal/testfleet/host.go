package testfleet

import (
	"bufio"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// readyTimeout bounds how long a daemon may take to accept its first connection. It is
// generous: tests must pass on a loaded 2-core machine.
const readyTimeout = 20 * time.Second

func newHost(fleetDir, name string) (*Host, error) {
	dir := filepath.Join(fleetDir, name)
	h := &Host{Name: name, Addr: "127.0.0.1", dir: dir, StateDir: filepath.Join(dir, "state")}
	if err := os.MkdirAll(h.StateDir, 0o755); err != nil {
		return nil, err
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	block, err := ssh.MarshalPrivateKey(priv, name)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "ssh_host_ed25519_key"), pem.EncodeToMemory(block), 0o600); err != nil {
		return nil, err
	}
	if h.HostKey, err = ssh.NewPublicKey(pub); err != nil {
		return nil, err
	}
	h.Log = filepath.Join(dir, "sshd.log")
	return h, nil
}

// start launches the host's sshd on a free port, retrying with another port when the one
// picked was taken between choosing it and sshd binding it.
func (h *Host) start(sshd string, f *Fleet, opts Options) error {
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := freePort(h.Addr)
		if err != nil {
			return err
		}
		h.Port = port
		if err := h.writeConfig(f, opts); err != nil {
			return err
		}
		argv := append(append([]string{}, f.wrap...), sshd, "-D", "-f", h.configPath(), "-E", h.Log)
		d, err := startDaemon(argv[0], argv[1:]...)
		if err != nil {
			return err
		}
		h.proc = d
		if lastErr = h.waitReady(); lastErr == nil {
			return nil
		}
		d.kill()
		h.proc = nil
		if !strings.Contains(h.logTail(), "Address already in use") {
			break
		}
	}
	return lastErr
}

func (h *Host) stop() {
	if h.proc != nil {
		h.proc.kill()
	}
}

func (h *Host) configPath() string { return filepath.Join(h.dir, "sshd_config") }

func (h *Host) writeConfig(f *Fleet, opts Options) error {
	lines := append([]string{}, opts.Override...)
	lines = append(lines,
		fmt.Sprintf("ListenAddress %s:%d", h.Addr, h.Port),
		"HostKey "+filepath.Join(h.dir, "ssh_host_ed25519_key"),
		"PidFile "+filepath.Join(h.dir, "sshd.pid"),
		"AuthorizedKeysFile "+f.ClientKey+".pub",
		"PubkeyAuthentication yes",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"PermitRootLogin prohibit-password",
		"UsePAM no",
		"StrictModes no",
		"PrintMotd no",
		"PrintLastLog no",
		"X11Forwarding no",
		"AllowTcpForwarding yes",
		"LogLevel INFO",
		fmt.Sprintf("MaxSessions %d", opts.MaxSessions),
		"MaxStartups "+opts.MaxStartups,
		"AcceptEnv LANG LC_* KPX_*",
		h.setEnv(),
		"Subsystem sftp internal-sftp",
	)
	lines = append(lines, opts.ExtraConfig...)
	return os.WriteFile(h.configPath(), []byte(strings.Join(lines, "\n")+"\n"), 0o644)
}

// waitReady waits until the daemon answers with an SSH banner, or reports why it did not.
func (h *Host) waitReady() error {
	deadline := time.Now().Add(readyTimeout)
	for time.Now().Before(deadline) {
		if h.proc.exited() {
			return fmt.Errorf("sshd exited: %s", h.logTail())
		}
		if banner, err := readBanner(h.Endpoint()); err == nil {
			if strings.HasPrefix(banner, "SSH-2.0-") {
				return nil
			}
			return fmt.Errorf("unexpected banner %q on %s", banner, h.Endpoint())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("sshd not answering on %s after %s: %s", h.Endpoint(), readyTimeout, h.logTail())
}

func (h *Host) logTail() string {
	b, err := os.ReadFile(h.Log)
	if err != nil {
		return "(no log)"
	}
	s := strings.TrimSpace(string(b))
	if len(s) > 2000 {
		s = s[len(s)-2000:]
	}
	if s == "" {
		return "(empty log)"
	}
	return s
}

func readBanner(addr string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
		return "", err
	}
	return strings.TrimSpace(line), nil
}

func freePort(addr string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(addr, "0"))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// setEnv is the host's single SetEnv line (sshd uses only the first): its name, state
// directory and Options.HostEnv's variables, quoted for sshd_config.
func (h *Host) setEnv() string {
	vars := map[string]string{"KPX_HOST_NAME": h.Name, "KPX_HOST_DIR": h.StateDir}
	for k, v := range h.Env {
		vars[k] = v
	}
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("SetEnv")
	for _, k := range keys {
		fmt.Fprintf(&b, " \"%s=%s\"", k, strings.ReplaceAll(vars[k], `"`, `\"`))
	}
	return b.String()
}
