package bench

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"
)

// The measured works and their floors, as the report names them.
const (
	WorkChat      = "chat turn"
	WorkExecute   = "/execute"
	WorkMCP       = "MCP tools/call"
	FloorTurnName = "3-activity floor"
	FloorToolName = "1-activity floor"
)

// Report is what a run measured.
type Report struct {
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Machine  Machine   `json:"machine"`
	// Target says what ran the platform.
	Target   string   `json:"target"`
	Settings Settings `json:"settings"`
	// Comparisons are the platform's works against their floors, per concurrency.
	Comparisons []Comparison `json:"comparisons"`
	Soak        Soak         `json:"soak"`
	SSE         *SSEFigures  `json:"sse,omitempty"`
	SSEError    string       `json:"sse_error,omitempty"`
	Memory      struct {
		// Idle is read after the stack served one chat turn and idled; AfterLoad after the whole
		// run and the same idle time.
		Idle      *MemoryFigures `json:"idle,omitempty"`
		AfterLoad *MemoryFigures `json:"after_load,omitempty"`
	} `json:"memory"`
	Notes []string `json:"notes,omitempty"`
}

// Machine describes where the figures come from.
type Machine struct {
	CPUs         int    `json:"cpus"`
	CPUModel     string `json:"cpu_model,omitempty"`
	OS           string `json:"os"`
	Go           string `json:"go"`
	LoadAvgStart string `json:"load_avg_start,omitempty"`
	LoadAvgEnd   string `json:"load_avg_end,omitempty"`
}

// Settings are the run's shape.
type Settings struct {
	DurationS       float64 `json:"duration_s"`
	Rounds          int     `json:"rounds"`
	Concurrency     []int   `json:"concurrency"`
	SoakConcurrency int     `json:"soak_concurrency"`
	SoakDurationS   float64 `json:"soak_duration_s"`
	SSEStreams      int     `json:"sse_streams"`
	SSEEvents       int     `json:"sse_events_per_stream"`
	FloorEager      bool    `json:"floor_eager_start"`
}

// Comparison is one work of the platform against its floor at one concurrency. Ratios are
// platform / floor: latency ratios above 1 and a throughput ratio below 1 are the platform's
// overhead.
type Comparison struct {
	Work            string  `json:"work"`
	FloorName       string  `json:"floor_name"`
	Concurrency     int     `json:"concurrency"`
	Platform        Figures `json:"platform"`
	Floor           Figures `json:"floor"`
	P50Ratio        float64 `json:"p50_ratio"`
	P99Ratio        float64 `json:"p99_ratio"`
	ThroughputRatio float64 `json:"throughput_ratio"`
	// CPURatio is the floor's CPU time per operation over the platform's (0 when not
	// measured): the throughput ratio when both sides are limited by the machine's CPUs.
	CPURatio float64 `json:"cpu_ratio,omitempty"`
}

// Soak is the high-concurrency run of chat turns, which must have no errors.
type Soak struct {
	Work        string  `json:"work"`
	Concurrency int     `json:"concurrency"`
	DurationS   float64 `json:"duration_s"`
	Figures
}

func newReport(o Options) *Report {
	r := &Report{Started: time.Now().UTC(), Settings: Settings{
		DurationS: o.Duration.Seconds(), Rounds: o.Rounds, Concurrency: o.Concurrency,
		SoakConcurrency: o.SoakConcurrency, SoakDurationS: o.SoakDuration.Seconds(),
		SSEStreams: o.SSEStreams, SSEEvents: o.SSEEvents, FloorEager: o.FloorEager,
	}}
	r.Machine = Machine{CPUs: runtime.NumCPU(), CPUModel: cpuModel(), OS: runtime.GOOS + "/" + runtime.GOARCH,
		Go: runtime.Version(), LoadAvgStart: loadAvg()}
	return r
}

func (r *Report) addComparison(work, floor string, c int, p, f Figures) {
	cmp := Comparison{Work: work, FloorName: floor, Concurrency: c, Platform: p, Floor: f,
		P50Ratio: ratio(p.P50Ms, f.P50Ms), P99Ratio: ratio(p.P99Ms, f.P99Ms), ThroughputRatio: ratio(p.PerSecond, f.PerSecond)}
	if p.CPU != nil && f.CPU != nil {
		cmp.CPURatio = ratio(f.CPU.MsPerOp, p.CPU.MsPerOp)
	}
	r.Comparisons = append(r.Comparisons, cmp)
}

