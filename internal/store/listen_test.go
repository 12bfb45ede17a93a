package store_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"mcp-platform/internal/store"
	"mcp-platform/internal/testutil/dbtest"
)

// recorder is one Listen call's handlers, writing what they hear to channels.
type recorder struct {
	connected, disconnected chan struct{}
	payloads                chan string
}

func newRecorder() *recorder {
	return &recorder{connected: make(chan struct{}, 8), disconnected: make(chan struct{}, 8), payloads: make(chan string, 64)}
}

func (r *recorder) handlers() store.Handlers {
	return store.Handlers{
		Connected:    func() { r.connected <- struct{}{} },
		Disconnected: func() { r.disconnected <- struct{}{} },
		Notified:     func(p string) { r.payloads <- p },
	}
}

// listen runs store.Listen until the returned function is called, which waits for it to return.
func listen(t *testing.T, db *dbtest.Database, channel string, r *recorder) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		store.Listen(ctx, db.Pool, channel, slog.New(slog.NewTextHandler(io.Discard, nil)), r.handlers())
	}()
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			cancel()
			<-done
		}
	}
	t.Cleanup(stop)
	return stop
}

func receive[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		var zero T
		return zero
	}
}

func notify(t *testing.T, db *dbtest.Database, channel, payload string) {
	t.Helper()
	_, err := db.Pool.Exec(context.Background(), "SELECT pg_notify($1, $2)", channel, payload)
	require.NoError(t, err)
}

// listeningBackends counts the sessions of the test's database whose last statement was a
// LISTEN or UNLISTEN: the listening connections.
func listeningBackends(t *testing.T, db *dbtest.Database) int {
	t.Helper()
	var n int
	require.NoError(t, db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
		WHERE datname = $1 AND (query LIKE 'LISTEN %' OR query LIKE 'UNLISTEN %') AND pid <> pg_backend_pid()`, db.Name).Scan(&n))
	return n
}

func TestListen(t *testing.T) {
	db := dbtest.NewEmpty(t)
	a, b := newRecorder(), newRecorder()
	stopA := listen(t, db, "test_a", a)
	listen(t, db, "test_b", b)
	receive(t, a.connected, "a connected")
	receive(t, b.connected, "b connected")

	t.Run("OK listeners of one pool share one connection", func(t *testing.T) {
		require.Equal(t, 1, listeningBackends(t, db))
	})

	t.Run("OK each hears its own channel, in order", func(t *testing.T) {
		notify(t, db, "test_a", "a1")
		notify(t, db, "test_b", "b1")
		notify(t, db, "test_a", "a2")
		require.Equal(t, "a1", receive(t, a.payloads, "a1"))
		require.Equal(t, "a2", receive(t, a.payloads, "a2"))
		require.Equal(t, "b1", receive(t, b.payloads, "b1"))
		require.Empty(t, b.payloads, "b hears nothing of test_a")
	})

	t.Run("OK a lost connection is reported and re-established for every listener", func(t *testing.T) {
		var killed int
		require.NoError(t, db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM (SELECT pg_terminate_backend(pid)
			FROM pg_stat_activity WHERE datname = $1 AND query LIKE 'LISTEN %' AND pid <> pg_backend_pid()) t`, db.Name).Scan(&killed))
		require.Equal(t, 1, killed)
		for _, r := range []*recorder{a, b} {
			receive(t, r.disconnected, "disconnected")
			receive(t, r.connected, "connected again")
		}
		notify(t, db, "test_b", "b2")
		require.Equal(t, "b2", receive(t, b.payloads, "b2 after the reconnect"))
		require.Equal(t, 1, listeningBackends(t, db))
	})

	t.Run("OK a listener that stops hears nothing more; the others go on", func(t *testing.T) {
		stopA()
		receive(t, a.disconnected, "a disconnected when it stops")
		notify(t, db, "test_a", "late")
		notify(t, db, "test_b", "b3")
		// Notifications are handed out in order: once b has b3, a would have had "late".
		require.Equal(t, "b3", receive(t, b.payloads, "b3"))
		require.Empty(t, a.payloads)
		require.Empty(t, a.connected)
	})
}

func TestListenClosesTheConnectionWhenNoListenerIsLeft(t *testing.T) {
	db := dbtest.NewEmpty(t)
	r := newRecorder()
	stop := listen(t, db, "test_c", r)
	receive(t, r.connected, "connected")
	require.Equal(t, 1, listeningBackends(t, db))
	stop()
	require.Eventually(t, func() bool { return listeningBackends(t, db) == 0 }, 10*time.Second, 20*time.Millisecond)

	// A new listener starts a new connection.
	again := newRecorder()
	listen(t, db, "test_c", again)
	receive(t, again.connected, "connected again")
	notify(t, db, "test_c", "hello")
	require.Equal(t, "hello", receive(t, again.payloads, "hello"))
	require.Empty(t, r.payloads)
}

func TestListenRefusesABadChannelName(t *testing.T) {
	db := dbtest.NewEmpty(t)
	require.Panics(t, func() {
		store.Listen(context.Background(), db.Pool, "x; DROP TABLE y", slog.New(slog.NewTextHandler(io.Discard, nil)), store.Handlers{})
	})
}
