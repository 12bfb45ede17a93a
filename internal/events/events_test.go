package events_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mcp-platform/internal/events"
	"mcp-platform/internal/testutil/dbtest"
)

// wait bounds every wait for a wake; a hub that works answers in milliseconds.
const wait = 10 * time.Second

// rawPayload publishes any data under any type, to test the store itself.
type rawPayload struct {
	typ  string
	data any
}

func (r rawPayload) EventType() string { return r.typ }

func (r rawPayload) MarshalJSON() ([]byte, error) { return json.Marshal(r.data) }

func publish(tb testing.TB, s *events.Store, conv string, turn int, typ string, data any) int64 {
	tb.Helper()
	id, err := s.Publish(context.Background(), conv, turn, rawPayload{typ, data})
	require.NoError(tb, err)
	return id
}

func eventIDs(evs []events.Event) []int64 {
	out := make([]int64, 0, len(evs))
	for _, e := range evs {
		out = append(out, e.ID)
	}
	return out
}

func TestPublish(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	s := events.NewStore(db.Pool)

	t.Run("OK increasing IDs across conversations", func(t *testing.T) {
		a, b := db.Conversation(t), db.Conversation(t)
		var got []int64
		for _, conv := range []string{a, b, a, a, b} {
			got = append(got, publish(t, s, conv, 1, events.TypeDelta, map[string]any{"text": "x"}))
		}
		for i := 1; i < len(got); i++ {
			require.Greater(t, got[i], got[i-1])
		}
	})

	t.Run("OK the event reads back as published", func(t *testing.T) {
		conv := db.Conversation(t)
		id := publish(t, s, conv, 3, events.TypeToolFinished, map[string]any{"tool": "hr.get_employee", "duration_ms": 12, "ok": true})
		require.Positive(t, id)

		got, err := s.After(ctx, conv, 0, 10)
		require.NoError(t, err)
		require.Len(t, got, 1)
		require.Equal(t, id, got[0].ID)
		require.Equal(t, conv, got[0].ConversationID)
		require.Equal(t, 3, got[0].Turn)
		require.Equal(t, events.TypeToolFinished, got[0].Type)
		require.JSONEq(t, `{"tool":"hr.get_employee","duration_ms":12,"ok":true}`, string(got[0].Data))
		require.WithinDuration(t, time.Now(), got[0].CreatedAt, time.Minute)
	})

	t.Run("OK data of any JSON shape", func(t *testing.T) {
		conv := db.Conversation(t)
		type delta struct {
			Text string `json:"text"`
		}
		inputs := []any{nil, "plain", []int{1, 2}, delta{Text: "hi"}, json.RawMessage(`{"raw":1}`)}
		want := []string{`null`, `"plain"`, `[1,2]`, `{"text":"hi"}`, `{"raw":1}`}
		for _, in := range inputs {
			publish(t, s, conv, 1, events.TypeDelta, in)
		}
		got, err := s.After(ctx, conv, 0, 10)
		require.NoError(t, err)
		require.Len(t, got, len(want))
		for i := range want {
			require.JSONEq(t, want[i], string(got[i].Data))
		}
	})

	t.Run("ErrUnencodableData", func(t *testing.T) {
		conv := db.Conversation(t)
		_, err := s.Publish(ctx, conv, 1, rawPayload{events.TypeDelta, map[string]any{"f": func() {}}})
		require.ErrorContains(t, err, "encode delta event")
		last, err := s.LastID(ctx, conv)
		require.NoError(t, err)
		require.Zero(t, last)
	})

	t.Run("ErrUnknownConversation", func(t *testing.T) {
		conv := uuid.NewString()
		_, err := s.Publish(ctx, conv, 1, rawPayload{events.TypeDelta, map[string]any{}})
		require.ErrorContains(t, err, "publish delta event")
		last, err := s.LastID(ctx, conv)
		require.NoError(t, err)
		require.Zero(t, last)
	})
}

