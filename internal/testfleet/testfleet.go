// Package testfleet starts a fleet of real OpenSSH sshd processes on loopback addresses for
// tests: one daemon per simulated host, each on its own port with its own ed25519 host key
// and state directory, plus one client key, a known_hosts file holding every host key, and an
// Ansible INI inventory that describes the fleet.
//
// A fleet lives for one test (or one TestMain): Start registers its teardown with
// t.Cleanup, and the daemons are also killed if the test binary dies. When sshd is not
// installed, tests are skipped, except under CI=true, where they fail with the reason.
package testfleet

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// Options configure a fleet. The zero value starts one host.
type Options struct {
	// Hosts is the number of sshd daemons; at least 1.
	Hosts int
	// Group is the inventory group holding every host ("fleet" when empty).
	Group string
	// NamePrefix names hosts NamePrefix01, NamePrefix02, ... ("host" when empty).
	NamePrefix string
	// MaxSessions and MaxStartups are raised for scale tests (defaults 64 and "1000").
	MaxSessions int
	MaxStartups string
	// ExtraConfig lines are appended to every sshd_config.
	ExtraConfig []string
	// Override lines are placed before the defaults in every sshd_config: sshd keeps the
	// first value of a keyword, so they replace defaults (e.g. "PasswordAuthentication yes").
	Override []string
	// Dir is the fleet's working directory; a fresh t.TempDir() when empty.
	Dir string
	// HostEnv, when set, is called for each host before its daemon starts and returns
	// extra environment for the host's sessions (set by sshd's SetEnv next to
	// KPX_HOST_DIR), e.g. a simulated kernel's (internal/simkernel).
	HostEnv func(h *Host) (map[string]string, error)
}

// Fleet is a running set of sshd daemons and the client-side files that reach them.
type Fleet struct {
	Dir        string // working directory holding every file below
	User       string // login user (the user running the tests)
	ClientKey  string // path of the client's private key (OpenSSH format, no passphrase)
	Signer     ssh.Signer
	KnownHosts string // known_hosts with one [127.0.0.1]:port line per host
	Inventory  string // Ansible INI inventory describing the fleet
	Group      string
	Hosts      []*Host

	wrap []string // command prefix for each sshd (quietShell)
}

// Host is one sshd daemon of the fleet.
type Host struct {
	Name     string
	Addr     string // IP address the daemon listens on
	Port     int
	StateDir string            // exported to sessions as KPX_HOST_DIR
	Env      map[string]string // more environment for sessions (Options.HostEnv)
	HostKey  ssh.PublicKey
	Log      string // sshd's log file

	dir  string
	proc *daemon
}

// Endpoint returns "addr:port", ready for net.Dial.
func (h *Host) Endpoint() string { return fmt.Sprintf("%s:%d", h.Addr, h.Port) }

// KnownHostsName is the name OpenSSH records for the host in known_hosts.
func (h *Host) KnownHostsName() string { return fmt.Sprintf("[%s]:%d", h.Addr, h.Port) }

// SSHDPath returns the path of OpenSSH's sshd, or an error saying why it cannot be used.
func SSHDPath() (string, error) {
	for _, p := range []string{"/usr/sbin/sshd", "/usr/local/sbin/sshd"} {
		if fi, err := os.Stat(p); err == nil && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	if p, err := exec.LookPath("sshd"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("OpenSSH sshd not found (install openssh-server: make test-deps)")
}

// Require skips the test when the fleet cannot run here, or fails it under CI=true, where a
// silently skipped fleet would hide a broken set-up.
func Require(t testing.TB) {
	t.Helper()
	if _, err := SSHDPath(); err != nil {
		unavailable(t, err)
	}
}

func unavailable(t testing.TB, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("testfleet: %v (CI=true: the test fleet must run)", err)
	}
	t.Skipf("testfleet: %v", err)
}

// Start starts a fleet and registers its teardown with t.Cleanup.
func Start(t testing.TB, opts Options) *Fleet {
	t.Helper()
	f, err := start(t, opts)
	if err != nil {
		if f != nil {
			f.Stop()
		}
		if isUnavailable(err) {
			unavailable(t, err)
		}
		t.Fatalf("testfleet: %v", err)
	}
	t.Cleanup(f.Stop)
	return f
}

func start(t testing.TB, opts Options) (*Fleet, error) {
	sshd, err := SSHDPath()
	if err != nil {
		return nil, unavailableError{err}
	}
	if opts.Hosts < 1 {
		opts.Hosts = 1
	}
	if opts.Group == "" {
		opts.Group = "fleet"
	}
	if opts.NamePrefix == "" {
		opts.NamePrefix = "host"
	}
	if opts.MaxSessions == 0 {
		opts.MaxSessions = 64
	}
	if opts.MaxStartups == "" {
		opts.MaxStartups = "1000"
	}
	dir := opts.Dir
	if dir == "" {
		dir = t.TempDir()
	}
	u, err := user.Current()
	if err != nil {
		return nil, fmt.Errorf("current user: %w", err)
	}
	if os.Geteuid() == 0 {
		// sshd's privilege separation directory; Debian creates it only at boot.
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			return nil, fmt.Errorf("privilege separation dir: %w", err)
		}
	}

	f := &Fleet{Dir: dir, User: u.Username, Group: opts.Group}
	f.wrap = quietShell(dir, u.HomeDir)
	if err := f.writeClientKey(); err != nil {
		return nil, err
	}
	width := len(fmt.Sprint(opts.Hosts))
	if width < 2 {
		width = 2
	}
	for i := 1; i <= opts.Hosts; i++ {
		h, err := newHost(dir, fmt.Sprintf("%s%0*d", opts.NamePrefix, width, i))
		if err != nil {
			return f, err
		}
		f.Hosts = append(f.Hosts, h)
	}
	for _, h := range f.Hosts {
		if opts.HostEnv != nil {
			if h.Env, err = opts.HostEnv(h); err != nil {
				return f, fmt.Errorf("host %s: environment: %w", h.Name, err)
			}
		}
		if err := h.start(sshd, f, opts); err != nil {
			return f, fmt.Errorf("host %s: %w", h.Name, err)
		}
	}
	if err := f.writeKnownHosts(); err != nil {
		return f, err
	}
	if err := f.writeInventory(); err != nil {
		return f, err
	}
	return f, nil
}

