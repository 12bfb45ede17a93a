// Package conversations stores chat conversations, their turns and messages in Postgres. A
// conversation belongs to one user; every read and delete is scoped to its owner.
package conversations

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"mcp-platform/internal/redact"
	"mcp-platform/internal/store"
)

// Errors the store returns.
var (
	// ErrNotFound means no conversation with that ID belongs to the user.
	ErrNotFound = errors.New("conversation not found")
	// ErrTurnInProgress means the conversation already has a turn running.
	ErrTurnInProgress = errors.New("a turn is still in progress in this conversation")
	// ErrBadCursor means a pagination cursor was not one this store issued.
	ErrBadCursor = errors.New("invalid cursor")
)

// Turn statuses.
const (
	StatusRunning          = "running"
	StatusAwaitingApproval = "awaiting_approval"
	StatusCompleted        = "completed"
	StatusFailed           = "failed"
	StatusCancelled        = "cancelled"
)

// Message roles.
const (
	RoleUser      = "user"
	RoleAssistant = "assistant"
	RoleTool      = "tool"
)

// Conversation is a chat thread.
type Conversation struct {
	ID        string    `json:"id" format:"uuid"`
	UserID    string    `json:"user_id"`
	Title     string    `json:"title"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	LastTurn  int       `json:"last_turn"`
}

// Turn is one user message and everything the assistant did to answer it.
type Turn struct {
	Turn       int        `json:"turn"`
	WorkflowID string     `json:"workflow_id"`
	Status     string     `json:"status" enum:"running,awaiting_approval,completed,failed,cancelled"`
	Error      string     `json:"error,omitempty"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
}

// ToolCall is a tool call the assistant made.
type ToolCall struct {
	ID        string         `json:"id"`
	Tool      string         `json:"tool"`
	Arguments map[string]any `json:"arguments"`
}

// Message is one message of a conversation.
type Message struct {
	ID         int64      `json:"id"`
	Turn       int        `json:"turn"`
	Seq        int        `json:"seq"`
	Role       string     `json:"role" enum:"user,assistant,tool"`
	Content    string     `json:"content"`
	ToolCalls  []ToolCall `json:"tool_calls,omitempty"`
	ToolCallID string     `json:"tool_call_id,omitempty"`
	ToolName   string     `json:"tool_name,omitempty"`
	// ToolStatus is how a tool message's call ended, as in the tool_finished event.
	ToolStatus string `json:"tool_status,omitempty" enum:"ok,denied,invalid,not_found,conflict,unavailable,timeout,audit_unavailable,rejected,expired"`
	// Data is structured detail of a tool message (redacted result, error type, duration).
	Data      map[string]any `json:"data,omitempty"`
	CreatedAt time.Time      `json:"created_at"`
}

// Store reads and writes conversations.
type Store struct {
	pool *pgxpool.Pool
}

// NewStore returns a store on the platform database.
func NewStore(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// maxTitle bounds a conversation title derived from its first message.
const maxTitle = 80

// StartTurn records a user message as a new turn: in a new conversation when conversationID is
// empty, otherwise in the user's existing one (ErrNotFound if it is not theirs,
// ErrTurnInProgress if a turn is still running). workflowID names the turn's workflow; started,
// when not nil, gives writes that belong with the new turn (its turn_started event), made in the
// same transaction.
//
// A new conversation costs one round trip; a turn of an existing one three (the locked read,
// the writes, the commit), since its turn number is known only under the lock.
func (s *Store) StartTurn(ctx context.Context, userID, conversationID, text string, workflowID func(conv string, turn int) string,
	started func(Conversation, Turn) store.Op) (Conversation, Turn, error) {
	var c Conversation
	var t Turn
	write := func(db store.Batcher, create bool) error {
		t = Turn{Turn: c.LastTurn, WorkflowID: workflowID(c.ID, c.LastTurn), Status: StatusRunning}
		var also store.Op
		if started != nil {
			also = started(c, t)
		}
		return store.Send(ctx, db, s.newTurnOp(&c, &t, text, create), also)
	}
	if conversationID == "" {
		c = Conversation{ID: uuid.NewString(), UserID: userID, Title: title(text), LastTurn: 1}
		return c, t, write(s.pool, true)
	}
	if _, err := uuid.Parse(conversationID); err != nil {
		return c, t, ErrNotFound
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var busy bool
		err := tx.QueryRow(ctx, `SELECT id::text, user_id, title, last_turn,
				EXISTS (SELECT 1 FROM turns WHERE conversation_id = $1 AND status IN ('running', 'awaiting_approval'))
			FROM conversations WHERE id = $1 AND user_id = $2 FOR UPDATE`,
			conversationID, userID).Scan(&c.ID, &c.UserID, &c.Title, &c.LastTurn, &busy)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("load conversation: %w", err)
		}
		if busy {
			return ErrTurnInProgress
		}
		c.LastTurn++
		return write(tx, false)
	})
	return c, t, err
}

