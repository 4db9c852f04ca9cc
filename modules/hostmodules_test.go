package modules

import (
	"os"
	osuser "os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/kpxdev/kpx/internal/testfleet"
	"github.com/kpxdev/kpx/transport"
)

// tempDirsOf lists the kpx temporary directories in /tmp owned by user.
func tempDirsOf(t *testing.T, user string) []string {
	t.Helper()
	u, err := osuser.Lookup(user)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	entries, _ := os.ReadDir("/tmp")
	for _, e := range entries {
		fi, err := os.Stat("/tmp/" + e.Name())
		if err != nil || !strings.HasPrefix(e.Name(), "kpx-") {
			continue
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && strconv.Itoa(int(st.Uid)) == u.Uid {
			out = append(out, e.Name())
		}
	}
	return out
}

// idemCase is a module call that changes a host once: the first run reports changed, a
// second run ok, and check mode before the first run reports changed but leaves the
// host as it was.
type idemCase struct {
	name   string
	module string
	args   map[string]any
	setup  func(t *testing.T, dir string)
	verify func(t *testing.T, dir string, r Result)
	// always: the module changes every time (touch, script without creates).
	always bool
}

func writeFile(t *testing.T, p, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

func wantFile(t *testing.T, p, content string, mode os.FileMode) {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	if fi.Mode().Perm() != mode {
		t.Errorf("%s: mode %o, want %o", p, fi.Mode().Perm(), mode)
	}
	data, _ := os.ReadFile(p)
	if string(data) != content {
		t.Errorf("%s: content %q, want %q", p, data, content)
	}
}

func idemCases(ctrl string) []idemCase {
	return []idemCase{
		{name: "copy content", module: "copy", args: map[string]any{"content": "hello\n", "dest": "{dir}/a.txt", "mode": "0640"},
			verify: func(t *testing.T, dir string, r Result) {
				wantFile(t, dir+"/a.txt", "hello\n", 0o640)
				if r["checksum"] != "f572d396fae9206628714fb2ce00f72e94f2258f" || r["md5sum"] != "b1946ac92492d2347c6235b4d2611184" {
					t.Errorf("checksums: %v %v", r["checksum"], r["md5sum"])
				}
			}},
		{name: "copy src into dir", module: "copy", args: map[string]any{"src": ctrl + "/files/motd", "dest": "{dir}/etc/", "mode": 0o600},
			verify: func(t *testing.T, dir string, r Result) { wantFile(t, dir+"/etc/motd", "welcome\n", 0o600) }},
		{name: "copy directory", module: "copy", args: map[string]any{"src": ctrl + "/files/tree", "dest": "{dir}"},
			verify: func(t *testing.T, dir string, r Result) {
				wantFile(t, dir+"/tree/one", "1\n", 0o644)
				wantFile(t, dir+"/tree/sub/two", "2\n", 0o644)
			}},
		{name: "copy contents of directory", module: "copy", args: map[string]any{"src": ctrl + "/files/tree/", "dest": "{dir}/t"},
			setup:  func(t *testing.T, dir string) { os.Mkdir(dir+"/t", 0o755) },
			verify: func(t *testing.T, dir string, r Result) { wantFile(t, dir+"/t/sub/two", "2\n", 0o644) }},
		{name: "copy backup", module: "copy", args: map[string]any{"content": "new\n", "dest": "{dir}/b", "backup": true},
			setup: func(t *testing.T, dir string) { writeFile(t, dir+"/b", "old\n", 0o600) },
			verify: func(t *testing.T, dir string, r Result) {
				wantFile(t, dir+"/b", "new\n", 0o600)
				bk, _ := r["backup_file"].(string)
				if !strings.HasPrefix(bk, dir+"/b.") {
					t.Fatalf("backup_file %q", bk)
				}
				wantFile(t, bk, "old\n", 0o600)
			}},
		{name: "copy mode only", module: "copy", args: map[string]any{"content": "same\n", "dest": "{dir}/m", "mode": "u=rw,g=r,o="},
			setup:  func(t *testing.T, dir string) { writeFile(t, dir+"/m", "same\n", 0o666) },
			verify: func(t *testing.T, dir string, r Result) { wantFile(t, dir+"/m", "same\n", 0o640) }},
		{name: "template", module: "template", args: map[string]any{"src": ctrl + "/templates/greet.j2", "dest": "{dir}/greet"},
			verify: func(t *testing.T, dir string, r Result) { wantFile(t, dir+"/greet", "hello world\n- a\n- b\n", 0o644) }},
		{name: "file directory", module: "file", args: map[string]any{"path": "{dir}/x/y/z", "state": "directory", "mode": "0750"},
			verify: func(t *testing.T, dir string, r Result) {
				for _, p := range []string{"/x", "/x/y", "/x/y/z"} {
					if fi, err := os.Stat(dir + p); err != nil || fi.Mode().Perm() != 0o750 || !fi.IsDir() {
						t.Errorf("%s: %v %v", p, fi, err)
					}
				}
			}},
		{name: "file symbolic mode", module: "file", args: map[string]any{"path": "{dir}/s", "mode": "u+x,g-r"},
			setup:  func(t *testing.T, dir string) { writeFile(t, dir+"/s", "s", 0o644) },
			verify: func(t *testing.T, dir string, r Result) { wantFile(t, dir+"/s", "s", 0o704) }},
		{name: "file link", module: "file", args: map[string]any{"path": "{dir}/l", "src": "target", "state": "link"},
			setup: func(t *testing.T, dir string) { writeFile(t, dir+"/target", "t", 0o644) },
			verify: func(t *testing.T, dir string, r Result) {
				if got, _ := os.Readlink(dir + "/l"); got != "target" {
					t.Errorf("link -> %q", got)
				}
			}},
		{name: "file hard", module: "file", args: map[string]any{"path": "{dir}/h", "src": "{dir}/target", "state": "hard"},
			setup:  func(t *testing.T, dir string) { writeFile(t, dir+"/target", "t", 0o644) },
			verify: func(t *testing.T, dir string, r Result) { wantFile(t, dir+"/h", "t", 0o644) }},
		{name: "file absent", module: "file", args: map[string]any{"path": "{dir}/gone", "state": "absent"},
			setup: func(t *testing.T, dir string) { writeFile(t, dir+"/gone/f", "x", 0o644) },
			verify: func(t *testing.T, dir string, r Result) {
				if _, err := os.Stat(dir + "/gone"); !os.IsNotExist(err) {
					t.Errorf("still there: %v", err)
				}
			}},
		{name: "file recurse", module: "file", args: map[string]any{"path": "{dir}/r", "state": "directory", "recurse": true, "mode": "0700"},
			setup:  func(t *testing.T, dir string) { writeFile(t, dir+"/r/a/b", "b", 0o644) },
			verify: func(t *testing.T, dir string, r Result) { wantFile(t, dir+"/r/a/b", "b", 0o700) }},
		{name: "file touch", module: "file", args: map[string]any{"path": "{dir}/new", "state": "touch", "mode": "0600"}, always: true,
			verify: func(t *testing.T, dir string, r Result) { wantFile(t, dir+"/new", "", 0o600) }},
		{name: "lineinfile add", module: "lineinfile", args: map[string]any{"path": "{dir}/conf", "line": "c=3"},
			setup:  func(t *testing.T, dir string) { writeFile(t, dir+"/conf", "a=1\nb=2", 0o644) },
			verify: func(t *testing.T, dir string, r Result) { wantFile(t, dir+"/conf", "a=1\nb=2\nc=3\n", 0o644) }},
		{name: "lineinfile replace", module: "lineinfile", args: map[string]any{"path": "{dir}/conf", "regexp": "^b=", "line": "b=20"},
			setup:  func(t *testing.T, dir string) { writeFile(t, dir+"/conf", "a=1\nb=2\n", 0o600) },
			verify: func(t *testing.T, dir string, r Result) { wantFile(t, dir+"/conf", "a=1\nb=20\n", 0o600) }},
		{name: "lineinfile backrefs", module: "lineinfile", args: map[string]any{"path": "{dir}/conf", "regexp": `^(\w+)=old$`, "line": `\1=new`, "backrefs": true},
			setup:  func(t *testing.T, dir string) { writeFile(t, dir+"/conf", "k=old\n", 0o644) },
			verify: func(t *testing.T, dir string, r Result) { wantFile(t, dir+"/conf", "k=new\n", 0o644) }},
		{name: "lineinfile insertafter", module: "lineinfile", args: map[string]any{"path": "{dir}/conf", "insertafter": "^\\[main\\]", "line": "x=1"},
			setup:  func(t *testing.T, dir string) { writeFile(t, dir+"/conf", "[main]\ny=2\n", 0o644) },
			verify: func(t *testing.T, dir string, r Result) { wantFile(t, dir+"/conf", "[main]\nx=1\ny=2\n", 0o644) }},
		{name: "lineinfile absent", module: "lineinfile", args: map[string]any{"path": "{dir}/conf", "regexp": "^#", "state": "absent"},
			setup:  func(t *testing.T, dir string) { writeFile(t, dir+"/conf", "#c\na\n#d\n", 0o644) },
			verify: func(t *testing.T, dir string, r Result) { wantFile(t, dir+"/conf", "a\n", 0o644) }},
		{name: "lineinfile create", module: "lineinfile", args: map[string]any{"path": "{dir}/new/conf", "line": "z", "create": true, "mode": "0600"},
			verify: func(t *testing.T, dir string, r Result) { wantFile(t, dir+"/new/conf", "z\n", 0o600) }},
		{name: "script creates", module: "script", args: map[string]any{"_raw_params": ctrl + "/files/mk.sh {dir}/made", "creates": "{dir}/made"},
			verify: func(t *testing.T, dir string, r Result) {
				wantFile(t, dir+"/made", "made by script\n", 0o644)
				if r["stdout"] != "making "+dir+"/made\n" {
					t.Errorf("stdout %q", r["stdout"])
				}
			}},
		{name: "fetch", module: "fetch", args: map[string]any{"src": "{dir}/remote.txt", "dest": "{dir}/fetched"},
			setup: func(t *testing.T, dir string) { writeFile(t, dir+"/remote.txt", "from host\n", 0o600) },
			verify: func(t *testing.T, dir string, r Result) {
				wantFile(t, dir+"/fetched/host01"+dir+"/remote.txt", "from host\n", 0o600) // the host's mode, as Ansible leaves it
			}},
		{name: "fetch flat", module: "fetch", args: map[string]any{"src": "{dir}/remote.txt", "dest": "{dir}/out/", "flat": true},
			setup:  func(t *testing.T, dir string) { writeFile(t, dir+"/remote.txt", "flat\n", 0o644) },
			verify: func(t *testing.T, dir string, r Result) { wantFile(t, dir+"/out/remote.txt", "flat\n", 0o644) }},
	}
}

// TestHostModulesIdempotent runs every case against an OpenSSH host.
func TestHostModulesIdempotent(t *testing.T) {
	ctrl, _ := filepath.Abs("testdata/ctrl")
	runIdemCases(t, fleetConn(t, nil, nil), idemCases(ctrl))
}

// runIdemCases runs each case: check mode first (changed, nothing touched), then for
// real (changed, the expected files), then again (ok), then check mode again (ok).
func runIdemCases(t *testing.T, h Host, cases []idemCase) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.setup != nil {
				tc.setup(t, dir)
			}
			call := func(check bool) Result {
				return callModule(t, h, tc.module, Call{Args: withDirArgs(tc.args, dir), Check: check, Inventory: "host01"})
			}
			before := snapshot(t, dir)
			if r := call(true); !r.Changed() || r.Failed() {
				t.Fatalf("check mode: want changed, got %v", r)
			}
			if after := snapshot(t, dir); after != before {
				t.Fatalf("check mode changed the host:\nbefore:\n%s\nafter:\n%s", before, after)
			}
			r := call(false)
			if !r.Changed() || r.Failed() {
				t.Fatalf("first run: want changed, got %v", r)
			}
			tc.verify(t, dir, r)
			if r := call(false); r.Changed() != tc.always || r.Failed() {
				t.Fatalf("second run: want changed=%v, got %v", tc.always, r)
			}
			if tc.always {
				return
			}
			before = snapshot(t, dir)
			if r := call(true); r.Changed() || r.Failed() {
				t.Fatalf("check mode after: want ok, got %v", r)
			}
			if after := snapshot(t, dir); after != before {
				t.Fatalf("check mode changed the host")
			}
		})
	}
}

