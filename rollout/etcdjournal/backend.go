package etcdjournal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path"
	"slices"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/kpxdev/kpx/rollout"
)

// Keys, under the prefix P:
//
//	P/meta/RUN         who created the run (a Holder), written once
//	P/events/RUN/SEQ   the run's events, one key each, SEQ zero-padded to 16 digits
//	P/active/RUN       the controller writing the run now (a holdValue), on its lease
//	P/locks/HOST       the run holding a host (a holdValue), on the same lease
func (b *Backend) metaKey(id string) string   { return b.opts.Prefix + "/meta/" + id }
func (b *Backend) activeKey(id string) string { return b.opts.Prefix + "/active/" + id }
func (b *Backend) lockKey(host string) string { return b.opts.Prefix + "/locks/" + host }
func (b *Backend) eventsPrefix(id string) string {
	return b.opts.Prefix + "/events/" + id + "/"
}
func (b *Backend) eventKey(id string, seq int64) string {
	return fmt.Sprintf("%s%016d", b.eventsPrefix(id), seq)
}

// holdValue is the value of an active or lock key: the holder and its lease.
type holdValue struct {
	rollout.Holder
	Lease int64 `json:"lease"`
}

// Backend is a connection to an etcd cluster that holds run journals and host locks.
type Backend struct {
	opts Options
	cli  *clientv3.Client
}

var (
	_ rollout.JournalBackend = (*Backend)(nil)
	_ rollout.RunRegistry    = (*Backend)(nil)
	_ rollout.Journal        = (*Journal)(nil)
	_ rollout.HostLocker     = (*Journal)(nil)
)

// UnreachableError is a cluster that did not answer in time.
type UnreachableError struct {
	Endpoints []string
	Op        string
	Err       error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("etcd %s: %s: %v", strings.Join(e.Endpoints, ","), e.Op, e.Err)
}
func (e *UnreachableError) Unwrap() error { return e.Err }

// New connects to the cluster. It fails when no member answers within the timeout.
func New(opts Options) (*Backend, error) {
	if opts.Prefix == "" {
		opts.Prefix = "/kpx"
	}
	if opts.LeaseTTL == 0 {
		opts.LeaseTTL = 15 * time.Second
	}
	if opts.Timeout == 0 {
		opts.Timeout = 5 * time.Second
	}
	if opts.User == "" {
		if u, err := user.Current(); err == nil {
			opts.User = u.Username
		}
	}
	if opts.Machine == "" {
		opts.Machine, _ = os.Hostname()
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:            opts.Endpoints,
		TLS:                  opts.TLS,
		DialTimeout:          opts.Timeout,
		DialKeepAliveTime:    2 * time.Second,
		DialKeepAliveTimeout: 2 * time.Second,
		Logger:               zap.NewNop(),
	})
	if err != nil {
		return nil, &UnreachableError{Endpoints: opts.Endpoints, Op: "connect", Err: err}
	}
	b := &Backend{opts: opts, cli: cli}
	ctx, cancel := b.ctx()
	defer cancel()
	if _, err := cli.Get(ctx, opts.Prefix+"/meta/", clientv3.WithCountOnly()); err != nil {
		cli.Close()
		return nil, &UnreachableError{Endpoints: opts.Endpoints, Op: "connect", Err: err}
	}
	return b, nil
}

func (b *Backend) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), b.opts.Timeout)
}

// Close closes the connection.
func (b *Backend) Close() error { return b.cli.Close() }

// Where names run id's journal.
func (b *Backend) Where(id string) string {
	return fmt.Sprintf("etcd://%s%s", strings.Join(b.opts.Endpoints, ","), b.eventsPrefix(id))
}

func (b *Backend) holder(id, command string) rollout.Holder {
	return rollout.Holder{RunID: id, Command: command, User: b.opts.User, Machine: b.opts.Machine,
		PID: os.Getpid(), Since: time.Now().UTC().Truncate(time.Millisecond)}
}

// Create registers run id as new and active on a fresh lease.
func (b *Backend) Create(id string) (rollout.Journal, error) {
	return b.start(id, "run", true)
}

// Open takes over run id (or a unique prefix of one) to append to it: it must not be
// active on another controller.
func (b *Backend) Open(id string) (rollout.Journal, error) {
	full, err := b.Resolve(id)
	if err != nil {
		return nil, err
	}
	return b.start(full, "resume", false)
}