// failures reports whether any measured operation failed.
func (r *Report) failures() bool {
	for _, c := range r.Comparisons {
		if c.Platform.Errors > 0 || c.Floor.Errors > 0 {
			return true
		}
	}
	return r.Soak.Errors > 0 || r.SSEError != ""
}

// WriteTable prints the report for people.
func (r *Report) WriteTable(w io.Writer) {
	fmt.Fprintf(w, "\nMCP Platform benchmark, %s UTC, %s\n", r.Started.Format("2006-01-02 15:04"), r.Target)
	fmt.Fprintf(w, "machine: %d CPUs (%s), %s, %s, load average %s at start, %s at end\n",
		r.Machine.CPUs, r.Machine.CPUModel, r.Machine.OS, r.Machine.Go, r.Machine.LoadAvgStart, r.Machine.LoadAvgEnd)
	fmt.Fprintf(w, "each side %gs per row in %d alternating rounds; the floor runs no-op workflows on the same Temporal server\n"+
		"(3-activity: LLM, tool on a second task queue, LLM; 1-activity: the tool); ratio = platform / floor\n\n",
		r.Settings.DurationS, r.Settings.Rounds)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "work\tc\tp50 ms\tp99 ms\tper s\tfloor\tp50 ms\tp99 ms\tper s\tp50 ratio\tper-s ratio\terrors\t")
	for _, c := range r.Comparisons {
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.1f\t%.2f\t%s\t%.1f\t%.1f\t%.2f\t%.2f×\t%.2f×\t%d\t\n",
			c.Work, c.Concurrency, c.Platform.P50Ms, c.Platform.P99Ms, c.Platform.PerSecond,
			c.FloorName, c.Floor.P50Ms, c.Floor.P99Ms, c.Floor.PerSecond, c.P50Ratio, c.ThroughputRatio,
			c.Platform.Errors+c.Floor.Errors)
	}
	_ = tw.Flush()
	for _, c := range r.Comparisons {
		if c.CPURatio > 0 {
			fmt.Fprintf(w, "CPU per op, %s c=%d: platform %s; floor %s; floor/platform %.2f×\n",
				c.Work, c.Concurrency, c.Platform.CPU.summary(), c.Floor.CPU.summary(), c.CPURatio)
		}
	}
	s := r.Soak
	fmt.Fprintf(w, "\nsoak: %s, c=%d for %gs: %d ok, %d errors, p50 %.1f ms, p99 %.1f ms, %.2f per s\n",
		s.Work, s.Concurrency, s.DurationS, s.Count, s.Errors, s.P50Ms, s.P99Ms, s.PerSecond)
	if r.SSE != nil {
		fmt.Fprintf(w, "SSE, event written → client read: %d streams, %d/%d events delivered, p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
			r.SSE.Streams, r.SSE.Received, r.SSE.Published, r.SSE.P50Ms, r.SSE.P99Ms, r.SSE.MaxMs)
	}
	if r.SSEError != "" {
		fmt.Fprintf(w, "SSE error: %s\n", r.SSEError)
	}
	for _, m := range []struct {
		name string
		fig  *MemoryFigures
	}{{"idle", r.Memory.Idle}, {"idle after the load", r.Memory.AfterLoad}} {
		if m.fig != nil {
			fmt.Fprintf(w, "memory (PSS, %s): %.1f MB = %s\n", m.name, m.fig.PSSMB, byName(m.fig.Processes))
		}
	}
	for _, c := range r.Comparisons {
		for _, e := range append(c.Platform.ErrorSamples, c.Floor.ErrorSamples...) {
			fmt.Fprintf(w, "error (%s, c=%d): %s\n", c.Work, c.Concurrency, e)
		}
	}
	for _, e := range s.ErrorSamples {
		fmt.Fprintf(w, "error (soak): %s\n", e)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}

// byName sums processes of the same name: "mcp-platform 210.3 + postgres ×9 61.2".
func byName(ps []ProcessPSS) string {
	var order []string
	sums, counts := map[string]float64{}, map[string]int{}
	for _, p := range ps {
		if counts[p.Name] == 0 {
			order = append(order, p.Name)
		}
		sums[p.Name] += p.PSSMB
		counts[p.Name]++
	}
	parts := make([]string, 0, len(order))
	for _, n := range order {
		if counts[n] > 1 {
			parts = append(parts, fmt.Sprintf("%s ×%d %.1f", n, counts[n], sums[n]))
		} else {
			parts = append(parts, fmt.Sprintf("%s %.1f", n, sums[n]))
		}
	}
	return strings.Join(parts, " + ")
}

// cpuModel is the first "model name" of /proc/cpuinfo ("" elsewhere).
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
