package etcdjournal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/kpxdev/kpx/rollout"
)

// maxOps bounds the operations of one transaction: etcd refuses more than
// --max-txn-ops (128 by default) in a branch.
const maxOps = 100

// Journal is one run's journal in etcd, written by this controller while it holds the
// run's lease. Events are buffered by Append and written by Sync in one transaction
// (split at maxOps), guarded by the lease: a controller that lost the run can write
// nothing more. Every event also goes to a local copy; when the cluster cannot be
// reached, events go on there only (fsynced), the run is told to stop (OnOutage) and no
// new host can be locked.
type Journal struct {
	b      *Backend
	id     string
	holder rollout.Holder
	lease  clientv3.LeaseID
	ttl    time.Duration

	mu      sync.Mutex // Append, Sync, LockHosts, Close
	seq     int64
	pending []record // appended, not yet in etcd
	unsent  []record // appended while the cluster was unreachable: in the local copy only
	locked  map[string]bool
	local   *os.File
	closed  bool
	created bool // by Create: a run that journals nothing leaves no trace

	flagMu   sync.Mutex
	degraded error     // why the cluster is taken as unreachable; nil while it answers
	since    time.Time // when it stopped answering
	lost     error     // why the locks are lost; nil while they hold

	lastRenew atomic.Int64 // unix nanoseconds of the last lease renewal
	stop      chan struct{}
	stopped   chan struct{}
	kaCancel  context.CancelFunc
}

type record struct {
	key  string
	line []byte
}

// ID is the run's id.
func (j *Journal) ID() string { return j.id }

// LocalCopy is the file that keeps a copy of the events ("" when Options.LocalDir is).
func (j *Journal) LocalCopy() string {
	if j.local == nil {
		return ""
	}
	return j.local.Name()
}

func (j *Journal) openLocal() error {
	if j.b.opts.LocalDir == "" {
		return nil
	}
	if err := os.MkdirAll(j.b.opts.LocalDir, 0o700); err != nil {
		return fmt.Errorf("journal local copy: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(j.b.opts.LocalDir, j.id+".jsonl"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("journal local copy: %w", err)
	}
	j.local = f
	return nil
}

// Append journals ev. An event that starts work on hosts (a wave running, a batch, a
// rollback, a host's task) first locks the hosts this run does not hold yet; when they
// cannot be locked, ev is not journaled and the error says why (*rollout.LockConflictError,
// rollout.ErrLockLost, or the cluster unreachable).
func (j *Journal) Append(ev rollout.Event) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return errors.New("journal: closed")
	}
	if rs, ok := ev.(rollout.RunStarted); ok {
		if err := j.checkFree(rs.Hosts); err != nil {
			return err
		}
	}
	if hosts := hostsTouched(ev); len(hosts) > 0 {
		if err := j.lockLocked(hosts); err != nil {
			return err
		}
	}
	line, err := rollout.EncodeEvent(j.seq, time.Now(), ev)
	if err != nil {
		return err
	}
	if j.local != nil {
		if _, err := j.local.Write(append(line, '\n')); err != nil {
			return fmt.Errorf("journal local copy: %w", err)
		}
	}
	j.pending = append(j.pending, record{key: j.b.eventKey(j.id, j.seq), line: line})
	j.seq++
	return nil
}

// hostsTouched are the hosts an event says work is about to start on.
func hostsTouched(ev rollout.Event) []string {
	switch e := ev.(type) {
	case rollout.WaveChanged:
		if e.State == rollout.WaveRunning {
			return e.Hosts
		}
	case rollout.PlayStarted:
		return e.Batch
	case rollout.RollbackStarted:
		return e.Hosts
	case rollout.HostTaskState:
		if e.State == rollout.HostStarted {
			return []string{e.Host}
		}
	}
	return nil
}

// Sync writes the events appended since the last Sync to etcd, in order, and returns once
// the cluster has committed them. When the cluster cannot be reached they are fsynced to
// the local copy instead, and the outage is reported (Options.OnOutage).
func (j *Journal) Sync() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.syncLocked()
}

func (j *Journal) syncLocked() error {
	if len(j.pending) == 0 {
		return nil
	}
	if degraded, _ := j.state(); degraded == nil {
		err := j.flush(j.pending)
		switch {
		case err == nil:
			j.pending = j.pending[:0]
			return nil
		case errors.Is(err, errNotOwner):
			j.loseLocks(err)
		default:
			j.degrade(err)
		}
	}
	j.unsent = append(j.unsent, j.pending...)
	j.pending = nil
	if j.local == nil {
		return fmt.Errorf("journal: %w (and no local copy)", j.degradedErr())
	}
	if err := j.local.Sync(); err != nil {
		return fmt.Errorf("journal local copy: %w", err)
	}
	return nil
}