// start takes a lease, registers the run as active on it (and, when create, as new),
// reads where the journal ends and keeps the lease alive.
func (b *Backend) start(id, command string, create bool) (*Journal, error) {
	ctx, cancel := b.ctx()
	defer cancel()
	ttl := int64((b.opts.LeaseTTL + time.Second - 1) / time.Second)
	lease, err := b.cli.Grant(ctx, ttl)
	if err != nil {
		return nil, b.unreachable("grant lease", err)
	}
	h := b.holder(id, command)
	hv, _ := json.Marshal(holdValue{Holder: h, Lease: int64(lease.ID)})
	cmps := []clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(b.activeKey(id)), "=", 0)}
	ops := []clientv3.Op{clientv3.OpPut(b.activeKey(id), string(hv), clientv3.WithLease(lease.ID))}
	if create {
		meta, _ := json.Marshal(h)
		cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(b.metaKey(id)), "=", 0))
		ops = append(ops, clientv3.OpPut(b.metaKey(id), string(meta)))
	} else {
		cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(b.metaKey(id)), ">", 0))
	}
	resp, err := b.cli.Txn(ctx).If(cmps...).Then(ops...).
		Else(clientv3.OpGet(b.activeKey(id)), clientv3.OpGet(b.metaKey(id))).Commit()
	if err != nil {
		b.revoke(lease.ID)
		return nil, b.unreachable("register run", err)
	}
	if !resp.Succeeded {
		b.revoke(lease.ID)
		if kvs := resp.Responses[0].GetResponseRange().Kvs; len(kvs) > 0 {
			var other holdValue
			_ = json.Unmarshal(kvs[0].Value, &other)
			return nil, &rollout.RunActiveError{Holder: other.Holder}
		}
		if create {
			return nil, fmt.Errorf("run %s already exists in %s", id, b.Where(id))
		}
		return nil, fmt.Errorf("no run %q in etcd (kpx runs lists them)", id)
	}
	j := &Journal{b: b, id: id, holder: h, lease: lease.ID, ttl: time.Duration(lease.TTL) * time.Second,
		locked: map[string]bool{}, stop: make(chan struct{}), stopped: make(chan struct{}), created: create}
	if !create {
		last, err := b.lastSeq(id)
		if err != nil {
			b.revoke(lease.ID)
			return nil, err
		}
		j.seq = last + 1
	}
	if err := j.openLocal(); err != nil {
		b.revoke(lease.ID)
		return nil, err
	}
	if err := j.keepAlive(); err != nil {
		b.revoke(lease.ID)
		j.local.Close()
		return nil, b.unreachable("keep lease alive", err)
	}
	return j, nil
}

func (b *Backend) unreachable(op string, err error) error {
	return &UnreachableError{Endpoints: b.opts.Endpoints, Op: op, Err: err}
}

func (b *Backend) revoke(id clientv3.LeaseID) {
	ctx, cancel := b.ctx()
	defer cancel()
	_, _ = b.cli.Revoke(ctx, id)
}

// lastSeq is the seq of run id's last event, -1 when it has none.
func (b *Backend) lastSeq(id string) (int64, error) {
	ctx, cancel := b.ctx()
	defer cancel()
	resp, err := b.cli.Get(ctx, b.eventsPrefix(id), clientv3.WithLastKey()...)
	if err != nil {
		return 0, b.unreachable("read journal end", err)
	}
	if len(resp.Kvs) == 0 {
		return -1, nil
	}
	rec, _, err := rollout.DecodeEvent(resp.Kvs[0].Value)
	if err != nil {
		return 0, &rollout.JournalError{Path: string(resp.Kvs[0].Key), Err: err}
	}
	return rec.Seq, nil
}

// Runs lists the run ids in the cluster, oldest first.
func (b *Backend) Runs() ([]string, error) {
	ctx, cancel := b.ctx()
	defer cancel()
	resp, err := b.cli.Get(ctx, b.opts.Prefix+"/meta/", clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		return nil, b.unreachable("list runs", err)
	}
	var ids []string
	for _, kv := range resp.Kvs {
		ids = append(ids, path.Base(string(kv.Key)))
	}
	slices.Sort(ids)
	return ids, nil
}

// Resolve turns a run id or a unique prefix of one into the full id.
func (b *Backend) Resolve(id string) (string, error) {
	ids, err := b.Runs()
	if err != nil {
		return "", err
	}
	return rollout.ResolveRunID(id, ids, "etcd "+strings.Join(b.opts.Endpoints, ","))
}

