package tui

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/kpxdev/kpx/rollout"
)

// benchStream is a rollout of a live patch over n hosts in four waves (1%, 9%, 40%, 50%),
// three tasks and a health check per host, with one host in fifty failing its check, cut
// to exactly events events. Each task is what the engine emits: the host's "started"
// record, its result, its outcome record.
func benchStream(n, events int) []rollout.Event {
	hosts := make([]string, n)
	for i := range hosts {
		hosts[i] = fmt.Sprintf("db%05d.example.net", i+1)
	}
	const play = "live patch"
	out := []rollout.Event{rollout.RunStarted{RunID: "bench", Playbook: "patch.yml", Hosts: hosts, Time: t0}}
	bounds := []int{0, n / 100, n / 10, n / 2, n}
	for w := 1; w < len(bounds); w++ {
		batch := hosts[bounds[w-1]:bounds[w]]
		out = append(out, rollout.PlayStarted{Name: play, Batch: batch, Wave: w, Waves: 4},
			rollout.WaveChanged{Play: play, Wave: w, Waves: 4, State: rollout.WaveRunning, Hosts: batch})
		for _, task := range []string{"upload the patch", "load the live patch", "record the patch"} {
			out = append(out, rollout.TaskStarted{Name: task})
			for _, h := range batch {
				st := rollout.HostTaskState{Host: h, Wave: w, Phase: rollout.PhaseTasks, Task: task, State: rollout.HostStarted}
				out = append(out, st, rollout.HostResult{Host: h, Status: rollout.StatusChanged, Action: "command",
					Result: map[string]any{"changed": true, "rc": 0, "stdout": "livepatch_cve_2026_12345 enabled"}})
				st.State = string(rollout.StatusChanged)
				out = append(out, st)
			}
		}
		out = append(out, rollout.WaveChanged{Play: play, Wave: w, Waves: 4, State: rollout.WaveChecking})
		for i, h := range batch {
			passed := i%50 != 7
			r := map[string]any{"changed": false}
			if !passed {
				r["failed"], r["msg"] = true, "denied pattern found in kernel log: BUG:"
			}
			out = append(out, rollout.CheckResult{Host: h, Wave: w, Check: "kernel_log", Attempt: 1, Passed: passed, Final: true, Result: r})
		}
		out = append(out, rollout.WaveChanged{Play: play, Wave: w, Waves: 4, State: rollout.WavePromoted})
	}
	for len(out) < events { // a longer tail of retries keeps the count exact
		out = append(out, rollout.TaskRetry{Host: hosts[len(out)%n], Task: "wait for the transition", Left: 3})
	}
	return out[:events]
}

// playStream feeds the stream to m in frames of batch events, drawing each frame as the
// bubbletea renderer does, and returns the model.
func playStream(m tea.Model, stream []rollout.Event, batch int) tea.Model {
	at := t0
	for i := 0; i < len(stream); i += batch {
		at = at.Add(DefaultBatchInterval)
		m, _ = m.Update(EventsMsg{Events: stream[i:min(i+batch, len(stream))], At: at})
		_ = m.View()
	}
	return m
}

func benchModel() tea.Model {
	m, _ := testModel(&fakeController{}).Update(tea.WindowSizeMsg{Width: 160, Height: 50})
	return m
}

// BenchmarkStream10k plays 100,000 events of a 10,000-host rollout into the UI in frames
// (one frame: one batch Update and one View) and reports the time per frame and the
// events per second the UI absorbs.
func BenchmarkStream10k(b *testing.B) {
	const hosts, events = 10_000, 100_000
	stream := benchStream(hosts, events)
	for _, batch := range []int{100, 1000, 5000} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			frames := (events + batch - 1) / batch
			var total, cpu time.Duration
			for b.Loop() {
				m := benchModel()
				start, startCPU := time.Now(), cpuTime()
				playStream(m, stream, batch)
				total += time.Since(start)
				cpu += cpuTime() - startCPU
			}
			b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N*frames), "ms/frame")
			b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N*frames), "cpu-ms/frame")
			b.ReportMetric(float64(b.N*events)/total.Seconds(), "events/s")
		})
	}
}

// BenchmarkFrame10k is one frame on a 10,000-host run in progress, with the hosts table
// filtered and failed hosts first (the rows are rebuilt every frame).
func BenchmarkFrame10k(b *testing.B) {
	stream := benchStream(10_000, 100_000)
	m := playStream(benchModel(), stream[:60_000], 1000)
	for _, k := range []string{"f", "/", "9", "enter"} {
		m, _ = m.Update(press(k))
	}
	frame := stream[60_000:61_000]
	at := t0.Add(time.Hour)
	startCPU := cpuTime()
	for b.Loop() {
		at = at.Add(time.Millisecond)
		m, _ = m.Update(EventsMsg{Events: frame, At: at})
		_ = m.View()
	}
	b.ReportMetric(float64((cpuTime()-startCPU).Microseconds())/1000/float64(b.N), "cpu-ms/frame")
}

// TestBenchStreamIsWhatItSays keeps the benchmark honest: the stream has the size it
// claims and the UI ends it with every host accounted for.
func TestBenchStreamIsWhatItSays(t *testing.T) {
	stream := benchStream(10_000, 100_000)
	if len(stream) != 100_000 {
		t.Fatalf("%d events", len(stream))
	}
	m := playStream(benchModel(), stream, 5000).(Model)
	if got := len(m.st.hosts); got != 10_000 {
		t.Errorf("%d hosts in the UI", got)
	}
	if m.st.failed != 200 {
		t.Errorf("%d failed hosts, want 200 (one in fifty)", m.st.failed)
	}
	if v := m.View(); len(v) == 0 {
		t.Error("empty view")
	}
}

// cpuTime is the CPU time this process used so far: on a machine shared with other work,
// wall time per frame says as much about the neighbours as about the UI.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
