package transport

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"time"

	"github.com/pkg/sftp"
)

// SFTP tuning. The SFTP draft only promises 32 KiB packets; OpenSSH's sftp-server takes
// messages up to 256 KiB, and 128 KiB writes with 16 in flight measured fastest on the
// loopback fleet (docs/BENCHMARKS.md). Other servers get the safe 32 KiB, 64 in flight.
const (
	sftpPacketOpenSSH      = 128 * 1024
	sftpConcurrencyOpenSSH = 16
	sftpPacketSafe         = 32 * 1024
	sftpConcurrencySafe    = 64
	cleanupTimeout         = 10 * time.Second
)

func sftpTuning(serverVersion []byte) (packet, concurrency int) {
	if strings.HasPrefix(string(serverVersion), "SSH-2.0-OpenSSH") {
		return sftpPacketOpenSSH, sftpConcurrencyOpenSSH
	}
	return sftpPacketSafe, sftpConcurrencySafe
}

// newSFTPClient starts an SFTP session on cl, tuned to the server.
func newSFTPClient(cl *sshClient) (*sftp.Client, error) {
	packet, concurrency := sftpTuning(cl.ServerVersion())
	return sftp.NewClient(cl.Client,
		sftp.MaxPacketUnchecked(packet),
		sftp.UseConcurrentWrites(true),
		sftp.UseConcurrentReads(true),
		sftp.MaxConcurrentRequestsPerFile(concurrency))
}

// sftpClient opens an SFTP session of its own on the live connection (re-dialing once if
// broken). Cancelling ctx closes the client, aborting the transfer.
func (c *SSHConn) sftpClient(ctx context.Context) (*sftp.Client, func(), error) {
	sc, err := withRetry(ctx, c, newSFTPClient)
	if err != nil {
		var ue *UnreachableError
		if errors.As(err, &ue) {
			return nil, nil, err
		}
		return nil, nil, fmt.Errorf("%s: starting SFTP: %w", c.cfg.displayName(), err)
	}
	stop := context.AfterFunc(ctx, func() { sc.Close() })
	return sc, func() { stop(); sc.Close() }, nil
}

// inspectMark separates the sha256 from the output of UploadSpec.Inspect.
const inspectMark = "--- kpx inspect 5f0c2a ---"

// remoteCheck computes the sha256 of a file on the host and then, when inspect is set,
// runs it with "$1" the file, in the same session. Large files are hashed with openssl
// where installed (it uses the CPU's SHA instructions, several times faster than
// coreutils, but starts slower); otherwise sha256sum, else shasum -a 256. inspected is
// the inspection's output, nil when it was not run or did not exit 0. It takes one of
// the host's session slots (none on a host capped at one, whose transfer holds it).
func (c *SSHConn) remoteCheck(ctx context.Context, file string, size int64, inspect string) (sum string, inspected []byte, err error) {
	q := Quote(file)
	tools := []string{"sha256sum -- " + q, "shasum -a 256 -- " + q}
	if size >= opensslMinSize {
		tools = append([]string{"openssl dgst -sha256 -r " + q}, tools...)
	}
	var b strings.Builder
	for i, tool := range tools {
		if i > 0 {
			b.WriteString("el")
		}
		fmt.Fprintf(&b, "if command -v %s >/dev/null 2>&1; then %s; ", strings.Fields(tool)[0], tool)
	}
	b.WriteString("else echo 'no sha256 tool (sha256sum, shasum, openssl) on the host' >&2; exit 127; fi || exit")
	if inspect != "" {
		fmt.Fprintf(&b, "\necho '%s'\nset -- %s\n%s", inspectMark, q, inspect)
	}
	if c.pool.opts.MaxSessions >= 2 { // with a cap of one, the transfer's slot covers it
		if err := c.acquire(ctx, 1); err != nil {
			return "", nil, err
		}
		defer c.sessions.Release(1)
	}
	res, err := c.runPlan(ctx, becomePlan{Command: b.String()}, nil)
	out, rest, marked := strings.Cut(string(res.Stdout), inspectMark+"\n")
	if err != nil && !marked {
		return "", nil, fmt.Errorf("remote sha256 of %s: %w: %s", file, err, strings.TrimSpace(string(res.Stderr)))
	}
	f := strings.Fields(out)
	if len(f) == 0 || len(f[0]) != 64 {
		return "", nil, fmt.Errorf("remote sha256 of %s: unexpected output %q", file, out)
	}
	if marked && err == nil {
		inspected = []byte(rest)
	}
	return strings.ToLower(f[0]), inspected, nil
}

// opensslMinSize: below it, openssl's slower start costs more than its faster hashing.
const opensslMinSize = 2 << 20

// tempName returns a fresh temporary name beside final.
func tempName(final string) string {
	return path.Join(path.Dir(final), ".kpx-tmp-"+path.Base(final)+"-"+randomToken()[:12])
}