// newTurnOp writes turn t of conversation c with the user's message: creating the conversation
// (at turn 1) when create is set, else advancing it to t's turn.
func (s *Store) newTurnOp(c *Conversation, t *Turn, text string, create bool) store.Op {
	return func(b *pgx.Batch) error {
		advance := `UPDATE conversations SET last_turn = $2, updated_at = now() WHERE id = $1 RETURNING created_at, updated_at`
		args := []any{c.ID, c.LastTurn}
		if create {
			advance = `INSERT INTO conversations (id, last_turn, user_id, title) VALUES ($1, $2, $3, $4) RETURNING created_at, updated_at`
			args = append(args, c.UserID, c.Title)
		}
		b.Queue(advance, args...).QueryRow(func(row pgx.Row) error {
			return store.Failed(row.Scan(&c.CreatedAt, &c.UpdatedAt), "record conversation")
		})
		b.Queue(`INSERT INTO turns (conversation_id, turn, workflow_id) VALUES ($1, $2, $3) RETURNING started_at`,
			c.ID, t.Turn, t.WorkflowID).QueryRow(func(row pgx.Row) error {
			return store.Failed(row.Scan(&t.StartedAt), "record turn")
		})
		store.Exec(b, "record user message", `INSERT INTO messages (conversation_id, turn, seq, role, content) VALUES ($1, $2, 0, 'user', $3)`,
			c.ID, t.Turn, text)
		return nil
	}
}

// title is a conversation's title from its first message: one line, at most maxTitle
// characters, with credentials and sensitive values redacted as in events, since titles are
// listed and shown (in the Temporal UI too) where the message itself is not.
func title(text string) string {
	t := redact.String(strings.Join(strings.Fields(text), " "))
	if r := []rune(t); len(r) > maxTitle {
		t = string(r[:maxTitle-1]) + "…"
	}
	return t
}

// Get returns the user's conversation.
func (s *Store) Get(ctx context.Context, userID, id string) (Conversation, error) {
	if _, err := uuid.Parse(id); err != nil {
		return Conversation{}, ErrNotFound
	}
	var c Conversation
	err := s.pool.QueryRow(ctx, `SELECT id::text, user_id, title, created_at, updated_at, last_turn FROM conversations WHERE id = $1 AND user_id = $2`,
		id, userID).Scan(&c.ID, &c.UserID, &c.Title, &c.CreatedAt, &c.UpdatedAt, &c.LastTurn)
	if errors.Is(err, pgx.ErrNoRows) {
		return Conversation{}, ErrNotFound
	}
	if err != nil {
		return Conversation{}, fmt.Errorf("load conversation: %w", err)
	}
	return c, nil
}

type cursor struct {
	UpdatedAt time.Time `json:"u"`
	ID        string    `json:"i"`
}