// flush writes recs in transactions of at most maxOps puts, each on condition that this
// controller still holds the run and that its first key is new. A transaction whose
// outcome was lost to a failing member is retried; finding its first key already holding
// the same line means it had been applied.
func (j *Journal) flush(recs []record) error {
	for len(recs) > 0 {
		n := min(len(recs), maxOps)
		chunk := recs[:n]
		ops := make([]clientv3.Op, 0, n)
		for _, r := range chunk {
			ops = append(ops, clientv3.OpPut(r.key, string(r.line)))
		}
		first := chunk[0].key
		resp, err := j.txn("write journal", func(ctx context.Context) (*clientv3.TxnResponse, error) {
			return j.b.cli.Txn(ctx).If(
				clientv3.Compare(clientv3.LeaseValue(j.b.activeKey(j.id)), "=", int64(j.lease)),
				clientv3.Compare(clientv3.CreateRevision(first), "=", 0),
			).Then(ops...).Else(clientv3.OpGet(j.b.activeKey(j.id)), clientv3.OpGet(first)).Commit()
		})
		if err != nil {
			return err
		}
		if !resp.Succeeded {
			if !j.owns(resp.Responses[0].GetResponseRange().Kvs) {
				return errNotOwner
			}
			kvs := resp.Responses[1].GetResponseRange().Kvs
			if len(kvs) == 0 || string(kvs[0].Value) != string(chunk[0].line) {
				return &rollout.JournalError{Path: first, Err: errors.New("another writer wrote this event")}
			}
		}
		recs = recs[n:]
	}
	return nil
}

func (j *Journal) owns(active []*mvccpb.KeyValue) bool {
	return len(active) > 0 && clientv3.LeaseID(active[0].Lease) == j.lease
}

// txn runs do until it succeeds or the timeout passes, retrying errors of transport.
func (j *Journal) txn(op string, do func(context.Context) (*clientv3.TxnResponse, error)) (*clientv3.TxnResponse, error) {
	deadline := time.Now().Add(j.b.opts.Timeout)
	wait := 50 * time.Millisecond
	for {
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		resp, err := do(ctx)
		cancel()
		if err == nil {
			return resp, nil
		}
		if time.Now().Add(wait).After(deadline) {
			return nil, j.b.unreachable(op, err)
		}
		time.Sleep(wait)
		wait = min(2*wait, time.Second)
	}
}

// LockHosts locks hosts for the run, all or none (rollout.HostLocker).
func (j *Journal) LockHosts(hosts []string) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.lockLocked(hosts)
}

// lockLocked locks the hosts of hosts the run does not hold yet: in one transaction when
// they are few, else in transactions of maxOps hosts in sorted order, undone when a later
// one fails, so that the run gets them all or none.
func (j *Journal) lockLocked(hosts []string) error {
	var want []string
	_, lost := j.state()
	for _, h := range hosts {
		if lost != nil || !j.locked[h] {
			want = append(want, h)
		}
	}
	if len(want) == 0 {
		return nil
	}
	if lost != nil {
		return fmt.Errorf("cannot lock %s: %w", joinFew(want), lost)
	}
	if degraded, _ := j.state(); degraded != nil {
		return fmt.Errorf("cannot lock %s: %w", joinFew(want), j.degradedErr())
	}
	slices.Sort(want)
	want = slices.Compact(want)
	var taken []string
	for len(want) > 0 {
		n := min(len(want), maxOps)
		got, err := j.lockChunk(want[:n])
		taken = append(taken, got...)
		if err != nil {
			j.release(taken)
			var conflict *rollout.LockConflictError
			switch {
			case errors.As(err, &conflict):
			case errors.Is(err, errNotOwner):
				j.loseLocks(err)
				err = fmt.Errorf("%w: %v", rollout.ErrLockLost, err)
			default:
				j.degrade(err)
			}
			return err
		}
		want = want[n:]
	}
	for _, h := range taken {
		j.locked[h] = true
	}
	return nil
}

