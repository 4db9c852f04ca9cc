package etcdjournal_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kpxdev/kpx/internal/etcdtest"
	"github.com/kpxdev/kpx/internal/simfleet"
	"github.com/kpxdev/kpx/modules"
	"github.com/kpxdev/kpx/playbooks"
	"github.com/kpxdev/kpx/rollout"
	"github.com/kpxdev/kpx/rollout/etcdjournal"
	"github.com/kpxdev/kpx/transport"
)

// fleetExec is an in-process fleet whose hosts answer every task at once: what remains
// of a rollout is the engine and its journal.
type fleetExec struct{}

func (fleetExec) Execute(context.Context, string, *playbooks.Task, func(rollout.Event)) rollout.Outcome {
	return rollout.Outcome{Status: rollout.StatusChanged, Result: map[string]any{"changed": true}}
}

const benchPlay = `- name: live patch
  hosts: all
  gather_facts: false
  serial: [1, "10%", "50%", "100%"]
  tasks:
    - name: upload
      command: "true"
    - name: load
      command: "true"
  health:
    retries: 0
    checks:
      - name: loaded
        command: "true"
  rollback:
    tasks:
      - command: "true"
`

// BenchmarkJournal1000Hosts runs a 1,000-host canary rollout (4 waves, 2 tasks and a
// health check per host) with no journal, the file journal, and the etcd journal on a
// local single-member cluster, and reports the journal's cost per journaled event and per
// synced (state-change) event. The hosts answer every task at once, so that what remains
// is the engine and its journal.
func BenchmarkJournal1000Hosts(b *testing.B) {
	hosts := make([]string, 1000)
	for i := range hosts {
		hosts[i] = fmt.Sprintf("db%04d", i)
	}
	benchJournals(b, fleetExec{}, hosts, 50)
}

// BenchmarkJournal1000HostsSSH is the same rollout on the in-process SSH fleet
// (internal/simfleet): every task a real command over SSH, through the transport pool.
func BenchmarkJournal1000HostsSSH(b *testing.B) {
	const n = 1000
	if err := simfleet.RaiseOpenFiles(4*n + 1024); err != nil {
		b.Skip(err)
	}
	f, err := simfleet.Start(context.Background(), simfleet.Options{Hosts: n, Dir: b.TempDir(),
		SSHArgs: "-o ServerAliveInterval=60"})
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	pool := transport.NewPool(transport.PoolOptions{MaxDials: 50})
	defer pool.Close()
	inv := simInventory{f}
	opts := transport.DefaultHostVarsOptions()
	opts.SSHConfigFile = "none"
	exe := &rollout.TaskExecutor{
		Templar:   playbooks.NewTemplar(playbooks.TemplarOptions{}),
		Inventory: inv,
		Connector: &rollout.PoolConnector{Pool: pool, Options: opts},
		Modules:   modules.Builtin(),
	}
	benchJournals(b, exe, inv.hosts(), 50)
}

// simInventory describes a simulated fleet to the engine.
type simInventory struct{ f *simfleet.Fleet }

func (i simInventory) HostVars(host string) map[string]any {
	for _, h := range i.f.Hosts {
		if h.Name == host {
			return map[string]any{"ansible_host": h.Addr, "ansible_port": h.Port, "ansible_user": i.f.User,
				"ansible_ssh_private_key_file": i.f.ClientKey,
				"ansible_ssh_common_args":      "-o UserKnownHostsFile=" + i.f.KnownHosts + " -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes"}
		}
	}
	return nil
}

func (i simInventory) hosts() []string {
	var out []string
	for _, h := range i.f.Hosts {
		out = append(out, h.Name)
	}
	return out
}

func (i simInventory) Groups() map[string][]string {
	return map[string][]string{"all": i.hosts(), "ungrouped": i.hosts()}
}

func (i simInventory) GroupNames(string) []string { return nil }

