package simfleet

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/crypto/ssh"
)

// SFTP packet types and the status codes this filter uses (draft-ietf-secsh-filexfer-02).
const (
	fxpVersion  = 2
	fxpOpen     = 3
	fxpClose    = 4
	fxpStatus   = 101
	fxpHandle   = 102
	fxpExtended = 200

	fxOK          = 0
	fxFailure     = 4
	fxNoSuchFile  = 2
	fsyncExt      = "fsync@openssh.com"
	maxSFTPPacket = 1 << 20
)

// fsyncFilter sits between an SFTP client and pkg/sftp's server, which lacks OpenSSH's
// fsync@openssh.com extension (kpx's uploads sync before renaming into place). It
// advertises the extension in the server's VERSION packet, learns which path each handle
// was opened for, and answers fsync requests itself; every other packet passes unchanged.
type fsyncFilter struct {
	ch  ssh.Channel
	dir string // relative paths are resolved here, as the server resolves them

	in bytes.Buffer // client packets read but not yet handed to the server

	wmu sync.Mutex   // serialises whole packets written to the client
	out bytes.Buffer // server output not yet a whole packet

	mu      sync.Mutex
	opening map[uint32]string // OPEN request id -> path
	handles map[string]string // handle -> path
}

func newFsyncFilter(ch ssh.Channel, dir string) *fsyncFilter {
	return &fsyncFilter{ch: ch, dir: dir, opening: map[uint32]string{}, handles: map[string]string{}}
}

// Read hands the server the client's packets, fsync requests excepted.
func (f *fsyncFilter) Read(p []byte) (int, error) {
	for f.in.Len() == 0 {
		pkt, err := readPacket(f.ch)
		if err != nil {
			return 0, err
		}
		if !f.intercept(pkt) {
			f.in.Write(pkt)
		}
	}
	return f.in.Read(p)
}

// Write passes the server's packets to the client, once whole, adding the extension to
// VERSION and noting the handles OPEN requests got.
func (f *fsyncFilter) Write(p []byte) (int, error) {
	f.wmu.Lock()
	defer f.wmu.Unlock()
	f.out.Write(p)
	for f.out.Len() >= 4 {
		n := int(binary.BigEndian.Uint32(f.out.Bytes()[:4]))
		if f.out.Len() < 4+n {
			break
		}
		pkt := f.out.Next(4 + n)
		pkt = f.outgoing(pkt)
		if _, err := f.ch.Write(pkt); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// Close closes the channel.
func (f *fsyncFilter) Close() error { return f.ch.Close() }

func readPacket(r io.Reader) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 || n > maxSFTPPacket {
		return nil, fmt.Errorf("sftp: bad packet length %d", n)
	}
	pkt := make([]byte, 4+n)
	copy(pkt, hdr[:])
	if _, err := io.ReadFull(r, pkt[4:]); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return pkt, nil
}

// intercept inspects a client packet; it reports true when it answered the packet itself.
func (f *fsyncFilter) intercept(pkt []byte) bool {
	typ, body := pkt[4], pkt[5:]
	switch typ {
	case fxpOpen:
		id, rest, ok := u32(body)
		if path, _, ok2 := str(rest); ok && ok2 {
			f.mu.Lock()
			p := string(path)
			if !filepath.IsAbs(p) {
				p = filepath.Join(f.dir, p)
			}
			f.opening[id] = p
			f.mu.Unlock()
		}
	case fxpClose:
		if _, rest, ok := u32(body); ok {
			if h, _, ok := str(rest); ok {
				f.mu.Lock()
				delete(f.handles, string(h))
				f.mu.Unlock()
			}
		}
	case fxpExtended:
		id, rest, ok := u32(body)
		name, rest, ok2 := str(rest)
		if !ok || !ok2 || string(name) != fsyncExt {
			return false
		}
		handle, _, ok := str(rest)
		f.mu.Lock()
		path, known := f.handles[string(handle)]
		f.mu.Unlock()
		code, msg := uint32(fxOK), "Success"
		switch {
		case !ok || !known:
			code, msg = fxFailure, "unknown handle"
		default:
			if err := syncPath(path); err != nil {
				code, msg = fxFailure, err.Error()
				if errors.Is(err, os.ErrNotExist) {
					code = fxNoSuchFile
				}
			}
		}
		f.writeStatus(id, code, msg)
		return true
	}
	return false
}

// outgoing inspects (and for VERSION, extends) a server packet.
func (f *fsyncFilter) outgoing(pkt []byte) []byte {
	switch pkt[4] {
	case fxpVersion:
		ext := appendStr(appendStr(nil, fsyncExt), "1")
		pkt = append(pkt, ext...)
		binary.BigEndian.PutUint32(pkt[:4], uint32(len(pkt)-4))
	case fxpHandle:
		id, rest, ok := u32(pkt[5:])
		h, _, ok2 := str(rest)
		if ok && ok2 {
			f.mu.Lock()
			if path, pending := f.opening[id]; pending {
				f.handles[string(h)] = path
			}
			delete(f.opening, id)
			f.mu.Unlock()
		}
	case fxpStatus:
		if id, _, ok := u32(pkt[5:]); ok {
			f.mu.Lock()
			delete(f.opening, id) // a failed OPEN
			f.mu.Unlock()
		}
	}
	return pkt
}

func (f *fsyncFilter) writeStatus(id, code uint32, msg string) {
	body := binary.BigEndian.AppendUint32([]byte{fxpStatus}, id)
	body = binary.BigEndian.AppendUint32(body, code)
	body = appendStr(appendStr(body, msg), "")
	pkt := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
	f.wmu.Lock()
	defer f.wmu.Unlock()
	_, _ = f.ch.Write(append(pkt, body...))
}

// syncPath flushes a file to stable storage.
func syncPath(path string) error {
	fh, err := os.Open(path)
	if err != nil {
		return err
	}
	defer fh.Close()
	return fh.Sync()
}

func u32(b []byte) (uint32, []byte, bool) {
	if len(b) < 4 {
		return 0, b, false
	}
	return binary.BigEndian.Uint32(b), b[4:], true
}

func str(b []byte) ([]byte, []byte, bool) {
	n, rest, ok := u32(b)
	if !ok || uint64(len(rest)) < uint64(n) {
		return nil, b, false
	}
	return rest[:n], rest[n:], true
}

func appendStr(b []byte, s string) []byte {
	return append(binary.BigEndian.AppendUint32(b, uint32(len(s))), s...)
}
