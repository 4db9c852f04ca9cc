package rollout

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// Journal keeps a run's events, in order, where a crash of the controller cannot lose
// them: Append adds one, Sync makes everything appended so far durable, Read returns them
// all. FileJournal keeps them in a local file; another backend (etcd) implements the same.
type Journal interface {
	Append(ev Event) error
	Sync() error
	Read() ([]JournalEntry, error)
	Close() error
}

// JournalEntry is one event read back from a journal.
type JournalEntry struct {
	Seq   int64
	Time  time.Time
	Event Event
}

// JournalError is a journal that cannot be read: Line is 1-based.
type JournalError struct {
	Path string
	Line int
	Err  error
}

func (e *JournalError) Error() string {
	return fmt.Sprintf("journal %s:%d: %v", e.Path, e.Line, e.Err)
}
func (e *JournalError) Unwrap() error { return e.Err }

// FileJournal is a Journal in a JSON-lines file (docs/JOURNAL.md): each Append writes one
// whole line with one write; Sync is fsync.
type FileJournal struct {
	mu   sync.Mutex
	path string
	f    *os.File
	seq  int64
	now  func() time.Time
}

// CreateFileJournal starts a new journal at path; the file must not exist yet.
func CreateFileJournal(path string) (*FileJournal, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		f.Close()
		return nil, err
	}
	return &FileJournal{path: path, f: f, now: time.Now}, nil
}

// OpenFileJournal opens an existing journal to append to it (kpx resume, kpx rollback).
// A last line cut short by a crash is removed first, so that new lines start clean.
func OpenFileJournal(path string) (*FileJournal, error) {
	entries, valid, err := readJournalFile(path)
	if err != nil {
		return nil, err
	}
	if err := os.Truncate(path, valid); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	j := &FileJournal{path: path, f: f, now: time.Now}
	if n := len(entries); n > 0 {
		j.seq = entries[n-1].Seq + 1
	}
	return j, nil
}

// Path is the journal's file.
func (j *FileJournal) Path() string { return j.path }

// Append writes ev as the next line.
func (j *FileJournal) Append(ev Event) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	line, err := EncodeEvent(j.seq, j.now(), ev)
	if err != nil {
		return err
	}
	if _, err := j.f.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("journal %s: %w", j.path, err)
	}
	j.seq++
	return nil
}

// Sync makes every appended line durable.
func (j *FileJournal) Sync() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("journal %s: %w", j.path, err)
	}
	return nil
}

// Read returns every event of the journal.
func (j *FileJournal) Read() ([]JournalEntry, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	entries, _, err := readJournalFile(j.path)
	return entries, err
}

// Close syncs and closes the file.
func (j *FileJournal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	err := j.f.Sync()
	if cerr := j.f.Close(); err == nil {
		err = cerr
	}
	return err
}

func readJournalFile(path string) ([]JournalEntry, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("journal: %w", err)
	}
	defer f.Close()
	entries, valid, err := ReadJournal(f)
	var je *JournalError
	if errors.As(err, &je) {
		je.Path = path
	}
	return entries, valid, err
}

// ReadJournal reads a journal's lines. A last line without its newline is what a crash
// in the middle of a write leaves: it is dropped, and valid is the length of the lines
// before it. Any other bad line is an error naming it.
func ReadJournal(r io.Reader) (entries []JournalEntry, valid int64, err error) {
	br := bufio.NewReader(r)
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			return entries, valid, nil // a partial last line, or none
		}
		if err != nil {
			return entries, valid, &JournalError{Line: n, Err: err}
		}
		body := bytes.TrimSpace(line)
		if len(body) == 0 {
			valid += int64(len(line))
			continue
		}
		rec, ev, err := DecodeEvent(body)
		if err != nil {
			return entries, valid, &JournalError{Line: n, Err: err}
		}
		entries = append(entries, JournalEntry{Seq: rec.Seq, Time: rec.Time, Event: ev})
		valid += int64(len(line))
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("journal: sync %s: %w", dir, err)
	}
	return nil
}

// JournalStore is the directory of run journals: RUNID.jsonl files.
type JournalStore struct{ Dir string }

// DefaultJournalDir is where runs are journaled: $KPX_STATE_DIR/runs, else
// $XDG_STATE_HOME/kpx/runs, else ~/.local/state/kpx/runs.
func DefaultJournalDir() (string, error) {
	if d := os.Getenv("KPX_STATE_DIR"); d != "" {
		return filepath.Join(d, "runs"), nil
	}
	if d := os.Getenv("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "kpx", "runs"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("journal directory: %w (set KPX_STATE_DIR)", err)
	}
	return filepath.Join(home, ".local", "state", "kpx", "runs"), nil
}

// Path is the file of run id.
func (s JournalStore) Path(id string) string { return filepath.Join(s.Dir, id+".jsonl") }

// Create starts the journal of a new run.
func (s JournalStore) Create(id string) (*FileJournal, error) { return CreateFileJournal(s.Path(id)) }

// Open opens the journal of run id to continue it. id may be a unique prefix.
func (s JournalStore) Open(id string) (*FileJournal, error) {
	full, err := s.Resolve(id)
	if err != nil {
		return nil, err
	}
	return OpenFileJournal(s.Path(full))
}

// IDs lists the runs journaled, oldest first (ids sort by time).
func (s JournalStore) IDs() ([]string, error) {
	names, err := filepath.Glob(filepath.Join(s.Dir, "*.jsonl"))
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(names))
	for _, n := range names {
		ids = append(ids, strings.TrimSuffix(filepath.Base(n), ".jsonl"))
	}
	sort.Strings(ids)
	return ids, nil
}

// Resolve turns a run id or a unique prefix of one into the full id.
func (s JournalStore) Resolve(id string) (string, error) {
	ids, err := s.IDs()
	if err != nil {
		return "", err
	}
	return ResolveRunID(id, ids, s.Dir)
}

// ResolveRunID finds id, or the one run whose id starts with id, among ids (sorted), for
// a journal backend's Resolve; where names the store in the error when none matches.
func ResolveRunID(id string, ids []string, where string) (string, error) {
	var match []string
	for _, have := range ids {
		if have == id {
			return id, nil
		}
		if strings.HasPrefix(have, id) {
			match = append(match, have)
		}
	}
	switch len(match) {
	case 0:
		return "", fmt.Errorf("no run %q in %s (kpx runs lists them)", id, where)
	case 1:
		return match[0], nil
	}
	return "", fmt.Errorf("run %q is ambiguous: %s", id, strings.Join(match, ", "))
}

// NewRunID returns a run id that sorts by start time: 20261202T010203-1a2b3c.
func NewRunID(now time.Time) string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return now.UTC().Format("20060102T150405") + "-" + hex.EncodeToString(b[:])
}

// ReadJournalFile reads the journal at path without opening it for writing (kpx runs).
func ReadJournalFile(path string) ([]JournalEntry, error) {
	entries, _, err := readJournalFile(path)
	return entries, err
}
