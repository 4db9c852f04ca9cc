package rollout_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/kpxdev/kpx/modules"
	"github.com/kpxdev/kpx/playbooks"
	"github.com/kpxdev/kpx/rollout"
	"github.com/kpxdev/kpx/transport"
)

// becomeRecorder is a host that runs nothing and records the privilege escalation each
// command asks for.
type becomeRecorder struct {
	mu   sync.Mutex
	seen []*transport.Become
}

func (r *becomeRecorder) Conn(context.Context, string, map[string]any) (modules.Host, error) {
	return r, nil
}

func (r *becomeRecorder) Run(_ context.Context, cmd transport.Cmd) (transport.Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if cmd.Become != nil {
		b := *cmd.Become
		r.seen = append(r.seen, &b)
	} else {
		r.seen = append(r.seen, nil)
	}
	return transport.Result{}, nil
}

func (r *becomeRecorder) Upload(context.Context, transport.UploadSpec) error { return nil }
func (r *becomeRecorder) Download(context.Context, string, string) error     { return nil }

// TestTaskBecome checks the privilege escalation a task runs with, as ansible-core 2.14
// works it out: whether to become from ansible_become, else the become keyword (the task's,
// else its play's), else -b / ansible.cfg's become; the user and method from the
// ansible_become_user / ansible_become_method variables, else the keywords, else the
// command line and ansible.cfg's [privilege_escalation] (BecomeDefaults), else sudo to
// root. ansible-playbook was run on each case (connection local, sudo): it becomes the
// users listed here.
func TestTaskBecome(t *testing.T) {
	cfg := transport.Become{Method: "sudo", User: "daemon"} // ansible.cfg become_user = daemon
	cases := []struct {
		name     string
		play     string // play keywords
		task     string // task keywords
		hostVars string // the host's variables, k=v
		defaults transport.Become
		onByFlag *transport.Become // DefaultBecome: -b or ansible.cfg's become = True
		want     *transport.Become
	}{
		{name: "nothing says become", want: nil},
		{name: "task become, nothing configured", task: "become: true",
			want: &transport.Become{Method: "sudo"}},
		{name: "task become takes ansible.cfg's become_user", task: "become: true", defaults: cfg,
			want: &transport.Become{Method: "sudo", User: "daemon"}},
		{name: "play become takes ansible.cfg's become_user and method", play: "become: true",
			defaults: transport.Become{Method: "su", User: "postgres"},
			want:     &transport.Become{Method: "su", User: "postgres"}},
		{name: "become_user keyword beats ansible.cfg", task: "become: true\n      become_user: bin", defaults: cfg,
			want: &transport.Become{Method: "sudo", User: "bin"}},
		{name: "play's become_user keyword beats ansible.cfg", play: "become: true\n  become_user: bin", defaults: cfg,
			want: &transport.Become{Method: "sudo", User: "bin"}},
		{name: "ansible_become_user beats the keyword", task: "become: true\n      become_user: bin", defaults: cfg,
			hostVars: "ansible_become_user=nobody", want: &transport.Become{Method: "sudo", User: "nobody"}},
		{name: "ansible_become_method beats the keyword", task: "become: true\n      become_method: sudo",
			hostVars: "ansible_become_method=su", want: &transport.Become{Method: "su"}},
		{name: "become false", task: "become: false", defaults: cfg, onByFlag: &cfg,
			want: &transport.Become{}},
		{name: "ansible_become beats the keyword", task: "become: false", defaults: cfg,
			hostVars: "ansible_become=yes", want: &transport.Become{Method: "sudo", User: "daemon"}},
		{name: "ansible_become=false beats -b", defaults: cfg, onByFlag: &cfg,
			hostVars: "ansible_become=false", want: &transport.Become{}},
		{name: "-b with ansible.cfg's user", defaults: cfg, onByFlag: &cfg,
			want: &transport.Become{Method: "sudo", User: "daemon"}},
		{name: "-b, the host's ansible_become_user wins", defaults: cfg, onByFlag: &cfg,
			hostVars: "ansible_become_user=nobody", want: &transport.Become{Method: "sudo", User: "nobody"}},
		{name: "templated keyword", task: "become: true\n      become_user: \"{{ dba }}\"",
			hostVars: "dba=postgres", want: &transport.Become{Method: "sudo", User: "postgres"}},
		{name: "password from the host", task: "become: true", defaults: transport.Become{Password: "from-K"},
			hostVars: "ansible_become_password=hostpw", want: &transport.Become{Method: "sudo", Password: "hostpw"}},
		{name: "password from -K", task: "become: true", defaults: transport.Become{Password: "from-K"},
			want: &transport.Become{Method: "sudo", Password: "from-K"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			play := "- hosts: all\n  gather_facts: false\n"
			if c.play != "" {
				play += "  " + c.play + "\n"
			}
			play += "  tasks:\n    - raw: id -un\n"
			if c.task != "" {
				play += "      " + c.task + "\n"
			}
			path := filepath.Join(dir, "play.yml")
			if err := os.WriteFile(path, []byte(play), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "inventory"), []byte("[all]\nhost1 "+c.hostVars+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			pb, err := playbooks.Load(path, playbooks.LoadOptions{Modules: modules.Builtin()})
			if err != nil {
				t.Fatal(err)
			}
			inv := readINI(t, filepath.Join(dir, "inventory"))
			rec := &becomeRecorder{}
			exe := &rollout.TaskExecutor{
				Templar:        playbooks.NewTemplar(playbooks.TemplarOptions{}),
				Inventory:      inv,
				Connector:      rec,
				BecomeDefaults: c.defaults,
				DefaultBecome:  c.onByFlag,
			}
			if _, err := rollout.NewRunner(exe, inv.resolve, rollout.Options{Forks: 1}).Run(context.Background(), pb); err != nil {
				t.Fatal(err)
			}
			if len(rec.seen) != 1 {
				t.Fatalf("%d commands ran, want 1", len(rec.seen))
			}
			got := rec.seen[0]
			switch {
			case got == nil && c.want == nil:
			case got == nil || c.want == nil || *got != *c.want:
				t.Errorf("become = %#v, want %#v", got, c.want)
			}
		})
	}
}