func TestAfter(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	s := events.NewStore(db.Pool)
	a, b := db.Conversation(t), db.Conversation(t)

	// Five events of a, interleaved with two of b.
	var ea, eb []int64
	ea = append(ea, publish(t, s, a, 1, events.TypeTurnStarted, map[string]any{}))
	eb = append(eb, publish(t, s, b, 1, events.TypeTurnStarted, map[string]any{}))
	ea = append(ea, publish(t, s, a, 1, events.TypeDelta, map[string]any{"text": "He"}))
	ea = append(ea, publish(t, s, a, 1, events.TypeDelta, map[string]any{"text": "llo"}))
	eb = append(eb, publish(t, s, b, 1, events.TypeTurnFailed, map[string]any{}))
	ea = append(ea, publish(t, s, a, 1, events.TypeTurnCompleted, map[string]any{}))
	ea = append(ea, publish(t, s, a, 2, events.TypeTurnStarted, map[string]any{}))

	tests := []struct {
		name    string
		conv    string
		afterID int64
		limit   int
		want    []int64
	}{
		{"OK from the start, oldest first", a, 0, 100, ea},
		{"OK after an event", a, ea[1], 100, ea[2:]},
		{"OK after another conversation's event", a, eb[0], 100, ea[1:]},
		{"OK after the last event", a, ea[4], 100, []int64{}},
		{"OK limit", a, 0, 2, ea[:2]},
		{"OK limit after an event", a, ea[0], 2, ea[1:3]},
		{"OK only the conversation's own", b, 0, 100, eb},
		{"OK conversation without events", db.Conversation(t), 0, 100, []int64{}},
		{"OK unknown conversation", uuid.NewString(), 0, 100, []int64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.After(ctx, tt.conv, tt.afterID, tt.limit)
			require.NoError(t, err)
			require.Equal(t, tt.want, eventIDs(got))
			for _, e := range got {
				require.Equal(t, tt.conv, e.ConversationID)
			}
		})
	}

	t.Run("OK types and turns in order", func(t *testing.T) {
		got, err := s.After(ctx, a, 0, 100)
		require.NoError(t, err)
		var types []string
		var turns []int
		for _, e := range got {
			types = append(types, e.Type)
			turns = append(turns, e.Turn)
		}
		require.Equal(t, []string{events.TypeTurnStarted, events.TypeDelta, events.TypeDelta, events.TypeTurnCompleted, events.TypeTurnStarted}, types)
		require.Equal(t, []int{1, 1, 1, 1, 2}, turns)
		require.JSONEq(t, `{"text":"llo"}`, string(got[2].Data))
	})
}

func TestLastID(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	s := events.NewStore(db.Pool)
	a, b, empty := db.Conversation(t), db.Conversation(t), db.Conversation(t)

	publish(t, s, a, 1, events.TypeTurnStarted, map[string]any{})
	lastA := publish(t, s, a, 1, events.TypeTurnCompleted, map[string]any{})
	lastB := publish(t, s, b, 1, events.TypeTurnStarted, map[string]any{})

	tests := []struct {
		name string
		conv string
		want int64
	}{
		{"OK newest of the conversation", a, lastA},
		{"OK not another conversation's newer event", b, lastB},
		{"OK zero without events", empty, 0},
		{"OK zero for an unknown conversation", uuid.NewString(), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.LastID(ctx, tt.conv)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}

	t.Run("OK following from LastID sees only what comes next", func(t *testing.T) {
		from, err := s.LastID(ctx, a)
		require.NoError(t, err)
		next := publish(t, s, a, 2, events.TypeTurnStarted, map[string]any{})
		got, err := s.After(ctx, a, from, 100)
		require.NoError(t, err)
		require.Equal(t, []int64{next}, eventIDs(got))
	})
}

// runHub starts a hub and stops it when the test ends, failing if Run does not return.
func runHub(tb testing.TB, db *dbtest.Database) *events.Hub {
	tb.Helper()
	hub := events.NewHub(db.Pool, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		hub.Run(ctx)
	}()
	tb.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(wait):
			tb.Errorf("Hub.Run did not return within %s of its context ending", wait)
		}
	})
	return hub
}

func requireWake(tb testing.TB, ch <-chan struct{}) {
	tb.Helper()
	select {
	case <-ch:
	case <-time.After(wait):
		tb.Fatalf("no wake within %s", wait)
	}
}

// requireNoWake checks that no wake is pending; call it after settle, which guarantees that
// every notification sent before has been handled.
func requireNoWake(tb testing.TB, ch <-chan struct{}) {
	tb.Helper()
	select {
	case <-ch:
		tb.Fatal("unexpected wake")
	default:
	}
}

