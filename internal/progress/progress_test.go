package progress_test

import (
	"context"
	"io"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"mcp-platform/internal/progress"
	"mcp-platform/internal/testutil/dbtest"
)

func TestStore(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	s := progress.NewStore(db.Pool)

	t.Run("OK progress only increases", func(t *testing.T) {
		key := progress.Key("tool-a", "call-1")
		for _, c := range []struct {
			progress float64
			recorded bool
		}{{1, true}, {3, true}, {2, false}, {3, false}, {4, true}} {
			ok, err := s.Publish(ctx, progress.Update{Key: key, Progress: c.progress, Total: 4, Message: "step"})
			require.NoError(t, err)
			require.Equal(t, c.recorded, ok, "progress %v", c.progress)
		}
		got, ok, err := s.Latest(ctx, key)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, progress.Update{Key: key, Progress: 4, Total: 4, Message: "step"}, got)
	})
	t.Run("OK a call without progress has none", func(t *testing.T) {
		_, ok, err := s.Latest(ctx, progress.Key("tool-none", "call-1"))
		require.NoError(t, err)
		require.False(t, ok)
	})
	t.Run("OK prune deletes only old progress", func(t *testing.T) {
		old, fresh := progress.Key("tool-old", "call-1"), progress.Key("tool-fresh", "call-1")
		for _, k := range []string{old, fresh} {
			_, err := s.Publish(ctx, progress.Update{Key: k, Progress: 1})
			require.NoError(t, err)
		}
		_, err := db.Pool.Exec(ctx, `UPDATE tool_progress SET updated_at = now() - interval '2 days' WHERE call_key = $1`, old)
		require.NoError(t, err)
		_, err = s.Prune(ctx, progress.Retention)
		require.NoError(t, err)
		_, ok, err := s.Latest(ctx, old)
		require.NoError(t, err)
		require.False(t, ok)
		_, ok, err = s.Latest(ctx, fresh)
		require.NoError(t, err)
		require.True(t, ok)
	})
	t.Run("ErrNotFinite", func(t *testing.T) {
		_, err := s.Publish(ctx, progress.Update{Key: "k", Progress: 1, Total: math.Inf(1)})
		require.Error(t, err)
	})
}

func TestClean(t *testing.T) {
	require.Equal(t, "login with password=[REDACTED]", progress.Clean("login with password=hunter2"))
	require.Equal(t, "a\uFFFDb", progress.Clean("a\x00b"))
	long := progress.Clean(strings.Repeat("é", progress.MaxMessage))
	require.LessOrEqual(t, len(long), progress.MaxMessage)
	require.True(t, strings.HasSuffix(long, "…"))
}

func TestHub(t *testing.T) {
	db, hub, _, ctx := runHub(t)
	mine, other := progress.Key("tool-mine", "call-1"), progress.Key("tool-other", "call-1")
	updates, stop := hub.Follow(mine)
	defer stop()
	store := progress.NewStore(db.Pool)

	// The hub may not be listening yet: publish until an update arrives, each higher.
	var got progress.Update
	require.Eventually(t, func() bool {
		_, err := store.Publish(ctx, progress.Update{Key: other, Progress: float64(time.Now().UnixNano())})
		require.NoError(t, err)
		_, err = store.Publish(ctx, progress.Update{Key: mine, Progress: float64(time.Now().UnixNano()), Message: "mine"})
		require.NoError(t, err)
		select {
		case got = <-updates:
			return true
		case <-time.After(50 * time.Millisecond):
			return false
		}
	}, 10*time.Second, time.Millisecond)
	require.Equal(t, mine, got.Key, "only the followed call's updates")
	require.Equal(t, "mine", got.Message)
}

func TestReporter(t *testing.T) {
	ctx := context.Background()
	s := progress.NewStore(dbtest.New(t).Pool)
	key := progress.Key("tool-r", "call-1")
	r := s.Reporter(ctx, key, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for i := 1; i <= 50; i++ {
		r.Report(float64(i), 50, "copying token=abc123")
	}
	r.Report(10, 50, "stale")
	r.Close()
	got, ok, err := s.Latest(ctx, key)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, progress.Update{Key: key, Progress: 50, Total: 50, Message: "copying token=[REDACTED]"}, got,
		"Close publishes the last report, cleaned; a lower one is dropped")

	r.Report(60, 60, "after close")
	got, _, err = s.Latest(ctx, key)
	require.NoError(t, err)
	require.Equal(t, 50.0, got.Progress, "reports after Close are dropped")
}

// TestReporterBurst: a call's first Burst reports are each published as they come (a tool
// reporting 0, 50 and 100 a few milliseconds apart shows all three), and a storm of reports
// after them is coalesced to the latest.
func TestReporterBurst(t *testing.T) {
	db, hub, logger, ctx := runHub(t)
	store := progress.NewStore(db.Pool)

	ready := progress.Key("tool-ready", "call-1")
	readyUpdates, stopReady := hub.Follow(ready)
	defer stopReady()
	require.Eventually(t, func() bool {
		_, err := store.Publish(ctx, progress.Update{Key: ready, Progress: float64(time.Now().UnixNano())})
		require.NoError(t, err)
		select {
		case <-readyUpdates:
			return true
		case <-time.After(50 * time.Millisecond):
			return false
		}
	}, 10*time.Second, time.Millisecond, "the hub listens")

	key := progress.Key("tool-burst", "call-1")
	updates, stop := hub.Follow(key)
	defer stop()
	r := store.Reporter(ctx, key, logger)
	for i := 1; i <= 3; i++ {
		r.Report(float64(i), 50, "")
		time.Sleep(50 * time.Millisecond) // the pace of the suite's test_tool_with_progress
	}
	for i := 4; i <= 50; i++ {
		r.Report(float64(i), 50, "")
	}
	r.Close()

	var got []float64
	timeout := time.After(30 * time.Second)
	for len(got) == 0 || got[len(got)-1] < 50 {
		select {
		case u := <-updates:
			got = append(got, u.Progress)
		case <-timeout:
			t.Fatalf("the last report never arrived; got %v", got)
		}
	}
	require.Equal(t, []float64{1, 2, 3}, got[:3], "the first reports are published as they come")
	require.LessOrEqual(t, len(got), progress.Burst+2, "the storm after them is coalesced: %v", got)
}

// runHub runs a hub on a fresh database until the test ends.
func runHub(t *testing.T) (*dbtest.Database, *progress.Hub, *slog.Logger, context.Context) {
	t.Helper()
	db := dbtest.New(t)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	hub := progress.NewHub(db.Pool, logger)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go hub.Run(ctx)
	return db, hub, logger, ctx
}
