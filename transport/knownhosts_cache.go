package transport

import (
	"os"
	"strings"
	"sync"
	"time"

	"github.com/skeema/knownhosts"
)

// knownHostsCache shares parsed known_hosts files between the dials of one Pool. Parsing
// them for every dial costs O(hosts) per dial, O(hosts²) for a fleet: 10,000 hosts with a
// 10,000-line known_hosts took ~0.1-0.7 s per dial. And since a connection keeps its host
// key callback for later key re-exchanges, every connection held its own parsed copy:
// ~550 KB per host at 1,000 hosts. An entry is reused while every file keeps its size and
// modification time (accept-new appends, which changes both).
type knownHostsCache struct {
	mu      sync.Mutex
	entries map[string]*knownHostsEntry
}

type knownHostsEntry struct {
	stamps   []fileStamp
	db       *knownhosts.HostKeyDB
	existing []string
}

type fileStamp struct {
	size  int64
	mtime time.Time
	ok    bool // the file exists
}

func newKnownHostsCache() *knownHostsCache {
	return &knownHostsCache{entries: map[string]*knownHostsEntry{}}
}

// load returns the parsed database of files and those of them that exist.
func (c *knownHostsCache) load(files []string) (*knownhosts.HostKeyDB, []string, error) {
	stamps := make([]fileStamp, len(files))
	var existing []string
	for i, f := range files {
		if fi, err := os.Stat(f); err == nil {
			stamps[i] = fileStamp{size: fi.Size(), mtime: fi.ModTime(), ok: true}
			existing = append(existing, f)
		}
	}
	key := strings.Join(files, "\x00")
	if c != nil {
		c.mu.Lock()
		defer c.mu.Unlock()
		if e, ok := c.entries[key]; ok && sameStamps(e.stamps, stamps) {
			return e.db, e.existing, nil
		}
	}
	db, err := knownhosts.NewDB(existing...)
	if err != nil {
		return nil, nil, err
	}
	if c != nil {
		c.entries[key] = &knownHostsEntry{stamps: stamps, db: db, existing: existing}
	}
	return db, existing, nil
}

func sameStamps(a, b []fileStamp) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].ok != b[i].ok || a[i].size != b[i].size || !a[i].mtime.Equal(b[i].mtime) {
			return false
		}
	}
	return true
}
