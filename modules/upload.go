package modules

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/kpxdev/kpx/transport"
)

// payload is a file's content on the controller: a local file or bytes.
type payload struct {
	local  string // path of a controller file, or
	data   []byte // the content itself when local is ""
	sha256 string // the content's sha256, when known already
}

func (p payload) spec(remote string, mode uint32) transport.UploadSpec {
	s := transport.UploadSpec{Local: p.local, Remote: remote, Mode: os.FileMode(mode), SHA256: p.sha256}
	if p.local == "" {
		s.Reader, s.Size = strings.NewReader(string(p.data)), int64(len(p.data))
	}
	return s
}

// placement says how a file is put at its destination: its final mode, owner and group
// (empty: left as they come), and whether the destination is first kept as a backup.
type placement struct {
	dest         string
	mode         uint32
	owner, group string
	backup       bool
}

// asLogin is c with privilege escalation switched off: the login user's own commands
// (temporary directories that SFTP, which runs as the login user, must write into).
func asLogin(c Call) Call {
	c.Become = &transport.Become{}
	return c
}

// escalated reports whether c's commands may run as another user than the login user:
// then SFTP (always the login user) cannot write into place directly. A call without
// become of its own uses the connection's default, when the connection says what it is.
func escalated(h Host, c Call) bool {
	if c.Become != nil {
		return c.Become.Method != ""
	}
	if conn, ok := h.(interface{ Config() *transport.Config }); ok {
		return conn.Config().Become.Method != ""
	}
	return true
}

// put places content at pl.dest atomically. When commands run as the login user the
// upload goes straight into place (transport's temporary name, sha256 check, rename);
// with privilege escalation it is uploaded to a private temporary directory (0700) and
// moved into place by the escalated user. euid is the effective uid of c's commands.
// It returns the backup file's name, if one was made, and the attributes of the file in
// place when the upload learnt them in the round trip that verified it (nil otherwise:
// callers that need them probe the file).
func put(ctx context.Context, h Host, c Call, p payload, pl placement, euid int) (string, *fileInfo, error) {
	stage := ""
	if escalated(h, c) {
		dir, err := stagingDir(ctx, h, c, euid)
		if err != nil {
			return "", nil, err
		}
		stage = dir
	}
	backup := ""
	if pl.backup {
		backup = backupName(pl.dest)
	}
	if stage == "" {
		if backup != "" {
			if _, err := mustRun(ctx, h, c, "backup "+pl.dest, backupCmd(pl.dest, backup)); err != nil {
				return "", nil, err
			}
		}
		spec := p.spec(pl.dest, pl.mode)
		cmds := chownCmds(pl)
		var inspected bytes.Buffer
		if cmds == "" {
			spec.Inspect, spec.InspectOutput = shellFuncs+`kpx_probe "$1" 0 1`, &inspected
		}
		if err := h.Upload(ctx, spec); err != nil {
			return "", nil, err
		}
		if cmds != "" {
			_, err := mustRun(ctx, h, c, "set owner of "+pl.dest, cmds)
			return backup, nil, err
		}
		if infos, err := parseProbes(inspected.String()); err == nil && len(infos) == 1 && infos[0].Exists {
			return backup, &infos[0], nil
		}
		return backup, nil, nil
	}
	staged := path.Join(stage, "source")
	if err := h.Upload(ctx, p.spec(staged, 0o600)); err != nil {
		removeStaging(h, c, stage)
		return "", nil, err
	}
	var b strings.Builder
	if backup != "" {
		b.WriteString(backupCmd(pl.dest, backup) + " || exit 1\n")
	}
	tmp := path.Join(path.Dir(pl.dest), ".kpx-tmp-"+path.Base(pl.dest)+"-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	qt := transport.Quote(tmp)
	fmt.Fprintf(&b, "cp -- %s %s && chmod %04o %s || { rm -f -- %s; exit 1; }\n", transport.Quote(staged), qt, pl.mode, qt, qt)
	if cmds := chownCmds(placement{dest: tmp, owner: pl.owner, group: pl.group}); cmds != "" {
		b.WriteString("{ " + strings.ReplaceAll(cmds, "\n", "; ") + "; } || { rm -f -- " + qt + "; exit 1; }\n")
	}
	fmt.Fprintf(&b, "mv -f -- %s %s || { rm -f -- %s; exit 1; }\n", qt, transport.Quote(pl.dest), qt)
	_, err := mustRun(ctx, h, c, "put "+pl.dest+" in place", b.String())
	removeStaging(h, c, stage)
	return backup, nil, err
}

// stagingDir makes a private temporary directory as the login user, unless the login
// user is who commands run as anyway (euid), in which case it returns "".
func stagingDir(ctx context.Context, h Host, c Call, euid int) (string, error) {
	script := fmt.Sprintf(`u=$(id -u); echo "$u"; [ "$u" = %d ] && exit 0
umask 77; mktemp -d "${TMPDIR:-/tmp}/kpx-XXXXXXXXXX"`, euid)
	res, err := mustRun(ctx, h, asLogin(c), "make a temporary directory", script)
	if err != nil {
		return "", err
	}
	lines := strings.Fields(string(res.Stdout))
	if len(lines) < 2 {
		return "", nil
	}
	return lines[1], nil
}

// removeStaging removes a staging directory, even when ctx has ended.
func removeStaging(h Host, c Call, dir string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, _ = run(ctx, h, asLogin(c), transport.Cmd{Shell: "rm -rf -- " + transport.Quote(dir)})
}

func chownCmds(pl placement) string {
	var cmds []string
	q := transport.Quote(pl.dest)
	if pl.owner != "" {
		cmds = append(cmds, "chown "+transport.Quote(pl.owner)+" "+q)
	}
	if pl.group != "" {
		cmds = append(cmds, "chgrp "+transport.Quote(pl.group)+" "+q)
	}
	return strings.Join(cmds, "\n")
}

// backupName is Ansible's backup file name: dest.PID.YYYY-MM-DD@HH:MM:SS~ (kpx uses the
// time in nanoseconds where Ansible uses the module's pid).
func backupName(dest string) string {
	now := time.Now()
	return fmt.Sprintf("%s.%d.%s~", dest, now.Nanosecond()%100000, now.Format("2006-01-02@15:04:05"))
}

func backupCmd(dest, backup string) string {
	return "cp -p -- " + transport.Quote(dest) + " " + transport.Quote(backup)
}

// readAll reads a remote file's content (for --diff), at most limit bytes.
func readAll(ctx context.Context, h Host, c Call, file string, limit int) (string, bool, error) {
	res, err := sh(ctx, h, c, fmt.Sprintf("head -c %d -- %s", limit+1, transport.Quote(file)))
	if err != nil {
		return "", false, err
	}
	if len(res.Stdout) > limit {
		return "", false, nil
	}
	return string(res.Stdout), true, nil
}
