package modules

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"sync"
	"syscall"
)

// Digests remembers the digests of controller files for one run, so that a file copied
// to many hosts is read and hashed once rather than once per host. An entry is keyed by
// the file's path, size, modification time and inode: a file changed during the run is
// hashed again. The zero value is ready; it is safe for concurrent use.
type Digests struct {
	mu sync.Mutex
	m  map[digestKey]*digestEntry
}

type digestKey struct {
	path        string
	size, mtime int64
	ino         uint64
}

type digestEntry struct {
	once sync.Once
	d    fileDigest
	err  error
}

// fileDigest is what copy needs to know of a source file.
type fileDigest struct {
	sha1, md5, sha256 string
	size              int64
	mode              uint32 // permission bits, for mode=preserve
}

// of returns the digests of the local file path. A nil *Digests hashes every time.
func (d *Digests) of(path string) (fileDigest, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileDigest{}, err
	}
	if d == nil {
		return hashFile(path, fi)
	}
	k := digestKey{path: path, size: fi.Size(), mtime: fi.ModTime().UnixNano()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		k.ino = st.Ino
	}
	d.mu.Lock()
	if d.m == nil {
		d.m = map[digestKey]*digestEntry{}
	}
	e := d.m[k]
	if e == nil {
		e = &digestEntry{}
		d.m[k] = e
	}
	d.mu.Unlock()
	e.once.Do(func() { e.d, e.err = hashFile(path, fi) })
	return e.d, e.err
}

// hashFile reads path once, computing its sha1 (Ansible's checksum), md5 (Ansible's
// md5sum) and sha256 (what transport verifies uploads with).
func hashFile(path string, fi os.FileInfo) (fileDigest, error) {
	f, err := os.Open(path)
	if err != nil {
		return fileDigest{}, err
	}
	defer f.Close()
	s1, m5, s256 := sha1.New(), md5.New(), sha256.New()
	n, err := io.Copy(io.MultiWriter(s1, m5, s256), f)
	if err != nil {
		return fileDigest{}, err
	}
	return fileDigest{
		sha1:   hex.EncodeToString(s1.Sum(nil)),
		md5:    hex.EncodeToString(m5.Sum(nil)),
		sha256: hex.EncodeToString(s256.Sum(nil)),
		size:   n,
		mode:   uint32(fi.Mode().Perm()),
	}, nil
}
