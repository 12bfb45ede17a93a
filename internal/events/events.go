// Package events is the per-conversation event log behind the live stream: token deltas, tool
// started/finished, approvals, turn completed/failed. Events are rows in Postgres with
// increasing IDs, announced with NOTIFY, so any API process can stream what any worker
// published and a client can resume from its Last-Event-ID.
package events

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"mcp-platform/internal/store"
	"mcp-platform/internal/telemetry"
)

// Channel is the Postgres NOTIFY channel. The payload is the event itself as JSON (an Event),
// so that a stream can send it without reading it back; an event too large for a notification
// is announced by its conversation ID alone, and streams read it from the table.
const Channel = "mcp_events"

// MaxNotifyPayload is the largest notification payload Publish sends (Postgres refuses more
// than 8000 bytes); a larger event is announced by its conversation ID.
const MaxNotifyPayload = 7900

// Event types, each with its payload type in payloads.go.
const (
	TypeTurnStarted       = "turn_started"
	TypeDelta             = "delta"
	TypeMessage           = "message"
	TypeToolStarted       = "tool_started"
	TypeToolFinished      = "tool_finished"
	TypeApprovalRequested = "approval_requested"
	TypeApprovalDecided   = "approval_decided"
	TypeTurnCompleted     = "turn_completed"
	TypeTurnFailed        = "turn_failed"
	TypeTurnCancelled     = "turn_cancelled"
)

// Event is one entry of a conversation's stream.
type Event struct {
	ID             int64           `json:"id"`
	ConversationID string          `json:"conversation_id"`
	Turn           int             `json:"turn"`
	Type           string          `json:"type"`
	Data           json.RawMessage `json:"data"`
	CreatedAt      time.Time       `json:"created_at"`
}

// Store writes and reads events.
type Store struct {
	pool *pgxpool.Pool
}

