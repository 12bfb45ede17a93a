package bench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"mcp-platform/internal/config"
	"mcp-platform/platform"
	"mcp-platform/platform/bench"
	"mcp-platform/platform/platformtest"
)

// TestQuick runs the whole benchmark, short, on its own in-process dev stack: every figure is
// there, the floor ran beside the platform, nothing failed. It asserts no thresholds: figures
// come from real runs of `mcp-platform bench`, not from tests.
func TestQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a whole dev stack")
	}
	dir := t.TempDir()
	// PostgreSQL runs as user postgres when the tests run as root: it must reach the data dir.
	require.NoError(t, os.Chmod(filepath.Dir(dir), 0o755))
	require.NoError(t, os.Chmod(dir, 0o755))
	env := map[string]string{"MCP_DOMAINS_DIR": filepath.Join(platformtest.RepoRoot(), "config", "domains")}
	cfg, err := config.Load(func(k string) string { return env[k] })
	require.NoError(t, err)

	var progress bytes.Buffer
	r, err := bench.Run(context.Background(), bench.Options{
		Config: cfg, Adapters: platform.BuiltinAdapters(), DataDir: dir, FloorEager: true, Progress: &progress,
	}.Quick())
	require.NoError(t, err, progress.String())

	works := []string{bench.WorkChat, bench.WorkExecute, bench.WorkMCP}
	require.Len(t, r.Comparisons, 2*len(works), "every work at c=1 and c=4")
	for _, c := range r.Comparisons {
		require.Contains(t, works, c.Work)
		for side, f := range map[string]bench.Figures{"platform": c.Platform, "floor": c.Floor} {
			require.Positive(t, f.Count, "%s %s c=%d ran", side, c.Work, c.Concurrency)
			require.Zero(t, f.Errors, "%s %s c=%d: %v", side, c.Work, c.Concurrency, f.ErrorSamples)
			require.Positive(t, f.P50Ms)
			require.GreaterOrEqual(t, f.P99Ms, f.P50Ms)
			require.Positive(t, f.PerSecond)
			require.NotNil(t, f.CPU, "%s %s c=%d: the stack's CPU time", side, c.Work, c.Concurrency)
			require.Positive(t, f.CPU.MsPerOp)
			require.Contains(t, f.CPU.ByProcess, "postgres", "the private PostgreSQL counts")
		}
		require.Positive(t, c.CPURatio)
		require.Positive(t, c.P50Ratio)
		require.Positive(t, c.ThroughputRatio)
	}
	require.Equal(t, bench.FloorTurnName, r.Comparisons[0].FloorName)
	require.Positive(t, r.Soak.Count)
	require.Zero(t, r.Soak.Errors)
	require.Positive(t, r.Soak.P99Ms)
	require.NotNil(t, r.SSE)
	require.Positive(t, r.SSE.Published)
	require.Equal(t, r.SSE.Published, r.SSE.Received)
	require.Positive(t, r.SSE.P99Ms)
	for _, m := range []*bench.MemoryFigures{r.Memory.Idle, r.Memory.AfterLoad} {
		require.NotNil(t, m)
		require.Positive(t, m.PSSMB)
		require.Equal(t, os.Getpid(), m.Processes[0].PID)
		require.True(t, slices.ContainsFunc(m.Processes, func(p bench.ProcessPSS) bool { return p.Name == "postgres" }),
			"the private PostgreSQL counts: %v", m.Processes)
	}

	var table bytes.Buffer
	r.WriteTable(&table)
	for _, want := range []string{"chat turn", "/execute", "MCP tools/call", "3-activity floor", "1-activity floor", "soak", "SSE", "memory (PSS, idle)", "CPU per op"} {
		require.Contains(t, table.String(), want)
	}
	var js bytes.Buffer
	require.NoError(t, r.WriteJSON(&js))
	var decoded map[string]any
	require.NoError(t, json.Unmarshal(js.Bytes(), &decoded))
	for _, k := range []string{"comparisons", "soak", "sse", "memory", "machine", "settings"} {
		require.Contains(t, decoded, k)
	}
}
