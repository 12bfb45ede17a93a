// Package progress carries the progress of running tool calls (MCP notifications/progress)
// from the worker that runs a call to the front end that waits for it, which may be another
// process: the worker writes the latest progress of the call to Postgres and announces it with
// NOTIFY (Store, through a coalescing Reporter), and the front end follows the announcements
// (Hub) and reads the row for what a lost notification did not bring.
//
// Postgres rather than Temporal heartbeat details: the SDK sends heartbeats at most every 80%
// of the heartbeat timeout (seconds apart) and a front end would have to poll Describe for
// them, while a NOTIFY reaches every front end in milliseconds and the row keeps the latest
// value for one that subscribed late or reconnected.
package progress

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"mcp-platform/internal/redact"
	"mcp-platform/internal/store"
)

// Channel is the Postgres NOTIFY channel; each payload is an Update as JSON.
const Channel = "mcp_progress"

// MaxMessage bounds a progress message, in bytes, so that every update fits in a notification
// (Postgres refuses payloads of 8000 bytes or more).
const MaxMessage = 1000

// Update is how far one tool call has come.
type Update struct {
	// Key identifies the call (Key).
	Key string `json:"key"`
	// Progress increases with each update of a call; Total is its value when the call is done,
	// zero when unknown.
	Progress float64 `json:"progress"`
	Total    float64 `json:"total,omitempty"`
	// Message says what the call is doing, sanitized and redacted.
	Message string `json:"message,omitempty"`
}

// Key is the key of a tool call's progress: its workflow and its ID within it.
func Key(workflowID, toolCallID string) string { return workflowID + "/" + toolCallID }

// Store writes and reads the latest progress of tool calls.
type Store struct {
	pool *pgxpool.Pool
}

// NewStore returns a progress store on the platform database.
func NewStore(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// Publish records u as the latest progress of its call and announces it, in one statement,
// unless the call already has a progress at least as high (progress only increases). It
// returns whether u was recorded. Its message must already be clean (Clean).
func (s *Store) Publish(ctx context.Context, u Update) (bool, error) {
	if u.Key == "" || !finite(u.Progress) || !finite(u.Total) {
		return false, errors.New("publish progress: a key and finite numbers are required")
	}
	body, err := json.Marshal(u)
	if err != nil {
		return false, fmt.Errorf("publish progress: %w", err)
	}
	var total *float64
	if u.Total != 0 {
		total = &u.Total
	}
	tag, err := s.pool.Exec(ctx, `
		WITH up AS (
			INSERT INTO tool_progress AS p (call_key, progress, total, message) VALUES ($1, $2, $3, $4)
			ON CONFLICT (call_key) DO UPDATE SET progress = excluded.progress, total = excluded.total,
				message = excluded.message, updated_at = now()
			WHERE p.progress < excluded.progress
			RETURNING call_key
		)
		SELECT pg_notify($5::text, $6::text) FROM up`, u.Key, u.Progress, total, u.Message, Channel, string(body))
	if err != nil {
		return false, fmt.Errorf("publish progress: %w", err)
	}
	return tag.RowsAffected() > 0, nil
}

// Latest is the latest progress of the call key; false when it has reported none.
func (s *Store) Latest(ctx context.Context, key string) (Update, bool, error) {
	u := Update{Key: key}
	var total *float64
	err := s.pool.QueryRow(ctx, `SELECT progress, total, message FROM tool_progress WHERE call_key = $1`, key).
		Scan(&u.Progress, &total, &u.Message)
	if errors.Is(err, pgx.ErrNoRows) {
		return Update{}, false, nil
	}
	if err != nil {
		return Update{}, false, fmt.Errorf("read progress: %w", err)
	}
	if total != nil {
		u.Total = *total
	}
	return u, true, nil
}

// Prune deletes the progress of calls not updated for longer than age, and returns how many it
// deleted: a call's progress matters only while its caller waits.
func (s *Store) Prune(ctx context.Context, age time.Duration) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM tool_progress WHERE updated_at < now() - $1::interval`, age)
	if err != nil {
		return 0, fmt.Errorf("prune progress: %w", err)
	}
	return tag.RowsAffected(), nil
}

// Clean makes a progress message fit to store and show: storable text, credentials and
// sensitive values redacted (as in logs and events), at most MaxMessage bytes.
func Clean(msg string) string {
	msg = redact.String(store.SanitizeText(msg))
	if len(msg) <= MaxMessage {
		return msg
	}
	return strings.ToValidUTF8(msg[:MaxMessage-len("…")], "") + "…"
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
