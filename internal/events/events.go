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

// Channel is the Postgres NOTIFY channel; the payload is the conversation ID.
const Channel = "mcp_events"

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
func (s *Store) Publish(ctx context.Context, conversationID string, turn int, p Payload) (int64, error) {
	if p == nil {
		return 0, errors.New("publish event: no payload")
	}
	typ := p.EventType()
	raw, err := json.Marshal(withTrace(ctx, p))
	if err != nil {
		return 0, fmt.Errorf("encode %s event: %w", typ, err)
	}
	if bytes.Contains(raw, []byte(`\u0000`)) {
		// jsonb cannot hold NUL: what an LLM streams must not fail the turn's bookkeeping.
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return 0, fmt.Errorf("encode %s event: %w", typ, err)
		}
		if raw, err = json.Marshal(store.Sanitize(v)); err != nil {
			return 0, fmt.Errorf("encode %s event: %w", typ, err)
		}
	}
	var id int64
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO events (conversation_id, turn, type, data) VALUES ($1, $2, $3, $4) RETURNING id`,
			conversationID, turn, typ, raw).Scan(&id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, Channel, conversationID)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("publish %s event: %w", typ, err)
	}
	return id, nil
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
