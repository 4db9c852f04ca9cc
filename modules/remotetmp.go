package modules

import (
	"context"
	"path"
	"strings"
	"time"

	"github.com/kpxdev/kpx/transport"
)

// remoteTmp is a private temporary directory on the host (mode 0700, an unpredictable
// name), made by the login user so SFTP can write into it. Escalated commands read it
// as root; a become user other than root is granted access with setfacl when the host
// has it.
type remoteTmp struct {
	h   Host
	c   Call
	dir string
}

func newRemoteTmp(ctx context.Context, h Host, c Call) (*remoteTmp, error) {
	script := `umask 77; mktemp -d "${TMPDIR:-/tmp}/kpx-XXXXXXXXXX"`
	if c.Become != nil && c.Become.Method != "" && c.Become.User != "" && c.Become.User != "root" {
		script = `umask 77; d=$(mktemp -d "${TMPDIR:-/tmp}/kpx-XXXXXXXXXX") || exit 1
command -v setfacl >/dev/null 2>&1 && setfacl -m u:` + transport.Quote(c.Become.User) + `:rx "$d"
echo "$d"`
	}
	res, err := mustRun(ctx, h, asLogin(c), "make a temporary directory", script)
	if err != nil {
		return nil, err
	}
	dir := strings.TrimSpace(string(res.Stdout))
	if !path.IsAbs(dir) {
		return nil, &remoteError{What: "make a temporary directory", Res: res}
	}
	return &remoteTmp{h: h, c: c, dir: dir}, nil
}

// put uploads a controller file (or bytes) into the directory with the given mode.
func (t *remoteTmp) put(ctx context.Context, name string, p payload, mode uint32) (string, error) {
	dest := path.Join(t.dir, name)
	return dest, t.h.Upload(ctx, p.spec(dest, mode))
}

// remove deletes the directory, even when ctx has ended.
func (t *remoteTmp) remove() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, _ = run(ctx, t.h, asLogin(t.c), transport.Cmd{Shell: "rm -rf -- " + transport.Quote(t.dir)})
}