// List returns the user's conversations, most recently active first, limit at a time, and
// the cursor of the next page ("" on the last).
func (s *Store) List(ctx context.Context, userID string, limit int, after string) ([]Conversation, string, error) {
	cur := cursor{UpdatedAt: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), ID: "ffffffff-ffff-ffff-ffff-ffffffffffff"}
	if after != "" {
		raw, err := base64.RawURLEncoding.DecodeString(after)
		if err != nil || json.Unmarshal(raw, &cur) != nil {
			return nil, "", ErrBadCursor
		}
		if _, err := uuid.Parse(cur.ID); err != nil {
			return nil, "", ErrBadCursor
		}
	}
	rows, err := s.pool.Query(ctx, `
		SELECT id::text, user_id, title, created_at, updated_at, last_turn FROM conversations
		WHERE user_id = $1 AND (updated_at, id) < ($2, $3::uuid)
		ORDER BY updated_at DESC, id DESC LIMIT $4`, userID, cur.UpdatedAt, cur.ID, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list conversations: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Conversation, error) {
		var c Conversation
		err := r.Scan(&c.ID, &c.UserID, &c.Title, &c.CreatedAt, &c.UpdatedAt, &c.LastTurn)
		return c, err
	})
	if err != nil {
		return nil, "", fmt.Errorf("list conversations: %w", err)
	}
	next := ""
	if len(list) > limit {
		list = list[:limit]
		last := list[len(list)-1]
		b, _ := json.Marshal(cursor{UpdatedAt: last.UpdatedAt, ID: last.ID})
		next = base64.RawURLEncoding.EncodeToString(b)
	}
	return list, next, nil
}

// Messages returns every message of a conversation in order. The writes in before (the
// tool results the history must hold) are made first, in the same round trip and transaction.
func (s *Store) Messages(ctx context.Context, conversationID string, before ...store.Op) ([]Message, error) {
	var msgs []Message
	read := func(b *pgx.Batch) error {
		b.Queue(`
		SELECT id, turn, seq, role, content, tool_calls, tool_call_id, tool_name, tool_status, data, created_at
		FROM messages WHERE conversation_id = $1 ORDER BY turn, seq`, conversationID).Query(func(rows pgx.Rows) error {
			var err error
			msgs, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Message, error) {
				var m Message
				var calls []byte
				err := r.Scan(&m.ID, &m.Turn, &m.Seq, &m.Role, &m.Content, &calls, &m.ToolCallID, &m.ToolName, &m.ToolStatus, &m.Data, &m.CreatedAt)
				if err == nil && len(calls) > 0 {
					err = json.Unmarshal(calls, &m.ToolCalls)
				}
				return m, err
			})
			return store.Failed(err, "load messages")
		})
		return nil
	}
	if err := store.Send(ctx, s.pool, append(append([]store.Op{}, before...), read)...); err != nil {
		return nil, err
	}
	return msgs, nil
}

// Turns returns every turn of a conversation in order.
func (s *Store) Turns(ctx context.Context, conversationID string) ([]Turn, error) {
	rows, err := s.pool.Query(ctx, `SELECT turn, workflow_id, status, error, started_at, finished_at FROM turns
		WHERE conversation_id = $1 ORDER BY turn`, conversationID)
	if err != nil {
		return nil, fmt.Errorf("load turns: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Turn, error) {
		var t Turn
		err := r.Scan(&t.Turn, &t.WorkflowID, &t.Status, &t.Error, &t.StartedAt, &t.FinishedAt)
		return t, err
	})
}

// SaveMessage writes a message at its (turn, seq) position, replacing what a previous attempt
// wrote there, so retried activities never duplicate messages. The writes in also (the
// message's event, say) are made in the same round trip and transaction.
func (s *Store) SaveMessage(ctx context.Context, conversationID string, m Message, also ...store.Op) error {
	return store.Send(ctx, s.pool, append([]store.Op{s.SaveMessageOp(conversationID, m)}, also...)...)
}

