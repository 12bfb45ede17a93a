// Package audit records one row per tool execution attempt (allowed, denied, invalid, failed,
// rejected or expired) in the audit_log table, and reads them back for auditors. Parameters,
// results and error texts are redacted before they are written, so the table never holds a
// secret or a schema-marked sensitive value.
package audit

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"mcp-platform/internal/redact"
)

// Outcome is what became of an execution attempt.
type Outcome string

// The outcomes of an execution attempt. Started is written before the adapter runs, so an
// attempt that crashes the worker still leaves a trace; the others are final.
const (
	OutcomeStarted   Outcome = "started"
	OutcomeSucceeded Outcome = "succeeded"
	OutcomeDenied    Outcome = "denied"   // authorization refused the call
	OutcomeInvalid   Outcome = "invalid"  // parameters failed the tool's schema
	OutcomeFailed    Outcome = "failed"   // the adapter or backend returned an error
	OutcomeRejected  Outcome = "rejected" // an approver said no
	OutcomeExpired   Outcome = "expired"  // nobody decided on the approval in time
)

// Valid reports whether o is one of the outcomes above.
func (o Outcome) Valid() bool {
	switch o {
	case OutcomeStarted, OutcomeSucceeded, OutcomeDenied, OutcomeInvalid, OutcomeFailed, OutcomeRejected, OutcomeExpired:
		return true
	}
	return false
}

var (
	// ErrBadCursor means a Filter's Cursor is not one that Query returned.
	ErrBadCursor = errors.New("invalid audit cursor")
	// ErrBadFilter means a Filter is malformed: an unknown outcome, or Until not after Since.
	ErrBadFilter = errors.New("invalid audit filter")
)

// Query limits.
const (
	DefaultLimit = 50
	MaxLimit     = 200
)

// Entry is one execution attempt to record. Params, Result and Error are redacted by Record,
// so callers pass them as they are.
type Entry struct {
	UserID string
	Roles  []string
	Tool   string
	// Domain defaults to the tool's namespace ("hr" for "hr.get_employee").
	Domain string
	Params map[string]any
	// Result is the tool's output, if any; nil is stored as SQL NULL.
	Result any
	// Sensitive are the tool's schema-marked sensitive fields (names or dotted paths), masked
	// in Params and Result in addition to redact.WellKnown. They are not stored.
	Sensitive  []string
	Outcome    Outcome
	Error      string
	Duration   time.Duration
	WorkflowID string
	RunID      string
	ToolCallID string
	// Approver is the user who approved the call, for tools that require approval.
	Approver string
}

// Record is one row of the audit log, as auditors read it.
type Record struct {
	ID         int64          `json:"id"`
	At         time.Time      `json:"at"`
	UserID     string         `json:"user_id"`
	Roles      []string       `json:"roles"`
	Tool       string         `json:"tool"`
	Domain     string         `json:"domain"`
	Params     map[string]any `json:"params"`
	Outcome    Outcome        `json:"outcome"`
	Error      string         `json:"error"`
	Result     any            `json:"result,omitempty"`
	DurationMS int64          `json:"duration_ms"`
	WorkflowID string         `json:"workflow_id"`
	RunID      string         `json:"run_id"`
	ToolCallID string         `json:"tool_call_id"`
	Approver   string         `json:"approver"`
}

// Filter selects audit records. Zero fields do not filter.
type Filter struct {
	UserID string
	// Tool is an exact tool name, or a prefix ending in "*": "hr.*" is every HR tool.
	Tool string
	// Outcome is one of the Outcome values.
	Outcome string
	// Since and Until bound At: Since <= At < Until.
	Since time.Time
	Until time.Time
	// Limit is the page size: DefaultLimit when zero or less, at most MaxLimit.
	Limit int
	// Cursor is a previous Page's NextCursor, to read the page after it.
	Cursor string
}

// Page is one page of records, newest first. NextCursor is empty on the last page.
type Page struct {
	Records    []Record `json:"records"`
	NextCursor string   `json:"next_cursor,omitempty"`
}

// Log writes and reads the audit_log table.
type Log struct {
	pool *pgxpool.Pool
}

// New returns a Log on pool.
func New(pool *pgxpool.Pool) *Log {
	return &Log{pool: pool}
}

// Record redacts e and writes it as a new row, returning the row's ID. Params and Result lose
// the values of redact.WellKnown and e.Sensitive fields, and Error passes through
// redact.String. It fails when e has no Tool or an unknown Outcome, or the write fails.
func (l *Log) Record(ctx context.Context, e Entry) (int64, error) {
	if e.Tool == "" {
		return 0, errors.New("record audit entry: tool is required")
	}
	if !e.Outcome.Valid() {
		return 0, fmt.Errorf("record audit entry: unknown outcome %q", e.Outcome)
	}
	domain := e.Domain
	if domain == "" {
		domain, _, _ = strings.Cut(e.Tool, ".")
	}
	roles := e.Roles
	if roles == nil {
		roles = []string{}
	}
	params := []byte("{}")
	if e.Params != nil {
		b, err := json.Marshal(redact.Value(e.Params, e.Sensitive...))
		if err != nil {
			return 0, fmt.Errorf("record audit entry: encode params: %w", err)
		}
		params = b
	}
	var result []byte // nil is NULL
	if e.Result != nil {
		b, err := json.Marshal(redact.Value(e.Result, e.Sensitive...))
		if err != nil {
			return 0, fmt.Errorf("record audit entry: encode result: %w", err)
		}
		if string(b) != "null" {
			result = b
		}
	}
	const q = `INSERT INTO audit_log
		(user_id, roles, tool, domain, params, outcome, error, result, duration_ms,
		 workflow_id, run_id, tool_call_id, approver)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
		RETURNING id`
	var id int64
	err := l.pool.QueryRow(ctx, q,
		e.UserID, roles, e.Tool, domain, params, string(e.Outcome), redact.String(e.Error), result,
		max(e.Duration.Milliseconds(), 0), e.WorkflowID, e.RunID, e.ToolCallID, e.Approver,
	).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("insert audit entry: %w", err)
	}
	return id, nil
}