// settle publishes to a conversation of its own and waits for the hub to wake its subscriber.
// Notifications arrive in order on the hub's one connection, so when it returns the hub has
// handled every event published before. The first call also waits until the hub listens.
func settle(tb testing.TB, hub *events.Hub, s *events.Store, conv string) {
	tb.Helper()
	ch, cancel := hub.Subscribe(conv)
	defer cancel()
	publish(tb, s, conv, 0, events.TypeDelta, map[string]any{})
	requireWake(tb, ch)
}

func TestHub(t *testing.T) {
	db := dbtest.New(t)
	s := events.NewStore(db.Pool)
	hub := runHub(t, db)
	barrier := db.Conversation(t)
	settle(t, hub, s, barrier)

	t.Run("OK a subscriber is woken by an event published afterwards", func(t *testing.T) {
		conv := db.Conversation(t)
		ch, cancel := hub.Subscribe(conv)
		defer cancel()
		from, err := s.LastID(context.Background(), conv)
		require.NoError(t, err)

		id := publish(t, s, conv, 1, events.TypeDelta, map[string]any{"text": "hi"})
		requireWake(t, ch)
		got, err := s.After(context.Background(), conv, from, 100)
		require.NoError(t, err)
		require.Equal(t, []int64{id}, eventIDs(got))
	})

	t.Run("OK every subscriber of the conversation is woken", func(t *testing.T) {
		conv := db.Conversation(t)
		ch1, cancel1 := hub.Subscribe(conv)
		defer cancel1()
		ch2, cancel2 := hub.Subscribe(conv)
		defer cancel2()

		publish(t, s, conv, 1, events.TypeDelta, map[string]any{})
		requireWake(t, ch1)
		requireWake(t, ch2)
	})

	t.Run("OK other conversations' subscribers are not woken", func(t *testing.T) {
		a, b := db.Conversation(t), db.Conversation(t)
		chA, cancelA := hub.Subscribe(a)
		defer cancelA()
		chB, cancelB := hub.Subscribe(b)
		defer cancelB()

		publish(t, s, a, 1, events.TypeDelta, map[string]any{})
		settle(t, hub, s, barrier)
		requireWake(t, chA)
		requireNoWake(t, chB)
	})

	t.Run("OK wakes while one is pending coalesce", func(t *testing.T) {
		conv := db.Conversation(t)
		ch, cancel := hub.Subscribe(conv)
		defer cancel()

		for range 3 {
			publish(t, s, conv, 1, events.TypeDelta, map[string]any{})
		}
		settle(t, hub, s, barrier)
		requireWake(t, ch)
		requireNoWake(t, ch)

		// The stream re-reads the table after a wake, so one wake is enough to see them all.
		got, err := s.After(context.Background(), conv, 0, 100)
		require.NoError(t, err)
		require.Len(t, got, 3)
	})

	t.Run("OK an ended subscription is not woken", func(t *testing.T) {
		conv := db.Conversation(t)
		ended, cancelEnded := hub.Subscribe(conv)
		kept, cancelKept := hub.Subscribe(conv)
		defer cancelKept()
		cancelEnded()
		cancelEnded() // ending twice is harmless

		publish(t, s, conv, 1, events.TypeDelta, map[string]any{})
		settle(t, hub, s, barrier)
		requireWake(t, kept)
		requireNoWake(t, ended)
	})

	t.Run("OK subscribing again after the last one ended", func(t *testing.T) {
		conv := db.Conversation(t)
		_, cancel := hub.Subscribe(conv)
		cancel()
		ch, cancel := hub.Subscribe(conv)
		defer cancel()

		publish(t, s, conv, 1, events.TypeDelta, map[string]any{})
		requireWake(t, ch)
	})

	t.Run("OK a failed publish wakes nobody", func(t *testing.T) {
		conv := uuid.NewString() // no such conversation: the insert fails
		ch, cancel := hub.Subscribe(conv)
		defer cancel()

		_, err := s.Publish(context.Background(), conv, 1, rawPayload{events.TypeDelta, map[string]any{}})
		require.Error(t, err)
		settle(t, hub, s, barrier)
		requireNoWake(t, ch)
	})
}