// lockChunk locks hosts in one transaction. It returns the hosts it locked.
func (j *Journal) lockChunk(hosts []string) ([]string, error) {
	hv, _ := json.Marshal(holdValue{Holder: j.holder, Lease: int64(j.lease)})
	{
		cmps := []clientv3.Cmp{clientv3.Compare(clientv3.LeaseValue(j.b.activeKey(j.id)), "=", int64(j.lease))}
		var puts, gets []clientv3.Op
		gets = append(gets, clientv3.OpGet(j.b.activeKey(j.id)))
		for _, h := range hosts {
			k := j.b.lockKey(h)
			cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(k), "=", 0))
			puts = append(puts, clientv3.OpPut(k, string(hv), clientv3.WithLease(j.lease)))
			gets = append(gets, clientv3.OpGet(k))
		}
		resp, err := j.txn("lock hosts", func(ctx context.Context) (*clientv3.TxnResponse, error) {
			return j.b.cli.Txn(ctx).If(cmps...).Then(puts...).Else(gets...).Commit()
		})
		if err != nil {
			return nil, err
		}
		if resp.Succeeded {
			return hosts, nil
		}
		if !j.owns(resp.Responses[0].GetResponseRange().Kvs) {
			return nil, errNotOwner
		}
		// Some are held: by another run (a conflict), or by this one (a retried
		// transaction that had been applied, or a lock from an earlier wave).
		conflict := &rollout.LockConflictError{Held: map[string]rollout.Holder{}}
		var mine, free []string
		for i, h := range hosts {
			kvs := resp.Responses[i+1].GetResponseRange().Kvs
			switch {
			case len(kvs) == 0:
				free = append(free, h)
			case clientv3.LeaseID(kvs[0].Lease) == j.lease:
				mine = append(mine, h)
			default:
				var other holdValue
				_ = json.Unmarshal(kvs[0].Value, &other)
				conflict.Held[h] = other.Holder
			}
		}
		if len(conflict.Held) > 0 {
			return mine, conflict
		}
		if len(free) == 0 {
			return mine, nil
		}
		got, err := j.lockChunk(free)
		return append(mine, got...), err
	}
}

// release deletes the locks of hosts that this run's lease holds (an all-or-none lock
// that failed part-way). Errors are left to the lease's expiry.
func (j *Journal) release(hosts []string) {
	for len(hosts) > 0 {
		n := min(len(hosts), maxOps)
		var cmps []clientv3.Cmp
		var dels []clientv3.Op
		for _, h := range hosts[:n] {
			if j.locked[h] {
				continue // held from an earlier wave: keep it
			}
			k := j.b.lockKey(h)
			cmps = append(cmps, clientv3.Compare(clientv3.LeaseValue(k), "=", int64(j.lease)))
			dels = append(dels, clientv3.OpDelete(k))
		}
		if len(dels) > 0 {
			_, _ = j.txn("release locks", func(ctx context.Context) (*clientv3.TxnResponse, error) {
				return j.b.cli.Txn(ctx).If(cmps...).Then(dels...).Commit()
			})
		}
		hosts = hosts[n:]
	}
}

// checkFree fails when another run holds any of hosts: a run that would conflict stops
// before it journals anything.
func (j *Journal) checkFree(hosts []string) error {
	if degraded, _ := j.state(); degraded != nil || len(hosts) == 0 {
		return nil
	}
	ctx, cancel := j.b.ctx()
	defer cancel()
	resp, err := j.b.cli.Get(ctx, j.b.opts.Prefix+"/locks/", clientv3.WithPrefix())
	if err != nil {
		return j.b.unreachable("read locks", err)
	}
	want := map[string]bool{}
	for _, h := range hosts {
		want[h] = true
	}
	conflict := &rollout.LockConflictError{Held: map[string]rollout.Holder{}}
	for _, kv := range resp.Kvs {
		h := filepath.Base(string(kv.Key))
		if !want[h] || clientv3.LeaseID(kv.Lease) == j.lease {
			continue
		}
		var other holdValue
		_ = json.Unmarshal(kv.Value, &other)
		conflict.Held[h] = other.Holder
	}
	if len(conflict.Held) > 0 {
		return conflict
	}
	return nil
}

// Read returns the run's events: those in etcd, then those only in the local copy, then
// those not yet synced.
func (j *Journal) Read() ([]rollout.JournalEntry, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	out, err := j.b.readEvents(j.id)
	if err != nil {
		return nil, err
	}
	for _, r := range append(slices.Clone(j.unsent), j.pending...) {
		rec, ev, err := rollout.DecodeEvent(r.line)
		if err != nil {
			return nil, err
		}
		out = append(out, rollout.JournalEntry{Seq: rec.Seq, Time: rec.Time, Event: ev})
	}
	return out, nil
}