// Upload puts spec's content at spec.Remote atomically; see the package documentation.
// The content goes over the connection's shared SFTP session; the host then hashes the
// file (and runs spec.Inspect) in one session while it syncs it to disk, and only a file
// whose sha256 matches the source's is renamed into place. A local file is hashed while
// it is sent, unless spec.SHA256 gives its sum (a change under way shows as a mismatch
// either way).
func (c *SSHConn) Upload(ctx context.Context, spec UploadSpec) (err error) {
	src, size, closeSrc, err := openSource(spec)
	if err != nil {
		return err
	}
	defer closeSrc()
	if !path.IsAbs(spec.Remote) {
		return fmt.Errorf("upload: remote path %q is not absolute", spec.Remote)
	}
	sc, done, err := c.sftpFor(ctx)
	if err != nil {
		return err
	}
	tmp := tempName(spec.Remote)
	defer func() {
		if err != nil {
			c.removeRemote(sc, tmp)
			err = interrupted(ctx, fmt.Errorf("upload %s to %s:%s: %w", spec.Local, c.cfg.displayName(), spec.Remote, err))
		}
		done(err)
	}()
	localSum := hashSource(spec, &src)
	inspected, err := c.writeAndVerify(ctx, sc, tmp, src, size, spec, localSum)
	if err != nil {
		return err
	}
	if err := sc.PosixRename(tmp, spec.Remote); err != nil {
		return fmt.Errorf("rename into place: %w", err)
	}
	if inspected != nil && spec.InspectOutput != nil {
		_, _ = spec.InspectOutput.Write(inspected)
	}
	return nil
}

// hashSource returns a function giving the sha256 of the upload's content: spec.SHA256
// when set; a local file is hashed by a goroutine reading it separately; a Reader is
// hashed as it is sent (src is replaced by a teeing reader).
func hashSource(spec UploadSpec, src *io.Reader) func() (string, error) {
	if spec.SHA256 != "" {
		return func() (string, error) { return strings.ToLower(spec.SHA256), nil }
	}
	h := sha256.New()
	if spec.Reader != nil {
		*src = io.TeeReader(*src, h)
		return func() (string, error) { return hex.EncodeToString(h.Sum(nil)), nil }
	}
	type result struct {
		sum string
		err error
	}
	ch := make(chan result, 1)
	go func() {
		f, err := os.Open(spec.Local)
		if err != nil {
			ch <- result{err: err}
			return
		}
		defer f.Close()
		_, err = io.Copy(h, f)
		ch <- result{hex.EncodeToString(h.Sum(nil)), err}
	}()
	return func() (string, error) {
		r := <-ch
		return r.sum, r.err
	}
}

// writeAndVerify writes size bytes of src to a new file tmp with concurrent writes, gives
// it spec's mode and owner, then syncs it to disk (fsync@openssh.com) while the host
// hashes it (and runs spec.Inspect), and compares the hash with localSum's. It returns
// the inspection's output (nil when there was none).
func (c *SSHConn) writeAndVerify(ctx context.Context, sc *sftp.Client, tmp string, src io.Reader, size int64, spec UploadSpec, localSum func() (string, error)) ([]byte, error) {
	f, err := sc.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", tmp, err)
	}
	defer f.Close()
	n, err := f.ReadFrom(&io.LimitedReader{R: src, N: size})
	if err == nil && n != size {
		err = fmt.Errorf("short source: %d of %d bytes", n, size)
	}
	if err != nil {
		return nil, err
	}
	if err := setAttrs(sc, tmp, spec); err != nil {
		return nil, err
	}
	type result struct {
		sum       string
		inspected []byte
		err       error
	}
	remote := make(chan result, 1)
	go func() {
		sum, inspected, err := c.remoteCheck(ctx, tmp, size, spec.Inspect)
		remote <- result{sum, inspected, err}
	}()
	syncErr := f.Sync()
	r := <-remote
	if syncErr != nil {
		return nil, fmt.Errorf("fsync %s: %w", tmp, syncErr)
	}
	if r.err != nil {
		return nil, r.err
	}
	want, err := localSum()
	if err != nil {
		return nil, err
	}
	if r.sum != want {
		return nil, fmt.Errorf("sha256 mismatch: sent %s, host has %s", want, r.sum)
	}
	return r.inspected, f.Close()
}

func setAttrs(sc *sftp.Client, tmp string, spec UploadSpec) error {
	mode := spec.Mode.Perm()
	if spec.Mode == 0 {
		mode = 0o644
	}
	if err := sc.Chmod(tmp, mode); err != nil {
		return fmt.Errorf("chmod %s: %w", tmp, err)
	}
	if spec.UID == nil && spec.GID == nil {
		return nil
	}
	uid, gid := -1, -1
	if spec.UID != nil {
		uid = *spec.UID
	}
	if spec.GID != nil {
		gid = *spec.GID
	}
	if err := sc.Chown(tmp, uid, gid); err != nil {
		return fmt.Errorf("chown %s: %w", tmp, err)
	}
	return nil
}

// removeRemote removes a temporary file after a failed transfer, over SFTP if the
// session still works, else with rm on a fresh session if the connection allows.
func (c *SSHConn) removeRemote(sc *sftp.Client, tmp string) {
	if err := sc.Remove(tmp); err == nil || errors.Is(err, os.ErrNotExist) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	cl, err := c.live()
	if err != nil || cl == nil {
		return
	}
	sess, err := cl.NewSession()
	if err != nil {
		return
	}
	defer sess.Close()
	_, _ = runSession(ctx, sess, becomePlan{Command: "rm -f -- " + Quote(tmp)}, nil, c.cfg.displayName())
}

// interrupted makes a transfer error caused by ctx match ctx's error.
func interrupted(ctx context.Context, err error) error {
	if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		return fmt.Errorf("%w (%w)", err, ctx.Err())
	}
	return err
}

func openSource(spec UploadSpec) (io.Reader, int64, func(), error) {
	if spec.Reader != nil {
		return spec.Reader, spec.Size, func() {}, nil
	}
	f, err := os.Open(spec.Local)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("upload: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, nil, fmt.Errorf("upload: %w", err)
	}
	return f, fi.Size(), func() { f.Close() }, nil
}
