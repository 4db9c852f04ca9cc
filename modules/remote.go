package modules

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/kpxdev/kpx/transport"
)

// shellFuncs are POSIX shell helpers the file modules' scripts share. They use only tools
// busybox has: stat -c, sha1sum (or openssl), readlink. They print each value straight
// from the tool rather than through $(...): on a host every subshell is a fork, and
// forks and execs are most of what a task costs the host.
const shellFuncs = `LC_ALL=C; export LC_ALL
kpx_probe() {
	if [ -L "$1" ] || [ -e "$1" ]; then
		printf 'stat='
		if [ "$3" = 1 ]; then stat -L -c '%f %u %g %s %Y %X %Z %i %d %h %U %G' -- "$1" || echo; else stat -c '%f %u %g %s %Y %X %Z %i %d %h %U %G' -- "$1" || echo; fi
		if [ -L "$1" ]; then printf 'link='; readlink -- "$1" || echo; fi
		if [ "$2" = 1 ] && [ -f "$1" ] && [ -r "$1" ]; then
			printf 'sum='
			if command -v sha1sum >/dev/null 2>&1; then sha1sum < "$1" || echo; else openssl dgst -sha1 -r < "$1" || echo; fi
		fi
		[ -r "$1" ] && echo readable=1
		[ -w "$1" ] && echo writeable=1
		[ -x "$1" ] && echo executable=1
	fi
	echo end
}
`

// idUmaskCmd prints the effective uid and the umask of the commands (euid= and umask=
// lines, read by idAndUmask), without a process of its own where the shell is bash.
const idUmaskCmd = `if [ -n "$BASH_VERSION" ]; then echo "euid=$EUID"; else echo "euid=$(id -u)"; fi; printf 'umask='; umask`

// fileInfo is what kpx_probe reports of a path on a host.
type fileInfo struct {
	Exists       bool
	Type         string // file, directory, link, fifo, socket, char, block
	Mode         uint32 // permission bits, with setuid/setgid/sticky
	UID, GID     int
	Owner, Group string
	Size         int64
	Mtime        int64
	Atime        int64
	Ctime        int64
	Inode, Dev   uint64
	Nlink        int
	LinkTarget   string
	Checksum     string // sha1, when asked for and a readable regular file
	Readable     bool
	Writeable    bool
	Executable   bool
}

// probeCmd is a shell command printing path's state; sum asks for its sha1, follow for
// the state of what a symbolic link points to.
func probeCmd(path string, sum, follow bool) string {
	return "kpx_probe " + transport.Quote(path) + " " + bit(sum) + " " + bit(follow)
}