// Close syncs, hands the events kept only locally to etcd when it answers again and the
// run is still this controller's, then ends the lease: the run's locks and its active
// key go with it.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return nil
	}
	j.closed = true
	err := j.syncLocked()
	close(j.stop)
	<-j.stopped
	j.kaCancel()
	if _, lost := j.state(); lost == nil && len(j.unsent) > 0 {
		if ferr := j.flush(j.unsent); ferr == nil {
			j.unsent = nil
		}
	}
	if _, lost := j.state(); j.created && j.seq == 0 && lost == nil {
		// Refused before its first event (a lock conflict at the start): no run to list.
		ctx, cancel := j.b.ctx()
		_, _ = j.b.cli.Delete(ctx, j.b.metaKey(j.id))
		cancel()
	}
	j.b.revoke(j.lease)
	if j.local != nil {
		if cerr := j.local.Close(); err == nil {
			err = cerr
		}
		if j.created && j.seq == 0 {
			_ = os.Remove(j.local.Name())
		}
	}
	return err
}

// Status says what went wrong with the shared journal, in a sentence for the operator;
// "" when nothing did. Call it after Close.
func (j *Journal) Status() string {
	degraded, lost := j.state()
	if degraded == nil && lost == nil {
		return ""
	}
	msg := ""
	switch {
	case lost != nil:
		msg = fmt.Sprintf("the run lost its host locks (%v); it stopped at once", lost)
	default:
		msg = fmt.Sprintf("etcd stopped answering at %s (%v); the run started no new wave", j.since.Local().Format("15:04:05"), degraded)
	}
	if n := len(j.unsent); n > 0 {
		msg += fmt.Sprintf("; %d events are only in the local copy %s", n, j.LocalCopy())
	} else if degraded != nil {
		msg += "; every event reached etcd once it answered again"
	}
	return msg
}

func (j *Journal) state() (degraded, lost error) {
	j.flagMu.Lock()
	defer j.flagMu.Unlock()
	return j.degraded, j.lost
}

func (j *Journal) degradedErr() error {
	j.flagMu.Lock()
	defer j.flagMu.Unlock()
	return fmt.Errorf("etcd unreachable since %s: %w", j.since.Local().Format("15:04:05"), j.degraded)
}

// degrade marks the cluster unreachable and tells the caller, once.
func (j *Journal) degrade(err error) {
	j.flagMu.Lock()
	first := j.degraded == nil
	if first {
		j.degraded, j.since = err, time.Now()
	}
	j.flagMu.Unlock()
	if first && j.b.opts.OnOutage != nil {
		go j.b.opts.OnOutage(err) // not under mu: the caller may journal in it
	}
}

// loseLocks marks the locks lost and tells the caller, once.
func (j *Journal) loseLocks(err error) {
	j.flagMu.Lock()
	first := j.lost == nil
	if first {
		j.lost = fmt.Errorf("%w: %v", rollout.ErrLockLost, err)
		if j.degraded == nil {
			j.degraded, j.since = err, time.Now()
		}
	}
	lost := j.lost
	j.flagMu.Unlock()
	if first && j.b.opts.OnLockLost != nil {
		go j.b.opts.OnLockLost(lost)
	}
}

// keepAlive renews the lease while the journal is open and watches the renewals (sent
// every third of the lease): no renewal for half the lease is an outage; for nine tenths of it, or the lease
// gone, the locks are lost.
func (j *Journal) keepAlive() error {
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := j.b.cli.KeepAlive(ctx, j.lease)
	if err != nil {
		cancel()
		return err
	}
	j.kaCancel = cancel
	j.lastRenew.Store(time.Now().UnixNano())
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		for range ch {
			j.lastRenew.Store(time.Now().UnixNano())
		}
	}()
	go func() {
		defer close(j.stopped)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-j.stop:
				return
			case <-ended:
				select {
				case <-j.stop:
				default:
					j.loseLocks(errors.New("the lease was not renewed in time, or was revoked"))
				}
				return
			case <-tick.C:
			}
			quiet := time.Since(time.Unix(0, j.lastRenew.Load()))
			switch {
			case quiet > j.ttl*9/10:
				j.loseLocks(fmt.Errorf("no lease renewal for %s (lease %s)", quiet.Round(time.Millisecond), j.ttl))
				return
			case quiet > j.ttl/2:
				j.degrade(fmt.Errorf("no lease renewal for %s", quiet.Round(time.Millisecond)))
			}
		}
	}()
	return nil
}

func joinFew(hs []string) string {
	const most = 5
	if len(hs) <= most {
		return fmt.Sprint(hs)
	}
	return fmt.Sprintf("%v and %d more", hs[:most], len(hs)-most)
}
