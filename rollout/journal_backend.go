package rollout

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// JournalBackend is where the journals of runs are kept: the local directory of JSON-lines
// files (FileBackend, the default) or a shared store that several controllers reach
// (rollout/etcdjournal). kpx run, kpx resume, kpx rollback and kpx runs see runs only
// through it.
//
// The contract every implementation keeps:
//
//   - Create(id) starts the journal of a new run. It fails when a run id already exists;
//     it never overwrites a journal.
//   - Open(id) opens an existing run's journal to append to it (resume, rollback). id
//     may be a unique prefix of a run id; an unknown or ambiguous id is an error naming
//     it. A backend shared by several controllers refuses to open a run that another
//     live controller is writing (*RunActiveError).
//   - The Journal they return keeps Append's order: Read returns the events in the
//     order they were appended, with Seq counting up by one from where the journal left
//     off. When Sync returns nil, every event appended before it is durable: it survives
//     a crash of this controller (and, for a shared backend, of this machine). An event
//     not yet synced may be lost by a crash, but never reordered, and a crash never
//     leaves a torn event that Read returns. Append or Sync returning an error means the
//     event may not be durable: the engine stops starting new work.
//   - Runs lists the ids of the journaled runs, oldest first; ReadRun returns a run's
//     events without opening it for writing.
//   - Where names where run id's journal is, for messages (a path, or a URL and key).
//   - Close releases what the backend holds (connections); journals are closed on their
//     own, before it.
type JournalBackend interface {
	Create(id string) (Journal, error)
	Open(id string) (Journal, error)
	Runs() ([]string, error)
	ReadRun(id string) ([]JournalEntry, error)
	Where(id string) string
	Close() error
}

// HostLocker is what a shared backend adds: locks on hosts, so that two controllers never
// roll out to the same host at once. Locks belong to a run and to the controller process
// writing it (a lease): they end when the run's journal is closed, when the controller
// dies, or with Unlock.
type HostLocker interface {
	// LockHosts locks every host of hosts for the run, all or none: when another run
	// holds any of them it locks none and returns a *LockConflictError naming the holder.
	LockHosts(hosts []string) error
}

// RunRegistry lists and ends the runs controllers are writing now (kpx runs, kpx unlock).
type RunRegistry interface {
	ActiveRuns() ([]Holder, error)
	// Unlock ends run id's hold: its locks and its registration as active. It is for an
	// operator who knows the controller is gone; a live controller loses its locks and
	// stops.
	Unlock(id string) error
}

// Holder says who holds a run or a host lock: the run, the user and machine of the
// controller, its process, and since when.
type Holder struct {
	RunID   string    `json:"run_id"`
	Command string    `json:"command,omitempty"` // run, resume, rollback
	User    string    `json:"user"`
	Machine string    `json:"machine"`
	PID     int       `json:"pid"`
	Since   time.Time `json:"since"`
	Hosts   int       `json:"hosts,omitempty"` // hosts locked, for kpx runs
}

func (h Holder) String() string {
	return fmt.Sprintf("run %s (%s@%s, pid %d, since %s)", h.RunID, h.User, h.Machine, h.PID, h.Since.UTC().Format(time.RFC3339))
}

// LockConflictError is a lock refused because other runs hold some of the hosts.
type LockConflictError struct {
	Held map[string]Holder // host -> its holder
}

func (e *LockConflictError) Error() string {
	byRun := map[string][]string{}
	var runs []string
	holders := map[string]Holder{}
	for h, who := range e.Held {
		if _, ok := byRun[who.RunID]; !ok {
			runs = append(runs, who.RunID)
			holders[who.RunID] = who
		}
		byRun[who.RunID] = append(byRun[who.RunID], h)
	}
	slices.Sort(runs)
	var parts []string
	for _, id := range runs {
		hs := byRun[id]
		slices.Sort(hs)
		parts = append(parts, fmt.Sprintf("%s locked by %s", joinHosts(hs), holders[id]))
	}
	return "hosts are locked by another run: " + strings.Join(parts, "; ") + " (kpx runs lists active runs; kpx unlock RUN ends a run whose controller is gone)"
}

// RunActiveError is a run that a live controller is writing: it cannot be resumed or
// rolled back from elsewhere until that controller stops (or kpx unlock).
type RunActiveError struct{ Holder Holder }

func (e *RunActiveError) Error() string {
	return fmt.Sprintf("run %s is active: held by %s (kpx unlock %s if that controller is gone)", e.Holder.RunID, e.Holder, e.Holder.RunID)
}

// ErrLockLost: the controller can no longer prove it holds its locks (its lease expired,
// or the shared store cannot be reached for longer than the lease lasts). Nothing more
// may be done to the hosts.
var ErrLockLost = errors.New("the run's host locks are lost")

// FileBackend is the local directory of JSON-lines journals (JournalStore) as a
// JournalBackend. It has no locks: one controller, one machine.
type FileBackend struct{ Store JournalStore }

// Create starts the file journal of run id.
func (b FileBackend) Create(id string) (Journal, error) { return b.Store.Create(id) }

// Open opens run id's file to append to it.
func (b FileBackend) Open(id string) (Journal, error) { return b.Store.Open(id) }

// Runs lists the journal files' run ids, oldest first.
func (b FileBackend) Runs() ([]string, error) { return b.Store.IDs() }

// ReadRun reads run id's journal (id may be a unique prefix).
func (b FileBackend) ReadRun(id string) ([]JournalEntry, error) {
	full, err := b.Store.Resolve(id)
	if err != nil {
		return nil, err
	}
	return ReadJournalFile(b.Store.Path(full))
}

// Where is run id's file.
func (b FileBackend) Where(id string) string { return b.Store.Path(id) }

// Close does nothing: files are closed with their journals.
func (FileBackend) Close() error { return nil }
