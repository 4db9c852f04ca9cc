// Package etcdjournal keeps kpx's run journals and host locks in etcd, so that several
// controllers share them: a run started on one machine can be resumed or rolled back from
// another, and two runs never touch the same host at once. It implements
// rollout.JournalBackend, rollout.HostLocker and rollout.RunRegistry; docs/JOURNAL.md
// describes the keys it writes.
package etcdjournal

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"
)

// Options configure a Backend.
type Options struct {
	Endpoints []string // host:port of the cluster's members
	Prefix    string   // every key kpx writes starts with it ("/kpx" unless set)
	// TLS, when set, is used to reach the members (client certificates, CA).
	TLS *tls.Config
	// LeaseTTL is how long a controller's locks outlive it (15s unless set).
	LeaseTTL time.Duration
	// Timeout bounds each request, retries included (5s unless set): past it, the
	// cluster counts as unreachable.
	Timeout time.Duration
	// LocalDir keeps a local copy of each run's events, as JSON lines: RUN.jsonl. When
	// the cluster cannot be reached, events go on there.
	LocalDir string
	// User and Machine say who the controller is, for the holders of locks.
	User, Machine string
	// OnOutage is called once when the cluster stops answering during a run: no new wave
	// may start (the caller interrupts the run). OnLockLost is called once when the
	// locks cannot be proven any more (lease expired, or unreachable longer than it
	// lasts): nothing more may be done to the hosts.
	OnOutage, OnLockLost func(error)
}

// URLError is a --journal URL that cannot be used.
type URLError struct {
	URL string
	Msg string
}

func (e *URLError) Error() string { return fmt.Sprintf("--journal %s: %s", e.URL, e.Msg) }

// TLSFiles are the PEM files of a client's TLS configuration, as etcdctl takes them.
type TLSFiles struct{ CACert, Cert, Key string }

func (f TLSFiles) any() bool { return f.CACert != "" || f.Cert != "" || f.Key != "" }

// ParseURL reads etcd://host:2379[,host2:2379]/prefix (etcds:// for TLS with the system's
// CAs). The query may give cacert, cert, key (files), lease-ttl and timeout (durations);
// files not empty override the query's.
func ParseURL(raw string, files TLSFiles) (Options, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok || (scheme != "etcd" && scheme != "etcds") {
		return Options{}, &URLError{URL: raw, Msg: "want etcd://host:port[,host:port]/prefix"}
	}
	// net/url takes one host: the comma list is cut off before the rest is parsed.
	hosts := rest
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		hosts, rest = rest[:i], rest[i:]
	} else {
		rest = ""
	}
	u, err := url.Parse("etcd://x" + rest)
	if err != nil {
		return Options{}, &URLError{URL: raw, Msg: err.Error()}
	}
	var o Options
	for _, ep := range strings.Split(hosts, ",") {
		if ep = strings.TrimSpace(ep); ep != "" {
			if !strings.Contains(ep, ":") {
				ep += ":2379"
			}
			o.Endpoints = append(o.Endpoints, ep)
		}
	}
	if len(o.Endpoints) == 0 {
		return Options{}, &URLError{URL: raw, Msg: "no endpoint"}
	}
	o.Prefix = strings.TrimSuffix(u.Path, "/")
	if o.Prefix == "" {
		o.Prefix = "/kpx"
	}
	q := u.Query()
	for name, dst := range map[string]*time.Duration{"lease-ttl": &o.LeaseTTL, "timeout": &o.Timeout} {
		if v := q.Get(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return Options{}, &URLError{URL: raw, Msg: fmt.Sprintf("%s=%q: want a duration such as 10s", name, v)}
			}
			*dst = d
		}
	}
	if o.LeaseTTL != 0 && o.LeaseTTL < 2*time.Second {
		return Options{}, &URLError{URL: raw, Msg: "lease-ttl must be at least 2s"}
	}
	fromQuery := TLSFiles{CACert: q.Get("cacert"), Cert: q.Get("cert"), Key: q.Get("key")}
	if files.CACert == "" {
		files.CACert = fromQuery.CACert
	}
	if files.Cert == "" {
		files.Cert = fromQuery.Cert
	}
	if files.Key == "" {
		files.Key = fromQuery.Key
	}
	if scheme == "etcds" || files.any() {
		o.TLS, err = files.config()
		if err != nil {
			return Options{}, &URLError{URL: raw, Msg: err.Error()}
		}
	}
	return o, nil
}

// config builds the TLS configuration: the CA file (else the system's roots), and the
// client certificate when both cert and key are given.
func (f TLSFiles) config() (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if f.CACert != "" {
		pem, err := os.ReadFile(f.CACert)
		if err != nil {
			return nil, fmt.Errorf("cacert: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("cacert %s: no PEM certificate in it", f.CACert)
		}
		c.RootCAs = pool
	}
	switch {
	case f.Cert != "" && f.Key != "":
		cert, err := tls.LoadX509KeyPair(f.Cert, f.Key)
		if err != nil {
			return nil, fmt.Errorf("client certificate: %w", err)
		}
		c.Certificates = []tls.Certificate{cert}
	case f.Cert != "" || f.Key != "":
		return nil, errors.New("give both cert and key (or neither)")
	}
	return c, nil
}