// Query returns the records f selects, newest first, one page at a time. Pages are keyed on
// (at, id), so rows written while an auditor pages never shift or repeat a page. It returns
// an error wrapping ErrBadCursor for a cursor Query did not make, and ErrBadFilter for a
// malformed filter.
func (l *Log) Query(ctx context.Context, f Filter) (Page, error) {
	var (
		where []string
		args  []any
	)
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.UserID != "" {
		where = append(where, "user_id = "+arg(f.UserID))
	}
	if prefix, ok := strings.CutSuffix(f.Tool, "*"); ok {
		if prefix != "" {
			where = append(where, "tool LIKE "+arg(escapeLike(prefix)+"%")+` ESCAPE '\'`)
		}
	} else if f.Tool != "" {
		where = append(where, "tool = "+arg(f.Tool))
	}
	if f.Outcome != "" {
		if !Outcome(f.Outcome).Valid() {
			return Page{}, fmt.Errorf("%w: unknown outcome %q", ErrBadFilter, f.Outcome)
		}
		where = append(where, "outcome = "+arg(f.Outcome))
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		return Page{}, fmt.Errorf("%w: until must be after since", ErrBadFilter)
	}
	if !f.Since.IsZero() {
		where = append(where, "at >= "+arg(f.Since))
	}
	if !f.Until.IsZero() {
		where = append(where, "at < "+arg(f.Until))
	}
	if f.Cursor != "" {
		c, err := decodeCursor(f.Cursor)
		if err != nil {
			return Page{}, err
		}
		where = append(where, "(at, id) < ("+arg(c.At)+", "+arg(c.ID)+")")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)

	q := `SELECT id, at, user_id, roles, tool, domain, params, outcome, error, result, duration_ms,
		workflow_id, run_id, tool_call_id, approver
		FROM audit_log`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	// One row more than the page tells whether another page follows.
	q += " ORDER BY at DESC, id DESC LIMIT " + arg(limit+1)

	rows, err := l.pool.Query(ctx, q, args...)
	if err != nil {
		return Page{}, fmt.Errorf("query audit log: %w", err)
	}
	recs, err := pgx.CollectRows(rows, scanRecord)
	if err != nil {
		return Page{}, fmt.Errorf("query audit log: %w", err)
	}
	page := Page{Records: recs}
	if len(recs) > limit {
		page.Records = recs[:limit]
		last := page.Records[limit-1]
		page.NextCursor = encodeCursor(cursor{At: last.At, ID: last.ID})
	}
	if page.Records == nil {
		page.Records = []Record{}
	}
	return page, nil
}

func scanRecord(row pgx.CollectableRow) (Record, error) {
	var (
		r       Record
		outcome string
		params  []byte
		result  []byte
	)
	err := row.Scan(&r.ID, &r.At, &r.UserID, &r.Roles, &r.Tool, &r.Domain, &params, &outcome,
		&r.Error, &result, &r.DurationMS, &r.WorkflowID, &r.RunID, &r.ToolCallID, &r.Approver)
	if err != nil {
		return Record{}, err
	}
	r.At = r.At.UTC()
	r.Outcome = Outcome(outcome)
	if r.Roles == nil {
		r.Roles = []string{}
	}
	if err := json.Unmarshal(params, &r.Params); err != nil {
		return Record{}, fmt.Errorf("decode params of audit record %d: %w", r.ID, err)
	}
	if r.Params == nil {
		r.Params = map[string]any{}
	}
	if result != nil {
		if err := json.Unmarshal(result, &r.Result); err != nil {
			return Record{}, fmt.Errorf("decode result of audit record %d: %w", r.ID, err)
		}
	}
	return r, nil
}

// cursor is the position after which the next page starts. It travels as base64url JSON:
// opaque to clients, easy to read when debugging.
type cursor struct {
	At time.Time `json:"at"`
	ID int64     `json:"id"`
}

func encodeCursor(c cursor) string {
	b, _ := json.Marshal(c) // A time and an int always encode.
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return cursor{}, fmt.Errorf("%w: not base64url", ErrBadCursor)
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil {
		return cursor{}, fmt.Errorf("%w: not a cursor", ErrBadCursor)
	}
	if c.ID <= 0 || c.At.IsZero() {
		return cursor{}, fmt.Errorf("%w: incomplete cursor", ErrBadCursor)
	}
	return c, nil
}

// escapeLike quotes the LIKE wildcards in s, so "hr_x.*" matches only tools starting "hr_x.".
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
