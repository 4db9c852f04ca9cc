package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/spf13/pflag"

	"github.com/kpxdev/kpx/rollout"
	"github.com/kpxdev/kpx/rollout/etcdjournal"
)

// journalOptions say where run journals are kept: the local directory (the default) or
// an etcd cluster shared by several controllers.
type journalOptions struct {
	url string // "" or file: the local directory; etcd://host:2379[,host:2379]/prefix
	tls etcdjournal.TLSFiles
}

// addJournalBackendFlags adds --journal and the TLS files of an etcd journal, named as
// etcdctl names them.
func addJournalBackendFlags(f *pflag.FlagSet, o *journalOptions) {
	f.StringVar(&o.url, "journal", os.Getenv("KPX_JOURNAL"), "where run journals and host locks are kept: the state directory (default), or etcd://host:2379[,host:2379]/prefix shared by several controllers (also $KPX_JOURNAL)")
	f.StringVar(&o.tls.CACert, "journal-cacert", os.Getenv("KPX_JOURNAL_CACERT"), "CA bundle to verify the etcd members' certificates")
	f.StringVar(&o.tls.Cert, "journal-cert", os.Getenv("KPX_JOURNAL_CERT"), "client certificate for etcd (with --journal-key)")
	f.StringVar(&o.tls.Key, "journal-key", os.Getenv("KPX_JOURNAL_KEY"), "client key for etcd")
}

func (o journalOptions) etcd() bool {
	return strings.HasPrefix(o.url, "etcd://") || strings.HasPrefix(o.url, "etcds://")
}

// journalWatch connects an etcd journal's outage and lost-lock reports with the run: an
// outage interrupts it (no new wave; the current one ends as --on-interrupt says), lost
// locks stop it at once.
type journalWatch struct {
	stderr io.Writer

	mu       sync.Mutex
	runner   *rollout.Runner
	lost     chan struct{}
	lostOnce sync.Once
}

func newJournalWatch(stderr io.Writer) *journalWatch {
	return &journalWatch{stderr: stderr, lost: make(chan struct{})}
}

func (w *journalWatch) setRunner(r *rollout.Runner) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.runner = r
}

func (w *journalWatch) interrupt() {
	w.mu.Lock()
	r := w.runner
	w.mu.Unlock()
	if r != nil {
		r.Interrupt()
	}
}

func (w *journalWatch) outage(err error) {
	fmt.Fprintf(w.stderr, "kpx: the etcd journal is unreachable (%v): no new wave starts; the current one finishes or rolls back as --on-interrupt says; events go on in the local copy\n", err)
	w.interrupt()
}

func (w *journalWatch) lockLost(err error) {
	w.lostOnce.Do(func() {
		fmt.Fprintf(w.stderr, "kpx: %v: stopping at once; nothing more is done to the hosts\n", err)
		close(w.lost)
	})
	w.interrupt()
}

// guard runs do with a context that ends when the locks are lost.
func (w *journalWatch) guard(do func(context.Context) (rollout.RunFinished, error)) func(context.Context) (rollout.RunFinished, error) {
	return func(ctx context.Context) (rollout.RunFinished, error) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go func() {
			select {
			case <-w.lost:
				cancel()
			case <-ctx.Done():
			}
		}()
		return do(ctx)
	}
}

// openJournalBackend opens where journals are kept. watch may be nil (kpx runs, unlock).
func openJournalBackend(o runOptions, watch *journalWatch) (rollout.JournalBackend, error) {
	if !o.journal.etcd() {
		if o.journal.url != "" && o.journal.url != "file" {
			return nil, fmt.Errorf("--journal %q: give etcd://host:2379[,host:2379]/prefix, or nothing for the state directory", o.journal.url)
		}
		store, err := journalStore(o.stateDir)
		if err != nil {
			return nil, err
		}
		return rollout.FileBackend{Store: store}, nil
	}
	eo, err := etcdjournal.ParseURL(o.journal.url, o.journal.tls)
	if err != nil {
		return nil, err
	}
	store, err := journalStore(o.stateDir)
	if err != nil {
		return nil, err
	}
	eo.LocalDir = filepath.Join(filepath.Dir(store.Dir), "etcd-copies")
	if watch != nil {
		eo.OnOutage, eo.OnLockLost = watch.outage, watch.lockLost
	}
	return etcdjournal.New(eo)
}

// journalStatus is what went wrong with a shared journal during the run, if anything.
func journalStatus(j rollout.Journal) string {
	if s, ok := j.(interface{ Status() string }); ok {
		return s.Status()
	}
	return ""
}

// lockHosts locks, before a resume or rollback touches anything, every host the run's
// journal says it targets, when the journal is shared.
func lockHosts(j rollout.Journal, hosts []string) error {
	l, ok := j.(rollout.HostLocker)
	if !ok || len(hosts) == 0 {
		return nil
	}
	return l.LockHosts(hosts)
}

// journalExit turns a shared journal's trouble into the command's error when the run
// itself would have ended well.
func journalExit(err error, j rollout.Journal, stderr io.Writer) error {
	status := journalStatus(j)
	if status == "" {
		return err
	}
	fmt.Fprintf(stderr, "kpx: %s\n", status)
	var ec exitCoder
	if err == nil || (errors.As(err, &ec) && ec.ExitCode() == ExitOK) {
		return exitError{code: ExitError, msg: "the shared journal failed during the run: " + status}
	}
	return err
}