// SaveMessageOp is SaveMessage as a store.Op.
func (s *Store) SaveMessageOp(conversationID string, m Message) store.Op {
	return func(b *pgx.Batch) error {
		m = storable(m)
		var calls, data any
		if len(m.ToolCalls) > 0 {
			calls = m.ToolCalls
		}
		if m.Data != nil {
			data = m.Data
		}
		// One statement saves the message and touches the conversation.
		store.Exec(b, "save message", `
		WITH saved AS (
			INSERT INTO messages (conversation_id, turn, seq, role, content, tool_calls, tool_call_id, tool_name, tool_status, data)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
			ON CONFLICT (conversation_id, turn, seq) DO UPDATE SET role = $4, content = $5, tool_calls = $6,
				tool_call_id = $7, tool_name = $8, tool_status = $9, data = $10
			RETURNING conversation_id
		)
		UPDATE conversations SET updated_at = now() WHERE id IN (SELECT conversation_id FROM saved)`,
			conversationID, m.Turn, m.Seq, m.Role, m.Content, calls, m.ToolCallID, m.ToolName, m.ToolStatus, data)
		return nil
	}
}

// storable replaces what Postgres cannot store (NUL, invalid UTF-8) in a message, so that what
// an LLM or a tool produced never fails a turn's bookkeeping.
func storable(m Message) Message {
	m.Content, m.ToolName, m.ToolCallID = store.SanitizeText(m.Content), store.SanitizeText(m.ToolName), store.SanitizeText(m.ToolCallID)
	if len(m.ToolCalls) > 0 {
		calls := make([]ToolCall, len(m.ToolCalls))
		for i, c := range m.ToolCalls {
			args, _ := store.Sanitize(map[string]any(c.Arguments)).(map[string]any)
			calls[i] = ToolCall{ID: store.SanitizeText(c.ID), Tool: store.SanitizeText(c.Tool), Arguments: args}
		}
		m.ToolCalls = calls
	}
	if m.Data != nil {
		m.Data, _ = store.Sanitize(m.Data).(map[string]any)
	}
	return m
}

// SetTurnStatus records a turn's status (and error text for failures); final statuses also
// record when the turn finished. The writes in also are made in the same round trip and
// transaction.
func (s *Store) SetTurnStatus(ctx context.Context, conversationID string, turn int, status, errText string, also ...store.Op) error {
	return store.Send(ctx, s.pool, append([]store.Op{s.SetTurnStatusOp(conversationID, turn, status, errText)}, also...)...)
}

// SetTurnStatusOp is SetTurnStatus as a store.Op.
func (s *Store) SetTurnStatusOp(conversationID string, turn int, status, errText string) store.Op {
	return func(b *pgx.Batch) error {
		final := status == StatusCompleted || status == StatusFailed || status == StatusCancelled
		store.Exec(b, "set turn status", `UPDATE turns SET status = $3, error = $4,
		finished_at = CASE WHEN $5 THEN now() ELSE NULL END WHERE conversation_id = $1 AND turn = $2`,
			conversationID, turn, status, errText, final)
		return nil
	}
}

// Delete removes the user's conversation with its messages and events, and returns the
// workflow IDs of turns that were still running, for the caller to cancel.
func (s *Store) Delete(ctx context.Context, userID, id string) ([]string, error) {
	if _, err := uuid.Parse(id); err != nil {
		return nil, ErrNotFound
	}
	var running []string
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT workflow_id FROM turns WHERE conversation_id = $1 AND status IN ('running', 'awaiting_approval')
			AND EXISTS (SELECT 1 FROM conversations WHERE id = $1 AND user_id = $2)`, id, userID)
		if err != nil {
			return err
		}
		if running, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM conversations WHERE id = $1 AND user_id = $2`, id, userID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrNotFound
		}
		return nil
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("delete conversation: %w", err)
	}
	return running, err
}

// Exists reports whether the conversation still exists (activities of a deleted conversation
// stop quietly).
func (s *Store) Exists(ctx context.Context, id string) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM conversations WHERE id = $1)`, id).Scan(&ok)
	return ok, err
}