// timedJournal measures the time the engine spends in its journal: the engine calls it
// under its event lock, so this time is on the run's critical path.
type timedJournal struct {
	rollout.Journal
	spent time.Duration
}

func (t *timedJournal) Append(ev rollout.Event) error {
	began := time.Now()
	defer func() { t.spent += time.Since(began) }()
	return t.Journal.Append(ev)
}

func (t *timedJournal) Sync() error {
	began := time.Now()
	defer func() { t.spent += time.Since(began) }()
	return t.Journal.Sync()
}

// benchJournals runs the rollout once untimed (connections and caches warm), then with no
// journal, the file journal and the etcd journal, reporting the run's time, its events,
// and the time spent in Append and Sync per event and per synced event.
func benchJournals(b *testing.B, exe rollout.Executor, hosts []string, forks int) {
	path := filepath.Join(b.TempDir(), "play.yml")
	if err := os.WriteFile(path, []byte(benchPlay), 0o644); err != nil {
		b.Fatal(err)
	}
	pb, err := playbooks.Load(path, playbooks.LoadOptions{Modules: modules.Builtin()})
	if err != nil {
		b.Fatal(err)
	}
	resolve := func(*playbooks.Play) ([]string, error) { return hosts, nil }
	if _, err := rollout.NewRunner(exe, resolve, rollout.Options{Forks: forks}).Run(context.Background(), pb); err != nil {
		b.Fatal(err)
	}
	c := etcdtest.Start(b, 1)
	// A long lease: the in-process SSH fleet saturates both cores, and the lease's
	// renewals must not be taken for an outage (they were, at 15s).
	eb, err := etcdjournal.New(etcdjournal.Options{Endpoints: c.Endpoints(), Prefix: "/bench", LocalDir: b.TempDir(),
		LeaseTTL: time.Minute, Timeout: 30 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer eb.Close()
	backends := []struct {
		name string
		open func() rollout.JournalBackend
	}{
		{"none", nil},
		{"file", func() rollout.JournalBackend {
			return rollout.FileBackend{Store: rollout.JournalStore{Dir: b.TempDir()}}
		}},
		{"etcd", func() rollout.JournalBackend { return eb }},
	}
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			var spent time.Duration
			events, synced := 0, 0
			for i := 0; b.Loop(); i++ {
				var j *timedJournal
				opts := rollout.Options{Forks: forks}
				id := fmt.Sprintf("20261202T000000-%06d-%s-%d", i, be.name, len(hosts))
				if be.open != nil {
					inner, err := be.open().Create(id)
					if err != nil {
						b.Fatal(err)
					}
					j = &timedJournal{Journal: inner}
					opts.Journal = j
				}
				opts.Start = rollout.RunStarted{RunID: id}
				opts.Emit = func(ev rollout.Event) {
					events++
					switch ev.(type) {
					case rollout.RunStarted, rollout.WaveChanged, rollout.HostTaskState, rollout.RollbackStarted,
						rollout.HostAttention, rollout.ControlChanged, rollout.RolloutSummary, rollout.RunFinished:
						synced++
					}
				}
				fin, err := rollout.NewRunner(exe, resolve, opts).Run(context.Background(), pb)
				if err != nil || fin.ExitCode() != 0 {
					b.Fatalf("run: %v (exit %d)", err, fin.ExitCode())
				}
				if j != nil {
					if err := j.Close(); err != nil {
						b.Fatal(err)
					}
					spent += j.spent
				}
			}
			b.ReportMetric(float64(events)/float64(b.N), "events/run")
			b.ReportMetric(float64(synced)/float64(b.N), "synced/run")
			if be.open != nil {
				b.ReportMetric(float64(spent.Microseconds())/float64(events), "µs-journal/event")
				b.ReportMetric(float64(spent.Microseconds())/float64(synced), "µs-journal/synced-event")
				b.ReportMetric(spent.Seconds()/float64(b.N), "s-journal/run")
			}
		})
	}
}
