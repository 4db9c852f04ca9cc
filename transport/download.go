package transport

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Download fetches the host's file remote to the local path local atomically: a temporary
// file beside local, fsync, sha256 compared with the host's, then rename. On failure
// nothing is left at local.
func (c *SSHConn) Download(ctx context.Context, remote, local string) (err error) {
	sc, done, err := c.sftpFor(ctx)
	if err != nil {
		return err
	}
	defer func() { done(err) }()
	tmp, err := os.CreateTemp(filepath.Dir(local), ".kpx-tmp-"+filepath.Base(local)+"-*")
	if err != nil {
		return fmt.Errorf("download: %w", err)
	}
	defer func() {
		tmp.Close()
		if err != nil {
			os.Remove(tmp.Name())
			err = interrupted(ctx, fmt.Errorf("download %s:%s to %s: %w", c.cfg.displayName(), remote, local, err))
		}
	}()
	rf, err := sc.Open(remote)
	if err != nil {
		return err
	}
	defer rf.Close()
	fi, err := rf.Stat()
	if err != nil {
		return err
	}
	h := sha256.New()
	if _, err := rf.WriteTo(io.MultiWriter(tmp, h)); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	want, _, err := c.remoteCheck(ctx, remote, fi.Size(), "")
	if err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("sha256 mismatch: host has %s, received %s", want, got)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), local)
}
