package modules

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kpxdev/kpx/playbooks"
)

// TestStatWaitForURI covers the modules that report without changing: stat, wait_for
// (port and path, met and timed out) and uri (found, not found) against an OpenSSH host.
func TestStatWaitForURI(t *testing.T) {
	statWaitForURI(t, fleetConn(t, nil, nil))
}

func statWaitForURI(t *testing.T, h Host) {
	dir := t.TempDir()
	writeFile(t, dir+"/f", "hello\n", 0o640)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"page": "fleet"}`)
	}))
	defer srv.Close()
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	closedPort := closed.Addr().(*net.TCPAddr).Port
	closed.Close()
	_, openPort, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	go func() {
		time.Sleep(2 * time.Second)
		os.WriteFile(dir+"/later", []byte("ready now\n"), 0o644)
	}()
	cases := []struct {
		name, module string
		args         map[string]any
		want         map[string]any
	}{
		{"stat file", "stat", map[string]any{"path": dir + "/f"}, map[string]any{"stat.exists": true, "stat.mode": "0640",
			"stat.checksum": "f572d396fae9206628714fb2ce00f72e94f2258f", "stat.isreg": true, "stat.size": int64(6)}},
		{"stat missing", "stat", map[string]any{"path": dir + "/nope"}, map[string]any{"stat.exists": false}},
		{"stat dir sha256", "stat", map[string]any{"path": dir, "checksum_algorithm": "sha256"}, map[string]any{"stat.isdir": true, "stat.checksum": nil}},
		{"wait_for path and regex", "wait_for", map[string]any{"path": dir + "/later", "search_regex": "^ready", "timeout": 60}, map[string]any{"failed": nil}},
		{"wait_for port open", "wait_for", map[string]any{"port": openPort, "timeout": 30}, map[string]any{"failed": nil, "state": "started"}},
		{"wait_for port timeout", "wait_for", map[string]any{"port": closedPort, "timeout": 2}, map[string]any{"failed": true,
			"msg": fmt.Sprintf("Timeout when waiting for 127.0.0.1:%d", closedPort)}},
		{"wait_for port stopped", "wait_for", map[string]any{"port": closedPort, "state": "stopped", "timeout": 10}, map[string]any{"failed": nil}},
		{"wait_for absent", "wait_for", map[string]any{"path": dir + "/nope", "state": "absent", "timeout": 10}, map[string]any{"failed": nil}},
		{"uri ok", "uri", map[string]any{"url": srv.URL + "/", "return_content": true}, map[string]any{"status": 200,
			"content": `{"page": "fleet"}`, "json": map[string]any{"page": "fleet"}, "failed": nil, "changed": false}},
		{"uri 404", "uri", map[string]any{"url": srv.URL + "/missing"}, map[string]any{"status": 404, "failed": true,
			"msg": "Status code was 404 and not [200]: HTTP Error 404: Not Found"}},
		{"uri 404 expected", "uri", map[string]any{"url": srv.URL + "/missing", "status_code": []any{200, 404}}, map[string]any{"status": 404, "failed": nil}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := callModule(t, h, tc.module, Call{Args: tc.args})
			for k, want := range tc.want {
				if got := lookup(r, k); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("%s = %#v, want %#v (result %v)", k, got, want, r)
				}
			}
		})
	}
}

func lookup(r Result, key string) any {
	var cur any = map[string]any(r)
	for _, part := range strings.Split(key, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[part]
	}
	return cur
}

// fakeSystemctl keeps unit state in files under its directory: enough of systemctl for
// the systemd module (this machine runs no systemd).
const fakeSystemctl = `#!/bin/sh
d=$(dirname "$0")/state; mkdir -p "$d"
[ "$1" = --no-block ] && shift
verb=$1 unit=$2
echo "$verb $unit" >> "$d/log"
case "$verb" in
show) printf 'Id=%s\nLoadState=loaded\nActiveState=%s\nSubState=running\n' "$unit" "$(cat "$d/$unit.active" 2>/dev/null || echo inactive)" ;;
is-enabled) s=$(cat "$d/$unit.enabled" 2>/dev/null || echo disabled); echo "$s"; [ "$s" = enabled ] ;;
start|restart|reload) echo active > "$d/$unit.active" ;;
stop) echo inactive > "$d/$unit.active" ;;
enable) echo enabled > "$d/$unit.enabled" ;;
disable) echo disabled > "$d/$unit.enabled" ;;
mask) echo masked > "$d/$unit.enabled" ;;
unmask) echo disabled > "$d/$unit.enabled" ;;
daemon-reload) ;;
*) echo "fake systemctl: $verb" >&2; exit 1 ;;
esac
`

// TestSystemdWithFakeSystemctl drives the systemd module over OpenSSH against a stand-in
// systemctl: state, enabled and daemon_reload are idempotent and check mode acts on
// nothing.
func TestSystemdWithFakeSystemctl(t *testing.T) {
	h := fleetConn(t, nil, nil)
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "systemctl"), []byte(fakeSystemctl), 0o755); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"PATH": bin + ":/usr/sbin:/usr/bin:/sbin:/bin"}
	steps := []struct {
		args    map[string]any
		check   bool
		changed bool
	}{
		{map[string]any{"name": "db", "state": "started"}, true, true},
		{map[string]any{"name": "db", "state": "started"}, false, true},
		{map[string]any{"name": "db", "state": "started"}, false, false},
		{map[string]any{"name": "db", "enabled": true}, false, true},
		{map[string]any{"name": "db", "enabled": "yes", "state": "started"}, false, false},
		{map[string]any{"name": "db", "state": "stopped"}, true, true},
		{map[string]any{"name": "db", "state": "restarted"}, false, true},
		{map[string]any{"name": "db", "state": "stopped", "enabled": false}, false, true},
		{map[string]any{"name": "db", "state": "stopped", "enabled": false}, false, false},
		{map[string]any{"daemon_reload": true}, false, true},
	}
	for i, s := range steps {
		r := callModule(t, h, "systemd", Call{Args: s.args, Check: s.check, Env: env})
		if r.Failed() || r.Changed() != s.changed {
			t.Fatalf("step %d %v (check %v): want changed=%v, got %v", i, s.args, s.check, s.changed, r)
		}
	}
	log, _ := os.ReadFile(filepath.Join(bin, "state", "log"))
	var acts []string
	for _, l := range strings.Split(strings.TrimSpace(string(log)), "\n") {
		if !strings.HasPrefix(l, "show") && !strings.HasPrefix(l, "is-enabled") {
			acts = append(acts, l)
		}
	}
	want := "start db|enable db|restart db|stop db|disable db|daemon-reload "
	if got := strings.Join(acts, "|"); got != want {
		t.Errorf("systemctl actions %q, want %q", got, want)
	}
}

// TestBadArgsRejectedBeforeAnyHost: the catalog refuses bad arguments of every module,
// so the loader stops a playbook with file:line before a host is contacted.
func TestBadArgsRejectedBeforeAnyHost(t *testing.T) {
	cases := []struct {
		module string
		args   map[string]any
		want   string
	}{
		{"copy", map[string]any{"dest": "/x"}, "one of the following is required: src, content"},
		{"copy", map[string]any{"src": "a", "content": "b", "dest": "/x"}, "mutually exclusive"},
		{"copy", map[string]any{"content": "a", "dest": "/x", "mode": "u=banana"}, "bad symbolic permission"},
		{"copy", map[string]any{"content": "a", "dest": "/x", "colour": "red"}, "unsupported parameters for (copy) module: colour"},
		{"template", map[string]any{"src": "a.j2"}, "missing required arguments: dest"},
		{"file", map[string]any{"path": "/x", "state": "gone"}, "value of state must be one of"},
		{"file", map[string]any{"path": "/x", "state": "link"}, "src is required"},
		{"file", map[string]any{"path": "/x", "mode": "0999"}, "octal or symbolic"},
		{"stat", map[string]any{}, "missing required arguments: path"},
		{"stat", map[string]any{"path": "/x", "checksum_algorithm": "crc"}, "must be one of"},
		{"fetch", map[string]any{"src": "/x"}, "missing required arguments: dest"},
		{"lineinfile", map[string]any{"path": "/x"}, "line"},
		{"lineinfile", map[string]any{"path": "/x", "regexp": "(?<=a)b", "line": "c"}, "RE2"},
		{"lineinfile", map[string]any{"path": "/x", "insertbefore": "a", "insertafter": "b", "line": "c"}, "mutually exclusive"},
		{"script", map[string]any{}, "one of the following is required"},
		{"wait_for", map[string]any{"port": "http"}, "unable to convert it to int"},
		{"wait_for", map[string]any{"port": 1, "path": "/x"}, "mutually exclusive"},
		{"wait_for", map[string]any{"path": "/x", "search_regex": "(?!x)"}, "RE2"},
		{"uri", map[string]any{"method": "GET"}, "missing required arguments: url"},
		{"uri", map[string]any{"url": "http://x", "body_format": "xml"}, "must be one of"},
		{"systemd", map[string]any{"state": "started"}, "name"},
		{"systemd", map[string]any{"name": "a", "state": "up"}, "must be one of"},
		{"service", map[string]any{"name": "a"}, "one of the following is required: state, enabled"},
	}
	for _, tc := range cases {
		err := Builtin().CheckArgs(tc.module, tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %v: error %v, want one containing %q", tc.module, tc.args, err, tc.want)
		}
	}
	// Through the loader: file, line and column of the module's arguments.
	dir := t.TempDir()
	play := filepath.Join(dir, "bad.yml")
	os.WriteFile(play, []byte("- hosts: all\n  tasks:\n    - name: ok\n      copy: {content: a, dest: /tmp/a}\n    - name: bad\n      file:\n        path: /x\n        state: gone\n"), 0o644)
	_, err := playbooks.Load(play, playbooks.LoadOptions{Modules: Builtin()})
	if err == nil || !strings.Contains(err.Error(), "bad.yml:6:7") || !strings.Contains(err.Error(), "state must be one of") {
		t.Errorf("load error %v, want one naming bad.yml:6:7", err)
	}
}
