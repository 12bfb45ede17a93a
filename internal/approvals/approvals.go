// Package approvals records requests for human approval of tool calls, so that people can find
// the ones they may decide across conversations. The decision itself goes to the waiting
// workflow as a Temporal Update, whose validator has the final word.
package approvals

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Statuses of a request.
const (
	StatusPending   = "pending"
	StatusApproved  = "approved"
	StatusRejected  = "rejected"
	StatusExpired   = "expired"
	StatusCancelled = "cancelled"
)

// ErrNotFound means no such request.
var ErrNotFound = errors.New("approval request not found")

// Request is one tool call waiting for (or decided by) a person.
type Request struct {
	ID             string         `json:"id" example:"apr-3f9c2a7d1b0e4c55"`
	WorkflowID     string         `json:"workflow_id"`
	ConversationID string         `json:"conversation_id,omitempty" format:"uuid" doc:"The conversation whose turn made the call; absent for calls from POST /execute and MCP"`
	Turn           int            `json:"turn,omitempty"`
	ToolCallID     string         `json:"tool_call_id"`
	Tool           string         `json:"tool" example:"devops.scale_deployment"`
	Domain         string         `json:"domain" example:"devops"`
	Arguments      map[string]any `json:"arguments" doc:"The call's arguments as the approver may see them (sensitive values redacted)"`
	ArgsHash       string         `json:"args_hash" doc:"Fingerprint of the exact arguments; a decision must quote it"`
	Requester      string         `json:"requester"`
	ApproverRoles  []string       `json:"approver_roles"`
	AllowSelf      bool           `json:"allow_self_approval"`
	Reason         string         `json:"reason"`
	Status         string         `json:"status" enum:"pending,approved,rejected,expired,cancelled"`
	RequestedAt    time.Time      `json:"requested_at"`
	ExpiresAt      time.Time      `json:"expires_at"`
	DecidedBy      string         `json:"decided_by,omitempty"`
	Comment        string         `json:"comment,omitempty"`
	DecidedAt      *time.Time     `json:"decided_at,omitempty"`
}

// Store reads and writes approval requests.
type Store struct {
	pool       *pgxpool.Pool
	onDecision func(status string, waited time.Duration)
}

// OnDecision makes s call f when Decide settles a request that was pending, with the outcome
// and how long the request waited (the approval metrics). It returns s.
func (s *Store) OnDecision(f func(status string, waited time.Duration)) *Store {
	s.onDecision = f
	return s
}

// NewStore returns a store on the platform database.
func NewStore(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// Create records a pending request; recording the same request again changes nothing.
func (s *Store) Create(ctx context.Context, r Request) error {
	var conv any
	if r.ConversationID != "" {
		conv = r.ConversationID
	}
	// A call without arguments, or a tool no role may approve (only admins then can), is still
	// a request; the columns are NOT NULL, so nil must not be sent as NULL.
	if r.Arguments == nil {
		r.Arguments = map[string]any{}
	}
	if r.ApproverRoles == nil {
		r.ApproverRoles = []string{}
	}
	_, err := s.pool.Exec(ctx, `
		INSERT INTO approvals (id, workflow_id, conversation_id, turn, tool_call_id, tool, domain, arguments, args_hash,
			requester, approver_roles, allow_self, reason, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
		ON CONFLICT (id) DO NOTHING`,
		r.ID, r.WorkflowID, conv, r.Turn, r.ToolCallID, r.Tool, r.Domain, r.Arguments, r.ArgsHash,
		r.Requester, r.ApproverRoles, r.AllowSelf, r.Reason, r.ExpiresAt)
	if err != nil {
		return fmt.Errorf("record approval request: %w", err)
	}
	return nil
}

// Decide records the outcome of a request.
func (s *Store) Decide(ctx context.Context, id, status, by, comment string) error {
	var (
		was    string
		waited float64
	)
	err := s.pool.QueryRow(ctx, `
		UPDATE approvals a SET status = $2, decided_by = $3, comment = $4, decided_at = now()
		FROM (SELECT id, status FROM approvals WHERE id = $1 FOR UPDATE) old
		WHERE a.id = old.id
		RETURNING old.status, extract(epoch FROM a.decided_at - a.requested_at)::float8`,
		id, status, by, comment).Scan(&was, &waited)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // no such request: nothing to record, as before
	}
	if err != nil {
		return fmt.Errorf("record approval decision: %w", err)
	}
	if was == StatusPending && s.onDecision != nil {
		s.onDecision(status, time.Duration(waited*float64(time.Second)))
	}
	return nil
}

