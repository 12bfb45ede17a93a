package bench

import (
	"context"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestCPUOf(t *testing.T) {
	proc := t.TempDir()
	writeStat(t, proc, 7, "postgres: mcp (idle)", 1, 250)
	r, err := cpuOf(proc, 7)
	require.NoError(t, err)
	require.Equal(t, "postgres: mcp (idle)", r.name, "a name with spaces and parentheses")
	require.EqualValues(t, 250, r.ticks, "user and system time")

	require.NoError(t, os.WriteFile(proc+"/7/stat", []byte("7 (short) S 1 7\n"), 0o644))
	_, err = cpuOf(proc, 7)
	require.ErrorContains(t, err, "no CPU times")
}

func TestCPUMeter(t *testing.T) {
	t.Run("OK the CPU time a tree used, by process name", func(t *testing.T) {
		proc := t.TempDir()
		writeStat(t, proc, 10, "mcp-platform", 1, 1000)
		writeStat(t, proc, 11, "postgres", 10, 300)
		writeStat(t, proc, 12, "postgres", 11, 50)
		writeStat(t, proc, 99, "other", 1, 5000) // not of the stack
		m := &cpuMeter{proc: proc, roots: []int{10}}
		before := m.read()
		require.Len(t, before, 3)

		writeStat(t, proc, 10, "mcp-platform", 1, 1250)
		writeStat(t, proc, 11, "postgres", 10, 320)
		require.NoError(t, os.RemoveAll(proc+"/12")) // a backend that exited
		writeStat(t, proc, 13, "postgres", 11, 7)    // one that started
		writeStat(t, proc, 99, "other", 1, 9000)     // busy, but not the stack's
		used := m.since(before)
		require.Equal(t, map[string]time.Duration{
			"mcp-platform": 2500 * time.Millisecond,
			"postgres":     270 * time.Millisecond, // 20 ticks + 7 of the new backend
		}, used)
	})

	t.Run("OK no roots: nothing measured", func(t *testing.T) {
		var m *cpuMeter
		require.Nil(t, m.since(m.read()))
		s := m.measure(func() *samples { return &samples{} })
		require.Nil(t, s.cpu)
	})

	t.Run("OK this process's CPU time, as the kernel accounts it", func(t *testing.T) {
		if runtime.GOOS != "linux" {
			t.Skip("needs /proc")
		}
		m := &cpuMeter{proc: "/proc", roots: []int{os.Getpid()}}
		start := cpuTime(t)
		s := m.measure(func() *samples {
			// Spin until the kernel has charged this process 300 ms more.
			for cpuTime(t)-start < 300*time.Millisecond {
				for i := 0; i < 1e6; i++ {
				}
			}
			return &samples{}
		})
		got := s.cpu[procName(t)]
		require.GreaterOrEqual(t, got, 250*time.Millisecond, "the meter saw the spin: %v", s.cpu)
	})
}

// cpuTime is this process's user and system time so far, from getrusage(2).
func cpuTime(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	require.NoError(t, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procName is this process's name in /proc.
func procName(t *testing.T) string {
	t.Helper()
	r, err := cpuOf("/proc", os.Getpid())
	require.NoError(t, err)
	return r.name
}

func TestCPUFigures(t *testing.T) {
	used := map[string]time.Duration{"mcp-platform": 900 * time.Millisecond, "postgres": 100 * time.Millisecond}
	f := cpuFigures(used, 20, 1*time.Second, 2)
	require.Equal(t, 50.0, f.MsPerOp)
	require.Equal(t, map[string]float64{"mcp-platform": 45, "postgres": 5}, f.ByProcess)
	require.Equal(t, 0.5, f.Busy, "1 s of CPU over 1 s on 2 CPUs")
	require.Equal(t, "50.0 ms (mcp-platform 45.0 + postgres 5.0), 50% busy", f.summary())

	require.Nil(t, cpuFigures(nil, 20, time.Second, 2), "not measured")
	require.Nil(t, cpuFigures(used, 0, time.Second, 2), "no operation to divide by")
}

func TestAlternateMeasuresCPU(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs /proc")
	}
	m := &cpuMeter{proc: "/proc", roots: []int{os.Getpid()}}
	p, f := alternate(context.Background(), 1, 400*time.Millisecond, 2, nil, m, busy(20*time.Millisecond), busy(5*time.Millisecond))
	for name, s := range map[string]*samples{"platform": p, "floor": f} {
		fig := s.figures()
		require.NotNil(t, fig.CPU, name)
		require.Positive(t, fig.CPU.MsPerOp, name)
		require.Contains(t, fig.CPU.ByProcess, procName(t), name)
	}
	r := &Report{}
	r.addComparison("w", "floor", 1, p.figures(), f.figures())
	require.Less(t, r.Comparisons[0].CPURatio, 0.75, "the floor's operations spin a quarter as long")
	require.Positive(t, r.Comparisons[0].CPURatio)
}
