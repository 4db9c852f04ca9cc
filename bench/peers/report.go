package peers

import (
	"fmt"
	"strings"

	"github.com/kpxdev/kpx/bench/measure"
)

// result is one tool's samples at one fleet size.
type result struct {
	Tool    string           `json:"tool"`
	Kind    string           `json:"kind"`
	Hosts   int              `json:"hosts"`
	Forks   string           `json:"forks"`
	Samples []measure.Sample `json:"-"`
	Wall    []float64        `json:"wall_s"`
	CPU     []float64        `json:"cpu_s"`
	PeakMiB []float64        `json:"peak_mib"`
	// TargetCPU is the fleet's CPU time per run (sshd and the sessions it served).
	TargetCPU []float64 `json:"hosts_cpu_s"`
	Failure   string    `json:"failure,omitempty"` // why the tool could not run, if it could not
}

// formatTable writes one fleet size's results as a Markdown table: median and range of
// wall time, controller CPU and peak memory per tool, and kpx's ratio to each peer of the
// same kind (kpx run for playbooks, kpx exec for the fan-out).
func formatTable(hosts int, forks string, results []*result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n### %d hosts, -f %s\n\n", hosts, forks)
	fmt.Fprintf(&b, "| benchmark | tool | runs | wall s median (min-max) | controller CPU s median (min-max) | CPU ms per host-task | peak memory MiB median (min-max) | hosts' CPU s median | kpx : tool, wall | kpx : tool, CPU |\n")
	fmt.Fprintf(&b, "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	kpx := map[string]*result{}
	for _, r := range results {
		if strings.HasPrefix(r.Tool, "kpx-") && r.Failure == "" {
			kpx[r.Kind] = r
		}
	}
	tasks := map[string]int{"playbook": 5, "fanout": 1}
	for _, r := range results {
		if r.Failure != "" {
			first, _, _ := strings.Cut(strings.TrimSpace(r.Failure), "\n")
			fmt.Fprintf(&b, "| %s | %s | 0 | failed: %s | | | | | | |\n", r.Kind, r.Tool, first)
			continue
		}
		w, c, m := measure.Of(r.Samples, measure.Wall), measure.Of(r.Samples, measure.CPU), measure.Of(r.Samples, measure.PeakMiB)
		ratioW, ratioC := "-", "-"
		if k := kpx[r.Kind]; k != nil && k != r {
			kw, kc := measure.Of(k.Samples, measure.Wall), measure.Of(k.Samples, measure.CPU)
			ratioW = fmt.Sprintf("1 : %.1f", w.Median/kw.Median)
			ratioC = fmt.Sprintf("1 : %.1f", c.Median/kc.Median)
		}
		perTask := c.Median * 1000 / float64(hosts*tasks[r.Kind])
		tc := measure.Of(r.Samples, measure.TargetCPU)
		fmt.Fprintf(&b, "| %s | %s | %d | %.2f (%.2f-%.2f) | %.2f (%.2f-%.2f) | %.1f | %.0f (%.0f-%.0f) | %.2f | %s | %s |\n",
			r.Kind, r.Tool, len(r.Samples), w.Median, w.Min, w.Max, c.Median, c.Min, c.Max, perTask,
			m.Median, m.Min, m.Max, tc.Median, ratioW, ratioC)
	}
	return b.String()
}