// ReadRun returns run id's events (id may be a unique prefix), in order, read a page at
// a time.
func (b *Backend) ReadRun(id string) ([]rollout.JournalEntry, error) {
	full, err := b.Resolve(id)
	if err != nil {
		return nil, err
	}
	return b.readEvents(full)
}

func (b *Backend) readEvents(id string) ([]rollout.JournalEntry, error) {
	const page = 1000
	var out []rollout.JournalEntry
	from, end := b.eventsPrefix(id), clientv3.GetPrefixRangeEnd(b.eventsPrefix(id))
	var rev int64
	for {
		ctx, cancel := b.ctx()
		opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(page)}
		if rev != 0 {
			opts = append(opts, clientv3.WithRev(rev)) // one consistent view across pages
		}
		resp, err := b.cli.Get(ctx, from, opts...)
		cancel()
		if err != nil {
			return nil, b.unreachable("read journal", err)
		}
		rev = resp.Header.Revision
		for _, kv := range resp.Kvs {
			rec, ev, err := rollout.DecodeEvent(kv.Value)
			if err != nil {
				return nil, &rollout.JournalError{Path: string(kv.Key), Err: err}
			}
			out = append(out, rollout.JournalEntry{Seq: rec.Seq, Time: rec.Time, Event: ev})
		}
		if !resp.More || len(resp.Kvs) == 0 {
			return out, nil
		}
		from = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}

// ActiveRuns lists the runs a live controller holds, with the hosts each has locked.
func (b *Backend) ActiveRuns() ([]rollout.Holder, error) {
	ctx, cancel := b.ctx()
	defer cancel()
	act, err := b.cli.Get(ctx, b.opts.Prefix+"/active/", clientv3.WithPrefix())
	if err != nil {
		return nil, b.unreachable("list active runs", err)
	}
	locks, err := b.cli.Get(ctx, b.opts.Prefix+"/locks/", clientv3.WithPrefix())
	if err != nil {
		return nil, b.unreachable("list locks", err)
	}
	count := map[string]int{}
	for _, kv := range locks.Kvs {
		var hv holdValue
		if json.Unmarshal(kv.Value, &hv) == nil {
			count[hv.RunID]++
		}
	}
	var out []rollout.Holder
	for _, kv := range act.Kvs {
		var hv holdValue
		if err := json.Unmarshal(kv.Value, &hv); err != nil {
			continue
		}
		hv.Hosts = count[hv.RunID]
		out = append(out, hv.Holder)
	}
	return out, nil
}

// Unlock ends run id's hold: its lease is revoked, which deletes its active key and
// every lock on it; locks of the run left on another lease are deleted too.
func (b *Backend) Unlock(id string) error {
	ctx, cancel := b.ctx()
	defer cancel()
	act, err := b.cli.Get(ctx, b.activeKey(id))
	if err != nil {
		return b.unreachable("unlock", err)
	}
	found := false
	if len(act.Kvs) > 0 {
		found = true
		if lease := clientv3.LeaseID(act.Kvs[0].Lease); lease != clientv3.NoLease {
			if _, err := b.cli.Revoke(ctx, lease); err != nil && !isLeaseNotFound(err) {
				return b.unreachable("revoke lease", err)
			}
		}
		if _, err := b.cli.Delete(ctx, b.activeKey(id)); err != nil {
			return b.unreachable("unlock", err)
		}
	}
	locks, err := b.cli.Get(ctx, b.opts.Prefix+"/locks/", clientv3.WithPrefix())
	if err != nil {
		return b.unreachable("unlock", err)
	}
	for _, kv := range locks.Kvs {
		var hv holdValue
		if json.Unmarshal(kv.Value, &hv) == nil && hv.RunID == id {
			found = true
			if _, err := b.cli.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(string(kv.Key)), "=", kv.ModRevision)).
				Then(clientv3.OpDelete(string(kv.Key))).Commit(); err != nil {
				return b.unreachable("unlock", err)
			}
		}
	}
	if !found {
		return &NotActiveError{RunID: id}
	}
	return nil
}

// NotActiveError: kpx unlock of a run that holds nothing.
type NotActiveError struct{ RunID string }

func (e *NotActiveError) Error() string {
	return fmt.Sprintf("run %s holds no lock and is not active", e.RunID)
}

func isLeaseNotFound(err error) bool {
	return err != nil && strings.Contains(err.Error(), "requested lease not found")
}

var errNotOwner = errors.New("the run is no longer held by this controller (its lease expired, or kpx unlock)")
