package transport

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
	xknownhosts "golang.org/x/crypto/ssh/knownhosts"
)

// hostKeyPolicy verifies host keys against known_hosts for one Config.
type hostKeyPolicy struct {
	cfg      *Config
	log      *slog.Logger
	db       *knownhosts.HostKeyDB
	existing []string
}

// newHostKeyPolicy reads cfg's known_hosts files, through cache when not nil.
func newHostKeyPolicy(cfg *Config, log *slog.Logger, cache *knownHostsCache) (*hostKeyPolicy, error) {
	p := &hostKeyPolicy{cfg: cfg, log: log}
	db, existing, err := cache.load(cfg.KnownHostsFiles)
	if err != nil {
		return nil, fmt.Errorf("known_hosts: %w", err)
	}
	p.db, p.existing = db, existing
	return p, nil
}

// algorithms returns the host key algorithms known_hosts holds for the host, so that the
// server offers a key we can verify (nil lets x/crypto choose).
func (p *hostKeyPolicy) algorithms() []string {
	if p.cfg.strict() == StrictNo {
		return nil
	}
	return p.db.HostKeyAlgorithms(p.cfg.Endpoint())
}

// callback is the ssh.HostKeyCallback enforcing StrictHostKeyChecking.
func (p *hostKeyPolicy) callback(hostname string, remote net.Addr, key ssh.PublicKey) error {
	err := p.db.HostKeyCallback()(hostname, remote, key)
	if err == nil {
		return nil
	}
	var kerr *xknownhosts.KeyError
	if !errors.As(err, &kerr) {
		return err
	}
	fp := ssh.FingerprintSHA256(key)
	mode := p.cfg.strict()
	if mode == StrictNo {
		p.log.Warn("host key not verified (StrictHostKeyChecking=no)", "host", p.cfg.displayName(),
			"address", hostname, "key_type", key.Type(), "fingerprint", fp)
		return nil
	}
	herr := &HostKeyError{Host: p.cfg.Addr, Port: p.cfg.port(), KeyType: key.Type(), Fingerprint: fp,
		Changed: len(kerr.Want) > 0, Files: p.cfg.KnownHostsFiles}
	for _, w := range kerr.Want {
		herr.Offending = append(herr.Offending, w.Filename+":"+strconv.Itoa(w.Line))
	}
	if herr.Changed || mode != StrictAcceptNew {
		return herr
	}
	if err := p.record(hostname, key); err != nil {
		return fmt.Errorf("accept-new: recording the key of %s: %w", hostname, err)
	}
	p.log.Info("new host key recorded (StrictHostKeyChecking=accept-new)", "host", p.cfg.displayName(),
		"address", hostname, "key_type", key.Type(), "fingerprint", fp, "file", p.cfg.KnownHostsFiles[0])
	return nil
}

// record appends a known_hosts line for hostname ("host" on port 22, "[host]:port"
// otherwise) to the first known_hosts file. One write with O_APPEND keeps concurrent
// recorders from interleaving lines.
func (p *hostKeyPolicy) record(hostname string, key ssh.PublicKey) error {
	if len(p.cfg.KnownHostsFiles) == 0 {
		return errors.New("no known_hosts file configured")
	}
	file := p.cfg.KnownHostsFiles[0]
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	line := knownhosts.Line([]string{hostname}, key) + "\n"
	if _, err := f.WriteString(line); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
