package tui

import (
	"fmt"
	"time"

	"github.com/kpxdev/kpx/rollout"
)

// t0 is when the scripted rollout starts.
var t0 = time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)

const scriptPlay = "CVE-2026-12345 live patch"

// scriptedRollout is a rollout of a live patch over 10 database hosts in 3 waves
// (serial: [1, 3, 6]): wave 1 passes its checks and is promoted; in wave 2 the kernel_log
// check fails on db03, the wave is rolled back, the rollback fails on db04 (which then
// needs attention), and the run stops. Each batch is what the UI receives in one tick.
func scriptedRollout() []EventsMsg {
	var hosts []string
	for i := 1; i <= 10; i++ {
		hosts = append(hosts, fmt.Sprintf("db%02d", i))
	}
	changed := func(h, msg string) rollout.Event {
		return rollout.HostResult{Host: h, Status: rollout.StatusChanged, Action: "livepatch",
			Result: map[string]any{"changed": true, "msg": msg}}
	}
	check := func(h, name string, attempt int, passed, final bool, out string) rollout.Event {
		r := map[string]any{"changed": false}
		if !passed {
			r["failed"], r["msg"], r["stdout"] = true, "denied pattern found in kernel log", out
		}
		return rollout.CheckResult{Host: h, Wave: 2, Check: name, Attempt: attempt, Passed: passed, Final: final, Result: r}
	}
	wave := func(n int, st rollout.WaveState, hs []string) rollout.WaveChanged {
		return rollout.WaveChanged{Play: scriptPlay, Wave: n, Waves: 3, State: st, Hosts: hs}
	}
	w1, w2 := hosts[:1], hosts[1:4]
	batches := [][]rollout.Event{
		{rollout.RunStarted{RunID: "20261202T010000-7f3a", Playbook: "patch-cve-2026-12345.yml", Hosts: hosts, Time: t0}},
		{rollout.PlayStarted{Name: scriptPlay, Batch: w1, Wave: 1, Waves: 3}, wave(1, rollout.WaveRunning, w1),
			rollout.TaskStarted{Name: "upload the patch"}, changed("db01", "uploaded")},
		{rollout.TaskStarted{Name: "load the live patch"}, changed("db01", "livepatch_cve_2026_12345 enabled")},
		{rollout.WaveChanged{Play: scriptPlay, Wave: 1, Waves: 3, State: rollout.WaveBaking, Until: t0.Add(2*time.Minute + 10*time.Second)}},
		{wave(1, rollout.WaveChecking, nil),
			rollout.CheckResult{Host: "db01", Wave: 1, Check: "kernel_log", Attempt: 1, Passed: true, Final: true},
			wave(1, rollout.WavePromoted, nil)},
		{rollout.PlayStarted{Name: scriptPlay, Batch: w2, Wave: 2, Waves: 3}, wave(2, rollout.WaveRunning, w2),
			rollout.TaskStarted{Name: "upload the patch"}, changed("db02", "uploaded"), changed("db03", "uploaded"), changed("db04", "uploaded"),
			rollout.TaskStarted{Name: "load the live patch"}, changed("db02", "enabled"), changed("db03", "enabled")},
		{changed("db04", "enabled"), rollout.WaveChanged{Play: scriptPlay, Wave: 2, Waves: 3, State: rollout.WaveBaking, Until: t0.Add(5 * time.Minute)}},
		{wave(2, rollout.WaveChecking, nil), check("db02", "kernel_log", 1, true, true, ""),
			check("db03", "kernel_log", 1, false, false, "[ 812.4] BUG: unable to handle page fault\n[ 812.4] Call Trace:"),
			check("db04", "kernel_log", 1, true, true, "")},
		{check("db03", "kernel_log", 2, false, true, "[ 812.4] BUG: unable to handle page fault\n[ 812.4] Call Trace:"),
			rollout.WaveChanged{Play: scriptPlay, Wave: 2, Waves: 3, State: rollout.WaveFailed, Reason: "check kernel_log failed on db03"},
			rollout.RollbackStarted{Play: scriptPlay, Wave: 2, Scope: "wave", Hosts: w2},
			rollout.TaskStarted{Name: "unload the live patch"}, changed("db02", "disabled")},
		{changed("db03", "disabled"),
			rollout.HostResult{Host: "db04", Status: rollout.StatusFailed, Action: "livepatch",
				Result: map[string]any{"failed": true, "msg": "rmmod: ERROR: Module livepatch_cve_2026_12345 is in use", "rc": 1,
					"stderr": "rmmod: ERROR: Module livepatch_cve_2026_12345 is in use"}},
			rollout.HostAttention{Host: "db04", Reason: "rollback failed: module still loaded"},
			wave(2, rollout.WaveRolledBack, nil)},
		{rollout.RolloutSummary{RunID: "20261202T010000-7f3a", Stopped: "wave 2 failed", Hosts: []rollout.HostOutcome{
			{Host: "db01", Wave: 1, Applied: true},
			{Host: "db02", Wave: 2, Applied: true, RolledBack: true},
			{Host: "db03", Wave: 2, Applied: true, RolledBack: true, Failed: "check kernel_log: denied pattern found in kernel log", Checks: []string{"kernel_log"}},
			{Host: "db04", Wave: 2, Applied: true, NeedsAttention: "rollback failed: module still loaded"},
			{Host: "db05"}, {Host: "db06"}, {Host: "db07"}, {Host: "db08"}, {Host: "db09"}, {Host: "db10"},
		}},
			rollout.RunFinished{Hosts: hosts[:4], Stats: map[string]rollout.HostStats{
				"db01": {OK: 0, Changed: 2}, "db02": {Changed: 3}, "db03": {Changed: 3}, "db04": {Changed: 2, Failed: 1}}}},
	}
	// Ticks: each batch arrives 20s after the previous one.
	out := make([]EventsMsg, len(batches))
	for i, b := range batches {
		out[i] = EventsMsg{Events: b, At: t0.Add(time.Duration(i) * 20 * time.Second)}
	}
	return out
}

// scriptUntilRollback is the script up to the rollback's first result.
func scriptUntilRollback() []EventsMsg { return scriptedRollout()[:9] }
