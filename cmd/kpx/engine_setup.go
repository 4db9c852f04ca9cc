package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/kpxdev/kpx/internal/vault"
	"github.com/kpxdev/kpx/inventory"
	"github.com/kpxdev/kpx/playbooks"
	"github.com/kpxdev/kpx/rollout"
	"github.com/kpxdev/kpx/transport"
)

// engineSetup is what every command that drives hosts builds from its options: the
// playbook, the inventory, the task executor and its connection pool.
type engineSetup struct {
	pb    *playbooks.Playbook
	inv   *engineInventory
	exe   *rollout.TaskExecutor
	pool  *transport.Pool
	vault *vault.Vault // nil without vault passwords
}

// mask is the runner's Mask: it hides what the vault decrypted; nil without a vault.
func (e *engineSetup) mask() func(string) string {
	if e.vault == nil {
		return nil
	}
	return e.vault.Mask
}

// setupEngine loads and validates the playbook and the inventory, then prepares the
// executor. No host is contacted.
func setupEngine(o runOptions, stderr io.Writer) (*engineSetup, error) {
	catalog, err := moduleCatalog(o)
	if err != nil {
		return nil, err
	}
	vlt, err := openVault(context.Background(), &o, stderr)
	if err != nil {
		return nil, err
	}
	pb, err := playbooks.Load(o.playbook, withRoles(playbooks.LoadOptions{Modules: catalog, Vault: vlt}, o, &catalog))
	if err != nil {
		return nil, err
	}
	extra, err := playbooks.ParseExtraVarsWith(o.extraVars, vlt)
	if err != nil {
		return nil, err
	}
	for k, v := range o.extraVarsParsed {
		if _, ok := extra[k]; !ok {
			extra[k] = v
		}
	}
	if len(o.sources) == 0 {
		return nil, fmt.Errorf("give an inventory with -i")
	}
	inv, err := inventory.LoadWith(o.sources, inventory.LoadOptions{Vault: vlt})
	if err != nil {
		return nil, err
	}
	if err := inv.ReadVarsFiles(); err != nil {
		return nil, err
	}
	for _, w := range inv.Warnings {
		fmt.Fprintf(stderr, "[WARNING]: %s\n", w)
	}
	loginPass, becomePass, err := askPasswords(o, stderr)
	if err != nil {
		return nil, err
	}
	pool := transport.NewPool(transport.PoolOptions{MaxDials: o.forks,
		Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	hv := transport.DefaultHostVarsOptions()
	if o.user != "" {
		hv.LocalUser = o.user
	}
	configHostVars(o, &hv)
	ri := newEngineInventory(inv, o.limit)
	ri.warn = func(msg string) { fmt.Fprintf(stderr, "[WARNING]: %s\n", msg) }
	exe := &rollout.TaskExecutor{
		Templar:   playbooks.NewTemplar(playbooks.TemplarOptions{SearchDirs: []string{filepath.Dir(pb.Path)}}),
		Inventory: ri,
		Connector: &rollout.PoolConnector{Pool: pool, Options: hv, Password: loginPass,
			Warn: func(h, m string) { fmt.Fprintf(stderr, "[WARNING]: %s: %s\n", h, m) }},
		ExtraVars: extra,
		Check:     o.check,
		Diff:      o.diff,
		Modules:   catalog,
		Vault:     vlt,
	}
	if o.become || o.becomeUser != "" || o.askBecomePass {
		exe.DefaultBecome = &transport.Become{Method: o.becomeMethod, User: o.becomeUser, Password: becomePass}
	}
	exe.BecomeDefaults = becomeDefaults(o, becomePass)
	return &engineSetup{pb: pb, inv: ri, exe: exe, pool: pool, vault: vlt}, nil
}

func (e *engineSetup) close() { e.pool.Close() }

// runStart is the journal's record of what was asked for: enough for kpx resume and
// kpx rollback to run it again, without secrets.
func runStart(id, command string, o runOptions, e *engineSetup) rollout.RunStarted {
	abs := func(p string) string {
		if a, err := filepath.Abs(p); err == nil {
			return a
		}
		return p
	}
	var sources []string
	for _, s := range o.sources {
		if _, err := os.Stat(s); err != nil && strings.Contains(s, ",") {
			sources = append(sources, s)
		} else {
			sources = append(sources, abs(s))
		}
	}
	extra, _ := rollout.RedactSecrets(e.exe.ExtraVars)
	for k, v := range extra {
		if e.vault.HasSecrets() && holdsSecret(v, e.vault) {
			extra[k] = rollout.Redacted // from a vaulted file: kpx resume asks for it again
		}
	}
	return rollout.RunStarted{RunID: id, Command: command, Playbook: abs(e.pb.Path), Check: o.check,
		Inventory: sources, Limit: o.limit, ExtraVars: extra, Tags: o.tags, SkipTags: o.skipTags}
}

// journalStore is the directory of run journals: --state-dir, else the default.
func journalStore(stateDir string) (rollout.JournalStore, error) {
	if stateDir != "" {
		return rollout.JournalStore{Dir: filepath.Join(stateDir, "runs")}, nil
	}
	dir, err := rollout.DefaultJournalDir()
	return rollout.JournalStore{Dir: dir}, err
}
