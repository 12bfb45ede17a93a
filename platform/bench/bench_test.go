package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestFigures(t *testing.T) {
	t.Run("OK nearest-rank percentiles, mean, max and throughput", func(t *testing.T) {
		s := &samples{wall: 2 * time.Second}
		for i := 1; i <= 100; i++ {
			s.latencies = append(s.latencies, time.Duration(101-i)*time.Millisecond)
		}
		s.addError(errors.New("boom"))
		s.addError(errors.New("boom"))
		f := s.figures()
		require.Equal(t, 100, f.Count)
		require.Equal(t, 2, f.Errors)
		require.Equal(t, []string{"boom"}, f.ErrorSamples)
		require.Equal(t, 50.0, f.P50Ms)
		require.Equal(t, 99.0, f.P99Ms)
		require.Equal(t, 100.0, f.MaxMs)
		require.Equal(t, 50.5, f.MeanMs)
		require.Equal(t, 50.0, f.PerSecond)
	})
	t.Run("OK nothing measured", func(t *testing.T) {
		f := (&samples{}).figures()
		require.Zero(t, f.Count)
		require.Zero(t, f.P50Ms)
	})
	t.Run("OK ratio of nothing is zero", func(t *testing.T) {
		require.Equal(t, 2.06, ratio(513, 249))
		require.Zero(t, ratio(1, 0))
	})
}

func TestClosedLoop(t *testing.T) {
	var calls, failed atomic.Int64
	s := closedLoop(context.Background(), 4, 0, func(_ context.Context, w int) error {
		calls.Add(1)
		if w == 3 {
			failed.Add(1)
			return errors.New("client 3 fails")
		}
		return nil
	})
	// A zero duration still runs one operation per client.
	require.EqualValues(t, 4, calls.Load())
	require.Len(t, s.latencies, 3)
	require.Equal(t, 1, s.errors)
	require.Positive(t, s.wall)
}

func TestAlternate(t *testing.T) {
	var order []string
	p, f := alternate(context.Background(), 1, 0, 3, nil, nil,
		func(context.Context, int) error { order = append(order, "p"); return nil },
		func(context.Context, int) error { order = append(order, "f"); return nil })
	require.Equal(t, []string{"p", "f", "f", "p", "p", "f"}, order, "who goes first swaps every round")
	require.Len(t, p.latencies, 3)
	require.Len(t, f.latencies, 3)
}

func TestReadSSE(t *testing.T) {
	stream := "event: message\nid: 7\ndata: {\"id\":7}\n\n" +
		"event: ping\ndata: {}\n\n" + // no id: not an event of the log
		": comment\nid:8\ndata: {\"id\":8}\n\n"
	var got []sseEvent
	require.NoError(t, readSSE(strings.NewReader(stream), func(e sseEvent) { got = append(got, e) }))
	require.Len(t, got, 2)
	require.EqualValues(t, 7, got[0].id)
	require.Equal(t, "message", got[0].name)
	require.EqualValues(t, 8, got[1].id)
	require.False(t, got[1].at.IsZero())
}

// writeStat writes /proc/<pid>/stat as Linux does, with ticks of CPU time split between user
// and system time.
func writeStat(t *testing.T, proc string, pid int, name string, ppid int, ticks int64) {
	t.Helper()
	d := filepath.Join(proc, strconv.Itoa(pid))
	require.NoError(t, os.MkdirAll(d, 0o755))
	user, system := ticks-ticks/3, ticks/3
	stat := fmt.Sprintf("%d (%s) S %d %d %d 0 -1 4194304 100 0 0 0 %d %d 0 0 20 0 8 0 123 456789 100\n",
		pid, name, ppid, pid, pid, user, system)
	require.NoError(t, os.WriteFile(filepath.Join(d, "stat"), []byte(stat), 0o644))
}

// fakeProc writes a /proc with the given processes: pid → (name, ppid, Pss kB).
func fakeProc(t *testing.T, procs map[int]struct {
	name string
	ppid int
	kb   int
}) string {
	t.Helper()
	dir := t.TempDir()
	for pid, p := range procs {
		d := filepath.Join(dir, strconv.Itoa(pid))
		require.NoError(t, os.MkdirAll(d, 0o755))
		writeStat(t, dir, pid, p.name, p.ppid, 0)
		rollup := "00400000-7fff [rollup]\nRss:  999 kB\nPss:  " + strconv.Itoa(p.kb) + " kB\nPss_Anon: 1 kB\n"
		require.NoError(t, os.WriteFile(filepath.Join(d, "smaps_rollup"), []byte(rollup), 0o644))
	}
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "self"), 0o755)) // not a process
	return dir
}

func TestMeasureMemory(t *testing.T) {
	type p = struct {
		name string
		ppid int
		kb   int
	}
	proc := fakeProc(t, map[int]p{
		10: {"mcp-platform", 1, 200_000},
		11: {"postgres", 10, 40_000},
		12: {"postgres", 11, 5_000},
		13: {"postgres", 11, 5_000},
		20: {"other", 1, 999_999},     // not of the stack
		21: {"(sd-pam) x", 10, 1_000}, // a name with parentheses and spaces
	})
	t.Run("OK a process and all its descendants", func(t *testing.T) {
		m, err := measureMemory(proc, 10)
		require.NoError(t, err)
		require.InDelta(t, 251_000*1024/1e6, m.PSSMB, 0.1)
		require.Len(t, m.Processes, 5)
		require.Equal(t, "mcp-platform", m.Processes[0].Name)
		require.Equal(t, "mcp-platform 204.8 + postgres ×3 51.2 + (sd-pam) x 1.0", byName(m.Processes))
	})
	t.Run("ErrNoSuchProcess", func(t *testing.T) {
		_, err := measureMemory(proc, 99)
		require.ErrorContains(t, err, "process 99")
	})
}

func TestValidate(t *testing.T) {
	require.ErrorContains(t, Options{APIURL: "http://x"}.Validate(), "both -api and -mcp")
	require.ErrorContains(t, Options{Concurrency: []int{0}}.Validate(), "at least 1")
	require.NoError(t, Options{}.Validate())
}