// listeners counts the server connections listening for events on the test database. It asks
// on a connection of its own, so that it never takes a connection from the pool the hub uses.
func listeners(tb testing.TB, db *dbtest.Database) (int, error) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	conn, err := pgx.Connect(ctx, db.URL)
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	var n int
	err = conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND query = $2 AND pid <> pg_backend_pid()`,
		db.Name, "LISTEN "+events.Channel).Scan(&n)
	return n, err
}

func TestHubReconnects(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	s := events.NewStore(db.Pool)
	hub := runHub(t, db)
	barrier, conv := db.Conversation(t), db.Conversation(t)
	settle(t, hub, s, barrier)
	ch, cancel := hub.Subscribe(conv)
	defer cancel()

	// Cut the hub's connection and publish while it may be away: the notification can be
	// lost, but the hub wakes every subscriber once it listens again.
	var killed int
	err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = $1 AND query = $2 AND pid <> pg_backend_pid()) t`, db.Name, "LISTEN "+events.Channel).Scan(&killed)
	require.NoError(t, err)
	require.Equal(t, 1, killed)
	id := publish(t, s, conv, 1, events.TypeDelta, map[string]any{})
	requireWake(t, ch)
	got, err := s.After(ctx, conv, 0, 100)
	require.NoError(t, err)
	require.Equal(t, []int64{id}, eventIDs(got))

	// Listening again: later events wake as before.
	settle(t, hub, s, barrier)
	select {
	case <-ch: // the lost notification may have been delivered after all
	default:
	}
	publish(t, s, conv, 1, events.TypeDelta, map[string]any{})
	requireWake(t, ch)
	n, err := listeners(t, db)
	require.NoError(t, err)
	require.Equal(t, 1, n)
}

func TestHubStops(t *testing.T) {
	db := dbtest.New(t)
	s := events.NewStore(db.Pool)
	hub := events.NewHub(db.Pool, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		hub.Run(ctx)
	}()
	settle(t, hub, s, db.Conversation(t))
	n, err := listeners(t, db)
	require.NoError(t, err)
	require.Equal(t, 1, n)

	cancel()
	select {
	case <-done:
	case <-time.After(wait):
		t.Fatalf("Hub.Run did not return within %s of its context ending", wait)
	}
	// The listening connection is closed, not left open or handed back to the pool.
	require.Eventually(t, func() bool {
		n, err := listeners(t, db)
		return err == nil && n == 0
	}, wait, 10*time.Millisecond)
}

func TestPublishStoresNUL(t *testing.T) {
	db := dbtest.New(t)
	s, conv := events.NewStore(db.Pool), db.Conversation(t)
	id, err := s.Publish(context.Background(), conv, 1, events.DeltaData{Text: "a\x00b"})
	require.NoError(t, err, "what an LLM streams never fails the turn")
	evs, err := s.After(context.Background(), conv, id-1, 10)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	require.Contains(t, string(evs[0].Data), "a\uFFFDb")
}

// requireEvent waits for the next event a follower receives.
func requireEvent(tb testing.TB, f *events.Follower) events.Event {
	tb.Helper()
	select {
	case e := <-f.Events:
		return e
	case <-f.Wake:
		tb.Fatal("woken instead of given the event")
	case <-time.After(wait):
		tb.Fatalf("no event within %s", wait)
	}
	return events.Event{}
}