// Stop kills every daemon of the fleet (and the sessions they serve). It is idempotent.
func (f *Fleet) Stop() {
	for _, h := range f.Hosts {
		h.stop()
	}
}

// Host returns the host of that name, or nil.
func (f *Fleet) Host(name string) *Host {
	for _, h := range f.Hosts {
		if h.Name == name {
			return h
		}
	}
	return nil
}

// SSHArgs returns arguments for OpenSSH's ssh client that reach h with the fleet's key and
// known_hosts, host key checking on, ignoring the user's own configuration.
func (f *Fleet) SSHArgs(h *Host) []string {
	return []string{
		"-F", "/dev/null",
		"-i", f.ClientKey,
		"-o", "IdentitiesOnly=yes",
		"-o", "BatchMode=yes",
		"-o", "UserKnownHostsFile=" + f.KnownHosts,
		"-o", "StrictHostKeyChecking=yes",
		"-o", "ConnectTimeout=10",
		"-p", fmt.Sprint(h.Port),
		"-l", f.User,
		h.Addr,
	}
}

func (f *Fleet) writeClientKey() error {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	block, err := ssh.MarshalPrivateKey(priv, "kpx test fleet client")
	if err != nil {
		return err
	}
	f.ClientKey = filepath.Join(f.Dir, "id_ed25519")
	if err := os.WriteFile(f.ClientKey, pem.EncodeToMemory(block), 0o600); err != nil {
		return err
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return err
	}
	if f.Signer, err = ssh.NewSignerFromKey(priv); err != nil {
		return err
	}
	return os.WriteFile(f.ClientKey+".pub", ssh.MarshalAuthorizedKey(sshPub), 0o644)
}

func (f *Fleet) writeKnownHosts() error {
	var b strings.Builder
	for _, h := range f.Hosts {
		fmt.Fprintf(&b, "%s %s", h.KnownHostsName(), ssh.MarshalAuthorizedKey(h.HostKey))
	}
	f.KnownHosts = filepath.Join(f.Dir, "known_hosts")
	return os.WriteFile(f.KnownHosts, []byte(b.String()), 0o644)
}

func (f *Fleet) writeInventory() error {
	var b strings.Builder
	fmt.Fprintf(&b, "# kpx test fleet: %d OpenSSH hosts on loopback\n[%s]\n", len(f.Hosts), f.Group)
	for _, h := range f.Hosts {
		fmt.Fprintf(&b, "%s ansible_host=%s ansible_port=%d\n", h.Name, h.Addr, h.Port)
	}
	fmt.Fprintf(&b, "\n[%s:vars]\n", f.Group)
	fmt.Fprintf(&b, "ansible_user=%s\n", f.User)
	fmt.Fprintf(&b, "ansible_ssh_private_key_file=%s\n", f.ClientKey)
	fmt.Fprintf(&b, "ansible_ssh_common_args='-o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes'\n", f.KnownHosts)
	f.Inventory = filepath.Join(f.Dir, "inventory.ini")
	return os.WriteFile(f.Inventory, []byte(b.String()), 0o644)
}

type unavailableError struct{ err error }

func (e unavailableError) Error() string { return e.err.Error() }
func (e unavailableError) Unwrap() error { return e.err }

func isUnavailable(err error) bool {
	_, ok := err.(unavailableError)
	return ok
}
