package bench

import (
	"math"
	"runtime"
	"slices"
	"time"
)

// Figures summarise one load run: latencies of the operations that succeeded, how many failed,
// and the throughput over the run's wall time.
type Figures struct {
	// Count is the number of operations that succeeded.
	Count int `json:"count"`
	// Errors is the number of operations that failed.
	Errors int `json:"errors"`
	// P50Ms, P99Ms, MeanMs and MaxMs are latencies of the successful operations, in milliseconds.
	P50Ms  float64 `json:"p50_ms"`
	P99Ms  float64 `json:"p99_ms"`
	MeanMs float64 `json:"mean_ms"`
	MaxMs  float64 `json:"max_ms"`
	// PerSecond is successful operations per second of wall time.
	PerSecond float64 `json:"per_second"`
	// Seconds is the wall time the operations took, summed over rounds.
	Seconds float64 `json:"seconds"`
	// ErrorSamples are the first few distinct error messages.
	ErrorSamples []string `json:"error_samples,omitempty"`
	// CPU is what the stack's processes used meanwhile, when their process IDs are known.
	CPU *CPUFigures `json:"cpu,omitempty"`
}

// samples collects what load runs measured; several rounds add to one.
type samples struct {
	latencies []time.Duration
	errors    int
	errSeen   []string
	wall      time.Duration
	// cpu is the stack's CPU time by process name (nil: not measured).
	cpu map[string]time.Duration
}

// maxErrorSamples bounds how many distinct error messages a report keeps.
const maxErrorSamples = 5

func (s *samples) addError(err error) {
	s.errors++
	msg := err.Error()
	if len(s.errSeen) < maxErrorSamples && !slices.Contains(s.errSeen, msg) {
		s.errSeen = append(s.errSeen, msg)
	}
}

// addCPU adds the stack's CPU time used, by process name.
func (s *samples) addCPU(used map[string]time.Duration) {
	if used == nil {
		return
	}
	if s.cpu == nil {
		s.cpu = map[string]time.Duration{}
	}
	for name, d := range used {
		s.cpu[name] += d
	}
}

func (s *samples) merge(o *samples) {
	s.addCPU(o.cpu)
	s.latencies = append(s.latencies, o.latencies...)
	s.errors += o.errors
	s.wall += o.wall
	for _, m := range o.errSeen {
		if len(s.errSeen) < maxErrorSamples && !slices.Contains(s.errSeen, m) {
			s.errSeen = append(s.errSeen, m)
		}
	}
}

// figures computes the summary. Percentiles use the nearest-rank method.
func (s *samples) figures() Figures {
	f := Figures{Count: len(s.latencies), Errors: s.errors, Seconds: round(s.wall.Seconds(), 2), ErrorSamples: s.errSeen,
		CPU: cpuFigures(s.cpu, len(s.latencies), s.wall, runtime.NumCPU())}
	if len(s.latencies) == 0 {
		return f
	}
	sorted := slices.Clone(s.latencies)
	slices.Sort(sorted)
	var sum time.Duration
	for _, d := range sorted {
		sum += d
	}
	f.P50Ms = ms(percentile(sorted, 50))
	f.P99Ms = ms(percentile(sorted, 99))
	f.MeanMs = ms(sum / time.Duration(len(sorted)))
	f.MaxMs = ms(sorted[len(sorted)-1])
	if s.wall > 0 {
		f.PerSecond = round(float64(len(sorted))/s.wall.Seconds(), 2)
	}
	return f
}

// percentile returns the nearest-rank p-th percentile of sorted, which must not be empty.
func percentile(sorted []time.Duration, p float64) time.Duration {
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

func ms(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 2) }

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

// ratio is a/b rounded, or 0 when b is 0 (nothing to compare with).
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return round(a/b, 2)
}
