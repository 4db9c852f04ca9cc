// Package simfleet runs a simulated fleet inside the current process, for `kpx demo` and for
// scale benchmarks: every simulated host is an SSH server (golang.org/x/crypto/ssh) with an
// SFTP subsystem (github.com/pkg/sftp) listening on its own 127.0.0.1 port, with its own
// ed25519 host key. Commands run in a real /bin/sh whose home and working directory are the
// host's sandbox directory, with the host's environment; exec, shell and `subsystem sftp`
// requests, stdin, signals and exit statuses behave as with OpenSSH.
//
// Start writes, under the fleet's directory, the client key, a known_hosts file holding
// every host key and an Ansible INI inventory (groups, ansible_host, ansible_port,
// ansible_user, ansible_ssh_private_key_file and the known_hosts file), so kpx reaches the
// fleet exactly as it reaches real hosts, verifying host keys as usual.
//
// It is not a substitute for OpenSSH in tests of kpx's transport (internal/testfleet runs
// real sshd daemons for those); it is cheap enough to simulate thousands of hosts.
package simfleet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// Group is an inventory group: its hosts in order, child groups and group variables
// (values written to the INI file as given).
type Group struct {
	Name     string
	Hosts    []string
	Children []string
	Vars     map[string]string
}

// PrepareFunc prepares one host before it serves: it may populate the host's sandbox
// (h.Dir) and returns environment variables for the host's commands (they override the
// defaults, PATH included). It runs once per host, concurrently for different hosts.
type PrepareFunc func(ctx context.Context, h *Host) (map[string]string, error)

// Options configure a fleet.
type Options struct {
	// Groups lay out the fleet: every host named in a group is simulated (a host may be in
	// several groups). When empty, Hosts hosts named host0001... form the group "fleet".
	Groups []Group
	Hosts  int
	// Dir holds everything the fleet writes; a new temporary directory when empty (removed
	// by Close). A given Dir is kept.
	Dir string
	// Prepare, if set, prepares every host's sandbox and environment.
	Prepare PrepareFunc
	// Shell runs commands; /bin/sh when empty.
	Shell string
	// HandshakeTimeout bounds a client's SSH handshake with a host; 0 means 30s.
	HandshakeTimeout time.Duration
	// SSHArgs are more OpenSSH options for the inventory's ansible_ssh_common_args (for
	// example "-o ServerAliveInterval=60" for a loaded benchmark machine).
	SSHArgs string
	// Concurrency bounds how many hosts are prepared and started at once; 0 means 64.
	Concurrency int
	// ClientKey is the path of the client's private key the hosts accept (an unencrypted
	// ed25519 key, as GenerateClientKey writes), so that fleets in several processes can
	// share one inventory; a new key is generated in Dir when empty.
	ClientKey string
}

// Fleet is a running simulated fleet. Close stops it.
type Fleet struct {
	Dir        string // the fleet's directory
	User       string // login user written to the inventory (the current user)
	ClientKey  string // path of the client's private key (OpenSSH PEM, no passphrase)
	KnownHosts string // known_hosts with one [127.0.0.1]:port line per host
	Inventory  string // Ansible INI inventory describing the fleet
	Groups     []Group
	Hosts      []*Host

	shell     string
	clientKey ssh.PublicKey
	byName    map[string]*Host
	tempDir   bool
	timeout   time.Duration
	sshArgs   string

	ctx    context.Context // ends when the fleet closes: kills every command
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

// Start starts a fleet. On error, whatever was started is stopped again.
func Start(ctx context.Context, opts Options) (*Fleet, error) {
	f, err := newFleet(opts)
	if err != nil {
		return nil, err
	}
	if err := f.start(ctx, opts); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func newFleet(opts Options) (*Fleet, error) {
	groups := opts.Groups
	if len(groups) == 0 {
		if opts.Hosts < 1 {
			return nil, errors.New("simfleet: no hosts: set Options.Groups or Options.Hosts")
		}
		groups = []Group{{Name: "fleet", Hosts: HostNames("host", opts.Hosts)}}
	}
	if err := validateGroups(groups); err != nil {
		return nil, err
	}
	u, err := user.Current()
	if err != nil {
		return nil, fmt.Errorf("simfleet: current user: %w", err)
	}
	f := &Fleet{Dir: opts.Dir, User: u.Username, Groups: groups, shell: opts.Shell,
		byName: map[string]*Host{}, conns: map[net.Conn]struct{}{}, timeout: opts.HandshakeTimeout, sshArgs: opts.SSHArgs}
	if f.shell == "" {
		f.shell = "/bin/sh"
	}
	if f.timeout <= 0 {
		f.timeout = 30 * time.Second
	}
	if f.Dir == "" {
		if f.Dir, err = os.MkdirTemp("", "kpx-simfleet-"); err != nil {
			return nil, fmt.Errorf("simfleet: %w", err)
		}
		f.tempDir = true
	} else if err := os.MkdirAll(f.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("simfleet: %w", err)
	}
	f.ctx, f.cancel = context.WithCancel(context.Background())
	for _, g := range groups {
		for _, name := range g.Hosts {
			if f.byName[name] == nil {
				h := &Host{Name: name, Addr: "127.0.0.1", Dir: filepath.Join(f.Dir, "hosts", name), fleet: f}
				f.byName[name] = h
				f.Hosts = append(f.Hosts, h)
			}
		}
	}
	return f, nil
}

// HostNames returns n names prefix0001, prefix0002, ... (at least four digits): the names
// a fleet of n hosts without Groups has.
func HostNames(prefix string, n int) []string {
	width := len(fmt.Sprint(n))
	if width < 4 {
		width = 4
	}
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("%s%0*d", prefix, width, i+1)
	}
	return names
}

func (f *Fleet) start(ctx context.Context, opts Options) error {
	signer, err := f.clientSigner(opts.ClientKey)
	if err != nil {
		return err
	}
	f.clientKey = signer.PublicKey()
	n := opts.Concurrency
	if n <= 0 {
		n = 64
	}
	sem := make(chan struct{}, n)
	errs := make(chan error, len(f.Hosts))
	var wg sync.WaitGroup
	for _, h := range f.Hosts {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := h.start(ctx, opts.Prepare); err != nil {
				errs <- fmt.Errorf("simfleet: host %s: %w", h.Name, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := errors.Join(collect(errs)...); err != nil {
		return err
	}
	if err := f.writeKnownHosts(); err != nil {
		return err
	}
	return f.writeInventory()
}

func collect(ch <-chan error) []error {
	var errs []error
	for err := range ch {
		errs = append(errs, err)
	}
	return errs
}

// Host returns the host of that name, or nil.
func (f *Fleet) Host(name string) *Host { return f.byName[name] }

// track records a live connection so Close can end it; false when the fleet is closed.
func (f *Fleet) track(c net.Conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return false
	}
	f.conns[c] = struct{}{}
	return true
}

func (f *Fleet) untrack(c net.Conn) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.conns, c)
}

// Close stops every host: listeners close, connections drop, running commands are killed
// (their whole process group), and Close returns once every goroutine of the fleet has
// ended. A temporary directory made by Start is removed. Close is idempotent.
func (f *Fleet) Close() error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil
	}
	f.closed = true
	conns := make([]net.Conn, 0, len(f.conns))
	for c := range f.conns {
		conns = append(conns, c)
	}
	f.mu.Unlock()
	f.cancel()
	for _, h := range f.Hosts {
		h.closeListener()
	}
	for _, c := range conns {
		c.Close()
	}
	f.wg.Wait()
	if f.tempDir {
		return os.RemoveAll(f.Dir)
	}
	return nil
}