// NewStore returns an event store on the platform database.
func NewStore(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// Publish appends the payload as an event of its type and notifies listeners, atomically.
// The payload must already be redacted: events are shown to the conversation's owner and kept.
//
// Publishes to one conversation are serialized (a transaction-scoped advisory lock on its ID),
// so that its events commit in the order of their IDs: a stream that has sent event N never
// misses an event below N that committed later.
func (s *Store) Publish(ctx context.Context, conversationID string, turn int, p Payload) (int64, error) {
	var id int64
	return id, store.Send(ctx, s.pool, s.PublishOp(ctx, conversationID, turn, p, &id))
}

// PublishOp is Publish as a store.Op, to publish the event in the same round trip and
// transaction as other writes: listeners hear of it when they commit. The event's ID is
// written to id unless id is nil.
func (s *Store) PublishOp(ctx context.Context, conversationID string, turn int, p Payload, id *int64) store.Op {
	return publishOp(ctx, conversationID, turn, p, id, false)
}

// PublishOnce is Publish for bookkeeping that may run again (an activity retried, a local
// activity executed again after a worker crashed): when the conversation's stream already holds
// an event of the same turn, type and data, it publishes nothing and returns that event's ID.
// Payloads published this way must identify what they announce (a tool call, an approval, the
// turn's end), so that two different events are never alike. The trace ID is not compared: a
// run again is another trace of the same event.
func (s *Store) PublishOnce(ctx context.Context, conversationID string, turn int, p Payload) (int64, error) {
	var id int64
	return id, store.Send(ctx, s.pool, s.PublishOnceOp(ctx, conversationID, turn, p, &id))
}

// PublishOnceOp is PublishOnce as a store.Op (see PublishOp).
func (s *Store) PublishOnceOp(ctx context.Context, conversationID string, turn int, p Payload, id *int64) store.Op {
	return publishOp(ctx, conversationID, turn, p, id, true)
}

// publishOp queues the publish of p: with once, as PublishOnce does, else as Publish does.
func publishOp(ctx context.Context, conversationID string, turn int, p Payload, id *int64, once bool) store.Op {
	if id == nil {
		id = new(int64)
	}
	return func(b *pgx.Batch) error {
		typ, raw, err := encode(ctx, p)
		if err != nil {
			return err
		}
		sql, dest := publishSQL, []any{id, nil}
		if once {
			// The lock and the publish are two statements of the batch, which runs as one
			// transaction (the lock is held until it ends): the publish takes its snapshot once
			// the lock is held, so it sees what a publisher that held the lock before committed.
			store.Exec(b, "lock the conversation's events", `SELECT pg_advisory_xact_lock($1::int, hashtext($2::text))`, lockSpace, conversationID)
			sql, dest = publishOnceSQL, []any{id}
		}
		b.Queue(sql, conversationID, turn, typ, raw, Channel, MaxNotifyPayload, lockSpace).QueryRow(func(row pgx.Row) error {
			return store.Failed(row.Scan(dest...), "publish "+typ+" event")
		})
		return nil
	}
}

// publishOnceSQL is publishSQL unless the conversation already holds an event of the same
// turn, type and data (the trace ID aside): then it inserts nothing and returns that event's
// ID. Its caller holds the conversation's lock.
const publishOnceSQL = `
	WITH found AS (
		SELECT id FROM events WHERE conversation_id = $1::uuid AND turn = $2::int AND type = $3::text
		AND data - 'trace_id' = $4::jsonb - 'trace_id' ORDER BY id LIMIT 1
	),
	lk AS (SELECT pg_advisory_xact_lock($7::int, hashtext($1::text)) WHERE NOT EXISTS (SELECT 1 FROM found)),
	` + insertEventCTEs + `,
	sent AS (` + notifyEvent + `)
	SELECT id FROM found UNION ALL SELECT id FROM sent`

// lockSpace is the first key of the advisory locks that serialize a conversation's publishes.
const lockSpace int32 = 0x6576 // "ev"

// publishSQL inserts an event under its conversation's lock and notifies it, in one statement
// (one round trip): the INSERT reads from the lock, so the ID is drawn once the lock is held,
// and the notification carries the event unless it is too large ($6 bytes), when it carries
// the conversation ID; $7 is lockSpace.
const publishSQL = `
	WITH lk AS (SELECT pg_advisory_xact_lock($7::int, hashtext($1::text))),
	` + insertEventCTEs + `
	` + notifyEvent

// insertEventCTEs insert the event ($1 to $4) for each row of lk and build its notification's
// body (msg).
const insertEventCTEs = `ins AS (
		INSERT INTO events (conversation_id, turn, type, data) SELECT $1::uuid, $2::int, $3::text, $4::jsonb FROM lk
		RETURNING id, conversation_id, turn, type, data, created_at
	),
	msg AS (
		SELECT id, conversation_id, json_build_object('id', id, 'conversation_id', conversation_id, 'turn', turn,
			'type', type, 'data', data, 'created_at', created_at)::text AS body FROM ins
	)`

// notifyEvent notifies each inserted event on channel $5, the event itself unless it is larger
// than $6 bytes, then the conversation ID.
const notifyEvent = `SELECT id, pg_notify($5::text, CASE WHEN octet_length(body) <= $6::int THEN body ELSE conversation_id::text END) FROM msg`

// encode is the payload's type and JSON form, with NUL characters (which jsonb cannot hold)
// replaced.
func encode(ctx context.Context, p Payload) (string, []byte, error) {
	if p == nil {
		return "", nil, errors.New("publish event: no payload")
	}
	typ := p.EventType()
	raw, err := json.Marshal(withTrace(ctx, p))
	if err != nil {
		return "", nil, fmt.Errorf("encode %s event: %w", typ, err)
	}
	if bytes.Contains(raw, []byte(`\u0000`)) {
		// jsonb cannot hold NUL: what an LLM streams must not fail the turn's bookkeeping.
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return "", nil, fmt.Errorf("encode %s event: %w", typ, err)
		}
		if raw, err = json.Marshal(store.Sanitize(v)); err != nil {
			return "", nil, fmt.Errorf("encode %s event: %w", typ, err)
		}
	}
	return typ, raw, nil
}

// After returns up to limit events of the conversation with IDs above afterID, oldest first.
func (s *Store) After(ctx context.Context, conversationID string, afterID int64, limit int) ([]Event, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT id, conversation_id::text, turn, type, data, created_at FROM events
		WHERE conversation_id = $1 AND id > $2 ORDER BY id LIMIT $3`, conversationID, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Event, error) {
		var e Event
		err := r.Scan(&e.ID, &e.ConversationID, &e.Turn, &e.Type, &e.Data, &e.CreatedAt)
		return e, err
	})
}

// LastID is the ID of the conversation's newest event (0 when it has none), so a client that
// loaded the history can follow the stream from there.
func (s *Store) LastID(ctx context.Context, conversationID string) (int64, error) {
	var id int64
	if err := s.pool.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM events WHERE conversation_id = $1`, conversationID).Scan(&id); err != nil {
		return 0, fmt.Errorf("read last event: %w", err)
	}
	return id, nil
}

// withTrace sets the trace ID of a tool event that names none to the trace of ctx.
func withTrace(ctx context.Context, p Payload) Payload {
	id := telemetry.TraceID(ctx)
	if id == "" {
		return p
	}
	switch d := p.(type) {
	case ToolStartedData:
		if d.TraceID == "" {
			d.TraceID = id
		}
		return d
	case ToolFinishedData:
		if d.TraceID == "" {
			d.TraceID = id
		}
		return d
	}
	return p
}