func TestHubFollow(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	s := events.NewStore(db.Pool)
	hub := runHub(t, db)
	settle(t, hub, s, db.Conversation(t))

	t.Run("OK the notification carries the event as the table holds it", func(t *testing.T) {
		conv := db.Conversation(t)
		f := hub.Follow(conv)
		defer f.Stop()
		id := publish(t, s, conv, 2, events.TypeDelta, map[string]any{"text": "héllo \"there\"", "step": 1})
		got := requireEvent(t, f)
		stored, err := s.After(ctx, conv, id-1, 1)
		require.NoError(t, err)
		require.Len(t, stored, 1)
		want := stored[0]
		require.Equal(t, want.ID, got.ID)
		require.Equal(t, want.ConversationID, got.ConversationID)
		require.Equal(t, want.Turn, got.Turn)
		require.Equal(t, want.Type, got.Type)
		require.JSONEq(t, string(want.Data), string(got.Data))
		require.True(t, want.CreatedAt.Equal(got.CreatedAt), "%s != %s", want.CreatedAt, got.CreatedAt)
	})

	t.Run("OK events arrive in ID order", func(t *testing.T) {
		conv := db.Conversation(t)
		f := hub.Follow(conv)
		defer f.Stop()
		var want, got []int64
		for i := range 20 {
			want = append(want, publish(t, s, conv, 1, events.TypeDelta, map[string]any{"text": i}))
		}
		for range want {
			got = append(got, requireEvent(t, f).ID)
		}
		require.Equal(t, want, got)
	})

	t.Run("OK an event too large for a notification wakes the follower", func(t *testing.T) {
		conv := db.Conversation(t)
		f := hub.Follow(conv)
		defer f.Stop()
		big := strings.Repeat("x", events.MaxNotifyPayload)
		id := publish(t, s, conv, 1, events.TypeMessage, map[string]any{"content": big})
		select {
		case <-f.Wake:
		case e := <-f.Events:
			t.Fatalf("an event of %d bytes came on a notification", len(e.Data))
		case <-time.After(wait):
			t.Fatal("no wake")
		}
		got, err := s.After(ctx, conv, id-1, 10)
		require.NoError(t, err)
		require.Equal(t, []int64{id}, eventIDs(got))
	})

	t.Run("OK a subscriber is woken by a notification that carries the event", func(t *testing.T) {
		conv := db.Conversation(t)
		ch, cancel := hub.Subscribe(conv)
		defer cancel()
		publish(t, s, conv, 1, events.TypeDelta, map[string]any{})
		requireWake(t, ch)
	})
}

func TestPublishOnce(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	s := events.NewStore(db.Pool)
	conv := db.Conversation(t)

	started := events.ToolStartedData{ToolCallRef: events.ToolCallRef{Tool: "hr.get_employee", ToolCallID: "call-1", Step: 1, Domain: "hr"}}
	first, err := s.PublishOnce(ctx, conv, 1, started)
	require.NoError(t, err)

	t.Run("OK the same event again is not published twice", func(t *testing.T) {
		again, err := s.PublishOnce(ctx, conv, 1, started)
		require.NoError(t, err)
		require.Equal(t, first, again)
	})

	t.Run("OK another call, turn or type is published", func(t *testing.T) {
		other := started
		other.ToolCallID = "call-2"
		a, err := s.PublishOnce(ctx, conv, 1, other)
		require.NoError(t, err)
		b, err := s.PublishOnce(ctx, conv, 2, started)
		require.NoError(t, err)
		require.Greater(t, a, first)
		require.Greater(t, b, a)
	})

	t.Run("OK concurrent publishers of the same event publish it once", func(t *testing.T) {
		done := events.TurnCompletedData{TurnEnd: events.TurnEnd{Status: "completed", Answer: "Done."}}
		ids := make(chan int64, 8)
		for range cap(ids) {
			go func() {
				id, err := s.PublishOnce(ctx, conv, 3, done)
				assert.NoError(t, err)
				ids <- id
			}()
		}
		var got []int64
		for range cap(ids) {
			got = append(got, <-ids)
		}
		require.Len(t, slices.Compact(slices.Sorted(slices.Values(got))), 1)
	})

	t.Run("OK a published event is notified with its data", func(t *testing.T) {
		conn, err := db.Pool.Acquire(ctx)
		require.NoError(t, err)
		defer conn.Release()
		_, err = conn.Exec(ctx, "LISTEN "+events.Channel)
		require.NoError(t, err)
		other := started
		other.ToolCallID = "call-3"
		id, err := s.PublishOnce(ctx, conv, 1, other)
		require.NoError(t, err)
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		n, err := conn.Conn().WaitForNotification(wctx)
		require.NoError(t, err)
		var e events.Event
		require.NoError(t, json.Unmarshal([]byte(n.Payload), &e))
		require.Equal(t, id, e.ID)
		require.Contains(t, string(e.Data), `"call-3"`)
	})

	evs, err := s.After(ctx, conv, 0, 100)
	require.NoError(t, err)
	require.Len(t, evs, 5)
}