// TestHostModulesAsUnprivilegedUser runs copy, template and lineinfile as a login user
// without rights, escalating with sudo: the upload goes through a private temporary
// directory and root puts it in place, owner and mode as asked.
func TestHostModulesAsUnprivilegedUser(t *testing.T) {
	f := testfleet.Start(t, testfleet.Options{})
	u := f.AddUser(t, testfleet.UserOptions{Sudo: testfleet.SudoNoPasswd})
	h := fleetConn(t, f, u)
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	become := &transport.Become{Method: "sudo"}
	args := map[string]any{"content": "secret\n", "dest": dir + "/root-only", "mode": "0600", "owner": "root"}
	r := callModule(t, h, "copy", Call{Args: args, Become: become})
	if !r.Changed() || r.Failed() {
		t.Fatalf("copy: %v", r)
	}
	wantFile(t, dir+"/root-only", "secret\n", 0o600)
	if r := callModule(t, h, "copy", Call{Args: args, Become: become}); r.Changed() || r.Failed() {
		t.Fatalf("second copy: %v", r)
	}
	r = callModule(t, h, "lineinfile", Call{Args: map[string]any{"path": dir + "/root-only", "line": "more"}, Become: become})
	if !r.Changed() || r.Failed() {
		t.Fatalf("lineinfile: %v", r)
	}
	wantFile(t, dir+"/root-only", "secret\nmore\n", 0o600)
	if left := tempDirsOf(t, u.Name); len(left) > 0 {
		t.Errorf("temporary directories left behind: %v", left)
	}
	// Without become the same copy cannot write there, and says so.
	r = callModule(t, h, "copy", Call{Args: map[string]any{"content": "x", "dest": dir + "/denied"}, Become: &transport.Become{}})
	if !r.Failed() || !strings.Contains(str(r["msg"]), "denied") {
		t.Fatalf("copy without become: want permission denied, got %v", r)
	}
}

// TestFetchedMode: a fetched file gets the host's permission bits plus owner write, under
// umask 022, as OpenSSH's sftp client (and so ansible-playbook) leaves it.
func TestFetchedMode(t *testing.T) {
	for remote, want := range map[uint32]uint32{0o640: 0o640, 0o600: 0o600, 0o444: 0o644, 0o777: 0o755, 0o4755: 0o755, 0o400: 0o600} {
		if got := fetchedMode(remote); got != want {
			t.Errorf("fetchedMode(%#o) = %#o, want %#o", remote, got, want)
		}
	}
}