func bit(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// parseProbes reads the output of consecutive kpx_probe calls, one fileInfo each.
func parseProbes(out string) ([]fileInfo, error) {
	var infos []fileInfo
	cur := fileInfo{}
	for _, line := range strings.Split(out, "\n") {
		key, val, _ := strings.Cut(line, "=")
		switch key {
		case "end":
			infos = append(infos, cur)
			cur = fileInfo{}
		case "stat":
			if err := cur.parseStat(val); err != nil {
				return nil, err
			}
		case "link":
			cur.LinkTarget = val
		case "sum": // "<sha1>  -" (sha1sum) or "<sha1> *stdin" (openssl)
			if f := strings.Fields(val); len(f) > 0 {
				cur.Checksum = f[0]
			}
		case "readable":
			cur.Readable = true
		case "writeable":
			cur.Writeable = true
		case "executable":
			cur.Executable = true
		}
	}
	return infos, nil
}

func (fi *fileInfo) parseStat(s string) error {
	f := strings.Fields(s)
	if len(f) < 12 {
		return fmt.Errorf("unexpected stat output %q", s)
	}
	raw, err := strconv.ParseUint(f[0], 16, 32)
	if err != nil {
		return fmt.Errorf("unexpected stat mode %q", f[0])
	}
	fi.Exists = true
	fi.Type = fileType(uint32(raw))
	fi.Mode = uint32(raw) & 0o7777
	fi.UID, _ = strconv.Atoi(f[1])
	fi.GID, _ = strconv.Atoi(f[2])
	fi.Size, _ = strconv.ParseInt(f[3], 10, 64)
	fi.Mtime, _ = strconv.ParseInt(f[4], 10, 64)
	fi.Atime, _ = strconv.ParseInt(f[5], 10, 64)
	fi.Ctime, _ = strconv.ParseInt(f[6], 10, 64)
	fi.Inode, _ = strconv.ParseUint(f[7], 10, 64)
	fi.Dev, _ = strconv.ParseUint(f[8], 10, 64)
	fi.Nlink, _ = strconv.Atoi(f[9])
	fi.Owner, fi.Group = f[10], f[11]
	return nil
}

func fileType(raw uint32) string {
	switch raw & 0o170000 {
	case 0o100000:
		return "file"
	case 0o040000:
		return "directory"
	case 0o120000:
		return "link"
	case 0o010000:
		return "fifo"
	case 0o140000:
		return "socket"
	case 0o020000:
		return "char"
	case 0o060000:
		return "block"
	}
	return "unknown"
}

// octal writes a mode as Ansible shows it: "0644".
func octal(m uint32) string { return fmt.Sprintf("%04o", m) }

// sh runs a script with the shared helpers on the host as the task's user (become
// included). A nonzero exit is returned in the result, not as an error.
func sh(ctx context.Context, h Host, c Call, script string) (transport.Result, error) {
	return run(ctx, h, c, transport.Cmd{Shell: shellFuncs + script})
}

// probe reports the state of paths on the host, in one round trip.
func probe(ctx context.Context, h Host, c Call, sum, follow bool, paths ...string) ([]fileInfo, error) {
	var b strings.Builder
	for _, p := range paths {
		b.WriteString(probeCmd(p, sum, follow) + "\n")
	}
	res, err := sh(ctx, h, c, b.String())
	if err != nil {
		return nil, err
	}
	if res.ExitStatus != 0 {
		return nil, &remoteError{What: "inspect " + strings.Join(paths, ", "), Res: res}
	}
	infos, err := parseProbes(string(res.Stdout))
	if err == nil && len(infos) != len(paths) {
		err = fmt.Errorf("inspect %s: unexpected output %q", strings.Join(paths, ", "), res.Stdout)
	}
	return infos, err
}

// remoteError is a shell step of a module that failed on the host. Modules turn it into a
// failed result (a module failure, not an unreachable host).
type remoteError struct {
	What string
	Res  transport.Result
}

func (e *remoteError) Error() string {
	msg := strings.TrimSpace(string(e.Res.Stderr))
	if msg == "" {
		msg = strings.TrimSpace(string(e.Res.Stdout))
	}
	if msg == "" {
		msg = fmt.Sprintf("exit status %d", e.Res.ExitStatus)
	}
	return e.What + ": " + msg
}

// failure turns a module step's error into a result: a remoteError or a local problem
// (a missing controller file) fails the task; a transport error is returned as it is.
func failure(r Result, err error) (Result, error) {
	if r == nil {
		r = Result{}
	}
	if isHostError(err) {
		return nil, err
	}
	r["failed"], r["msg"] = true, err.Error()
	if _, ok := r["changed"]; !ok {
		r["changed"] = false
	}
	return r, nil
}

// isHostError reports whether err means the host could not be driven (unreachable,
// cancelled): such errors are the engine's to report, not a module failure.
func isHostError(err error) bool {
	var ue *transport.UnreachableError
	var be *transport.BecomeError
	return asErr(err, &ue) || asErr(err, &be) || isCtxErr(err)
}

// mustRun runs a script and turns a nonzero exit into a remoteError.
func mustRun(ctx context.Context, h Host, c Call, what, script string) (transport.Result, error) {
	res, err := sh(ctx, h, c, script)
	if err == nil && res.ExitStatus != 0 {
		err = &remoteError{What: what, Res: res}
	}
	return res, err
}
