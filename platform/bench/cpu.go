package bench

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// CPUFigures are the CPU time the stack's processes used while one side's operations ran,
// read from /proc. When both sides keep the machine's CPUs busy, throughput follows CPU time
// per operation, so the floor's MsPerOp over the platform's is what the throughput ratio tends
// to (Comparison.CPURatio).
type CPUFigures struct {
	// MsPerOp is the CPU time (user and system, all threads) per successful operation, summed
	// over the stack's processes.
	MsPerOp float64 `json:"ms_per_op"`
	// ByProcess splits MsPerOp by process name ("mcp-platform", "postgres").
	ByProcess map[string]float64 `json:"by_process"`
	// Busy is the share of the machine's CPUs the processes kept busy: their CPU time over the
	// wall time times the CPUs (1 means every CPU, all the time).
	Busy float64 `json:"busy"`
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's CPU times: 100 on every Linux ABI
// Go supports.
const clockTicks = 100

// cpuMeter reads the CPU time of the process trees rooted at roots (the stack: this process
// with its private PostgreSQL, or -pid's processes), in /proc.
type cpuMeter struct {
	proc  string
	roots []int
}

// cpuReading is one process's CPU time when read.
type cpuReading struct {
	name  string
	ticks int64
}

// read reads every process of the trees; a process that just exited is skipped.
func (m *cpuMeter) read() map[int]cpuReading {
	if m == nil || len(m.roots) == 0 {
		return nil
	}
	out := map[int]cpuReading{}
	for _, root := range m.roots {
		for _, pid := range treeOf(m.proc, root) {
			if r, err := cpuOf(m.proc, pid); err == nil {
				out[pid] = r
			}
		}
	}
	return out
}

// since is the CPU time used, by process name, from before to now. A process that started
// since counts whole; one that exited since is lost (the stack's connections live long, so
// this is rare).
func (m *cpuMeter) since(before map[int]cpuReading) map[string]time.Duration {
	if m == nil || len(m.roots) == 0 {
		return nil
	}
	used := map[string]time.Duration{}
	for pid, now := range m.read() {
		d := now.ticks - before[pid].ticks
		if d < 0 { // the PID was reused
			d = now.ticks
		}
		used[now.name] += time.Duration(d) * time.Second / clockTicks
	}
	return used
}

// measure runs fn and adds the CPU time the stack used meanwhile to s.
func (m *cpuMeter) measure(fn func() *samples) *samples {
	before := m.read()
	s := fn()
	s.addCPU(m.since(before))
	return s
}

// cpuOf reads a process's name and its user and system time from /proc/<pid>/stat.
func cpuOf(proc string, pid int) (cpuReading, error) {
	name, fields, err := readStat(proc, pid)
	if err != nil {
		return cpuReading{}, err
	}
	// fields[0] is the state, field 3; utime and stime are fields 14 and 15.
	if len(fields) < 13 {
		return cpuReading{}, fmt.Errorf("no CPU times in /proc/%d/stat", pid)
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return cpuReading{}, fmt.Errorf("malformed CPU times in /proc/%d/stat", pid)
	}
	return cpuReading{name: name, ticks: utime + stime}, nil
}

// cpuFigures summarizes used, the CPU time of ops operations over wall on cpus CPUs; nil when
// nothing was measured.
func cpuFigures(used map[string]time.Duration, ops int, wall time.Duration, cpus int) *CPUFigures {
	if used == nil || ops == 0 {
		return nil
	}
	f := &CPUFigures{ByProcess: map[string]float64{}}
	var total time.Duration
	for _, name := range slices.Sorted(maps.Keys(used)) {
		total += used[name]
		f.ByProcess[name] = ms(used[name] / time.Duration(ops))
	}
	f.MsPerOp = ms(total / time.Duration(ops))
	if wall > 0 && cpus > 0 {
		f.Busy = round(total.Seconds()/(wall.Seconds()*float64(cpus)), 2)
	}
	return f
}

// summary is "45.4 ms (mcp-platform 40.7 + postgres 4.7), 88% busy".
func (f *CPUFigures) summary() string {
	names := slices.Sorted(maps.Keys(f.ByProcess))
	parts := make([]string, 0, len(names))
	for _, n := range names {
		parts = append(parts, fmt.Sprintf("%s %.1f", n, f.ByProcess[n]))
	}
	return fmt.Sprintf("%.1f ms (%s), %.0f%% busy", f.MsPerOp, strings.Join(parts, " + "), f.Busy*100)
}
