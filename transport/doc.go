// Package transport connects kpx to hosts: SSH (golang.org/x/crypto/ssh) with SFTP uploads
// (github.com/pkg/sftp), and a local connection for ansible_connection=local.
//
// # The connection contract
//
// Every connection (*SSHConn, *LocalConn) offers the same four operations; consumers declare
// the interface they need (for example `interface{ Run(...); Upload(...) }`) and hold the
// concrete types this package returns. The contract, which every implementation keeps:
//
//   - Run(ctx, Cmd) (Result, error) runs one command to completion. Cmd.Argv runs a program
//     with exactly those arguments (quoted for the remote shell); Cmd.Shell runs a POSIX
//     shell script with /bin/sh -c. Exactly one of them is set. Cmd.Env is exported to the
//     command (never through SSH "env" requests, which servers usually refuse), Cmd.Stdin
//     feeds its standard input, and Cmd.Become runs it as another user (sudo or su).
//     When the command ran, Result holds its whole stdout and stderr and its exit status
//     (or the signal that ended it); a nonzero status or a signal also returns an
//     *ExitError, so `err == nil` means "ran and exited 0". When ctx ends first, the
//     command is killed and the error satisfies errors.Is(err, context.DeadlineExceeded)
//     (or context.Canceled). A host that cannot be reached, authenticated or verified
//     gives an *UnreachableError; a wrong become password a *BecomeError.
//     From its second command on, an SSH connection runs commands that have no stdin and
//     no become password through a /bin/sh it keeps on one session (see cmdShell): each
//     still runs in a login shell of its own ("$SHELL" -c), but the host is spared a
//     session per command. Such a command ended by a signal reports it as a shell does,
//     exit status 128+n, not in Result.Signal; a cancelled one is killed with its whole
//     process group.
//   - Upload(ctx, UploadSpec) error puts a local file on the host atomically: written to a
//     temporary name in the target directory, mode and owner set, synced to disk, its
//     sha256 checked on the host, then renamed into place. On any failure nothing is left
//     at the final path, and the temporary file is removed when the connection still
//     allows. UploadSpec.Inspect runs a script on the new file in the session that checks
//     it, so that callers learn its attributes without another round trip. Transfers on
//     one connection share one SFTP session, kept open while the connection lives.
//   - Download(ctx, remote, local) error fetches a file the same way in the other
//     direction (temporary local file, fsync, sha256 compared with the host's, rename).
//   - Close() error releases the connection; it is idempotent. A connection from a
//     Pool is shared: close the Pool rather than its connections.
//
// All operations are safe for concurrent use. Secrets (passwords, passphrases) never
// appear in argv, logs or error strings.
//
// # Configuration
//
// Config describes how to reach one host. FromHostVars builds it the way Ansible's ssh
// connection plugin would from inventory variables (ansible_host, ansible_port,
// ansible_user, ansible_ssh_private_key_file, ansible_ssh_common_args, ...), layered over
// ~/.ssh/config; ParseSSHArgs understands the OpenSSH options people put in
// ansible_ssh_common_args and returns a warning naming every option it does not honour.
//
// # Pooling
//
// A Pool keeps one SSH connection per host (and one per jump host, shared by every
// target behind it), caps concurrent sessions per host, bounds concurrent dials, sends
// keepalive@openssh.com requests to detect dead peers, and re-dials a broken connection
// once before reporting the host unreachable.
package transport