// PendingTotal counts the requests waiting for a decision that have not expired, across all
// approvers (the approvals-pending gauge).
func (s *Store) PendingTotal(ctx context.Context) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM approvals WHERE status = 'pending' AND expires_at > now()`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count pending approvals: %w", err)
	}
	return n, nil
}

const columns = `id, workflow_id, coalesce(conversation_id::text, ''), turn, tool_call_id, tool, domain, arguments, args_hash,
	requester, approver_roles, allow_self, reason, status, requested_at, expires_at, decided_by, comment, decided_at`

func scan(row pgx.CollectableRow) (Request, error) {
	var r Request
	err := row.Scan(&r.ID, &r.WorkflowID, &r.ConversationID, &r.Turn, &r.ToolCallID, &r.Tool, &r.Domain, &r.Arguments, &r.ArgsHash,
		&r.Requester, &r.ApproverRoles, &r.AllowSelf, &r.Reason, &r.Status, &r.RequestedAt, &r.ExpiresAt, &r.DecidedBy, &r.Comment, &r.DecidedAt)
	return r, err
}

// Get returns one request.
func (s *Store) Get(ctx context.Context, id string) (Request, error) {
	return s.one(ctx, `WHERE id = $1`, id)
}

// PendingFor returns the newest pending request of a workflow, or ErrNotFound when it waits for
// none.
func (s *Store) PendingFor(ctx context.Context, workflowID string) (Request, error) {
	return s.one(ctx, `WHERE workflow_id = $1 AND status = 'pending' ORDER BY requested_at DESC LIMIT 1`, workflowID)
}

// one returns the request a query selects (where is its WHERE clause and what follows), or
// ErrNotFound.
func (s *Store) one(ctx context.Context, where string, args ...any) (Request, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+columns+` FROM approvals `+where, args...)
	if err != nil {
		return Request{}, fmt.Errorf("load approval: %w", err)
	}
	r, err := pgx.CollectExactlyOneRow(rows, scan)
	if errors.Is(err, pgx.ErrNoRows) {
		return Request{}, ErrNotFound
	}
	if err != nil {
		return Request{}, fmt.Errorf("load approval: %w", err)
	}
	return r, nil
}

// Pending returns the pending requests that subject (with roles) may decide by role, newest
// first (at most 200). The query filters by role before the limit, so that others' requests
// cannot crowd theirs out; toolcall.MayDecide (roles, four eyes, token scopes) has the last word.
func (s *Store) Pending(ctx context.Context, subject string, roles []string) ([]Request, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+columns+` FROM approvals WHERE status = 'pending' AND expires_at > now()
		AND (requester <> $1 OR allow_self) AND ('admin' = ANY($2) OR approver_roles && $2)
		ORDER BY requested_at DESC LIMIT 200`, subject, roles)
	if err != nil {
		return nil, fmt.Errorf("list approvals: %w", err)
	}
	all, err := pgx.CollectRows(rows, scan)
	if err != nil {
		return nil, fmt.Errorf("list approvals: %w", err)
	}
	return all, nil
}

// ForConversation returns every request of a conversation, oldest first.
func (s *Store) ForConversation(ctx context.Context, conversationID string) ([]Request, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+columns+` FROM approvals WHERE conversation_id = $1 ORDER BY requested_at`, conversationID)
	if err != nil {
		return nil, fmt.Errorf("list approvals: %w", err)
	}
	return pgx.CollectRows(rows, scan)
}

// PendingCount is how many requests of a workflow are still pending.
func (s *Store) PendingCount(ctx context.Context, workflowID string) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM approvals WHERE workflow_id = $1 AND status = 'pending'`, workflowID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count pending approvals: %w", err)
	}
	return n, nil
}
