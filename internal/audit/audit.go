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
	"mcp-platform/internal/store"
	"mcp-platform/internal/telemetry"
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
	// OutcomeUnknown: a call that must not be repeated may have reached a third party, and no
	// answer came back (the worker stopped, or the call timed out): it may or may not have
	// taken effect, and it was not sent again.
	OutcomeUnknown Outcome = "unknown"
)

// Valid reports whether o is one of the outcomes above.
func (o Outcome) Valid() bool {
	switch o {
	case OutcomeStarted, OutcomeSucceeded, OutcomeDenied, OutcomeInvalid, OutcomeFailed, OutcomeRejected, OutcomeExpired, OutcomeUnknown:
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
	// TraceID is the OpenTelemetry trace of the request; empty means the trace of the context
	// Record is called with (if any).
	TraceID string
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
	Outcome    Outcome        `json:"outcome" enum:"started,succeeded,denied,invalid,failed,rejected,expired,unknown"`
	Error      string         `json:"error"`
	Result     any            `json:"result,omitempty"`
	DurationMS int64          `json:"duration_ms"`
	WorkflowID string         `json:"workflow_id"`
	RunID      string         `json:"run_id"`
	ToolCallID string         `json:"tool_call_id"`
	Approver   string         `json:"approver"`
	TraceID    string         `json:"trace_id" doc:"OpenTelemetry trace ID of the request that made the attempt (empty when it was not traced)"`
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
	// TraceID selects the attempts of one trace.
	TraceID string
}

// Page is one page of records, newest first. NextCursor is empty on the last page.
type Page struct {
	Records    []Record `json:"records"`
	NextCursor string   `json:"next_cursor,omitempty"`
}

// Log writes and reads the audit_log table.
type Log struct {
	pool    *pgxpool.Pool
	onFinal func(domain, tool string, outcome Outcome, took time.Duration)
}

// New returns a Log on pool.
func New(pool *pgxpool.Pool) *Log {
	return &Log{pool: pool}
}

// OnFinal makes l call f after it writes an attempt's final outcome (any outcome but
// started), with the attempt's domain, tool and duration: the tool-call metrics count what the
// audit log records, so the two never disagree. It returns l.
func (l *Log) OnFinal(f func(domain, tool string, outcome Outcome, took time.Duration)) *Log {
	l.onFinal = f
	return l
}

func (l *Log) final(r row, took time.Duration) {
	if l.onFinal != nil && Outcome(r.outcome) != OutcomeStarted {
		l.onFinal(r.domain, r.tool, Outcome(r.outcome), took)
	}
}

// Record redacts e and writes it as a new row, returning the row's ID. Params and Result lose
// the values of redact.WellKnown and e.Sensitive fields, and Error passes through
// redact.String; text Postgres cannot store (NUL, invalid UTF-8) is replaced, so a refusal of
// such input is still recorded. It fails when e has no Tool or an unknown Outcome, or the write
// fails.
func (l *Log) Record(ctx context.Context, e Entry) (int64, error) {
	r, err := encode(traced(ctx, e))
	if err != nil {
		return 0, err
	}
	const q = `INSERT INTO audit_log
		(user_id, roles, tool, domain, params, outcome, error, result, duration_ms,
		 workflow_id, run_id, tool_call_id, approver, trace_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
		RETURNING id`
	var id int64
	if err := l.pool.QueryRow(ctx, q, r.args()...).Scan(&id); err != nil {
		return 0, fmt.Errorf("insert audit entry: %w", err)
	}
	l.final(r, e.Duration)
	return id, nil
}

// traced fills e's TraceID from ctx's span when e names none.
func traced(ctx context.Context, e Entry) Entry {
	if e.TraceID == "" {
		e.TraceID = telemetry.TraceID(ctx)
	}
	return e
}

// RecordOnce is Record for an attempt that may be retried (an activity re-planning the LLM's
// calls): when e names its workflow and tool call, a second entry with the same workflow, tool
// call, tool and outcome is not written again. It returns whether it wrote a row.
func (l *Log) RecordOnce(ctx context.Context, e Entry) (bool, error) {
	if e.WorkflowID == "" || e.ToolCallID == "" {
		_, err := l.Record(ctx, e)
		return err == nil, err
	}
	r, err := encode(traced(ctx, e))
	if err != nil {
		return false, err
	}
	const q = `INSERT INTO audit_log
		(user_id, roles, tool, domain, params, outcome, error, result, duration_ms,
		 workflow_id, run_id, tool_call_id, approver, trace_id)
		SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14
		WHERE NOT EXISTS (SELECT 1 FROM audit_log WHERE workflow_id = $10 AND tool_call_id = $12 AND tool = $3 AND outcome = $6)`
	tag, err := l.pool.Exec(ctx, q, r.args()...)
	if err != nil {
		return false, fmt.Errorf("insert audit entry: %w", err)
	}
	if tag.RowsAffected() != 1 {
		return false, nil
	}
	l.final(r, e.Duration)
	return true, nil
}

// Begin writes the "started" row of an attempt before it runs and returns its ID: the audit log
// fails closed, so a call whose attempt cannot be recorded must not run. Finish completes it.
func (l *Log) Begin(ctx context.Context, e Entry) (int64, error) {
	e.Outcome = OutcomeStarted
	return l.Record(ctx, e)
}

// Finish records the final outcome of the attempt Begin started (outcome, error, result,
// duration, approver), redacted like Record.
func (l *Log) Finish(ctx context.Context, id int64, e Entry) error {
	r, err := encode(e)
	if err != nil {
		return err
	}
	_, err = l.pool.Exec(ctx, `UPDATE audit_log SET outcome = $2, error = $3, result = $4, duration_ms = $5, approver = $6
		WHERE id = $1`, id, r.outcome, r.err, r.result, r.durationMS, r.approver)
	if err != nil {
		return fmt.Errorf("finish audit entry: %w", err)
	}
	l.final(r, e.Duration)
	return nil
}

// MayHaveRun returns the earlier attempts of one tool call (workflow, tool call and tool) that
// may have reached the backend without a known result, oldest first: those that began and never
// finished (their worker stopped, or still runs after its time ran out), and those that ended
// with OutcomeUnknown. It returns how many there are, and the IDs of the unfinished ones.
func (l *Log) MayHaveRun(ctx context.Context, workflowID, toolCallID, tool string) (all int, unfinished []int64, err error) {
	rows, err := l.pool.Query(ctx, `SELECT id, outcome FROM audit_log
		WHERE workflow_id = $1 AND tool_call_id = $2 AND tool = $3 AND outcome IN ($4, $5) ORDER BY id`,
		txt(workflowID), txt(toolCallID), txt(tool), string(OutcomeStarted), string(OutcomeUnknown))
	if err != nil {
		return 0, nil, fmt.Errorf("query earlier audit entries: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var outcome string
		if err := rows.Scan(&id, &outcome); err != nil {
			return 0, nil, fmt.Errorf("query earlier audit entries: %w", err)
		}
		all++
		if Outcome(outcome) == OutcomeStarted {
			unfinished = append(unfinished, id)
		}
	}
	if err := rows.Err(); err != nil {
		return 0, nil, fmt.Errorf("query earlier audit entries: %w", err)
	}
	return all, unfinished, nil
}

// row is an Entry redacted and encoded for its columns.
type row struct {
	userID, tool, domain, outcome, err, workflowID, runID, toolCallID, approver, traceID string
	roles                                                                                []string
	params, result                                                                       []byte
	durationMS                                                                           int64
}

func (r row) args() []any {
	return []any{r.userID, r.roles, r.tool, r.domain, r.params, r.outcome, r.err, r.result, r.durationMS,
		r.workflowID, r.runID, r.toolCallID, r.approver, r.traceID}
}

// encode validates, redacts and sanitizes an entry into its column values.
func encode(e Entry) (row, error) {
	if e.Tool == "" {
		return row{}, errors.New("record audit entry: tool is required")
	}
	if !e.Outcome.Valid() {
		return row{}, fmt.Errorf("record audit entry: unknown outcome %q", e.Outcome)
	}
	domain := e.Domain
	if domain == "" {
		domain, _, _ = strings.Cut(e.Tool, ".")
	}
	r := row{userID: txt(e.UserID), tool: txt(e.Tool), domain: txt(domain), outcome: string(e.Outcome),
		err: txt(redact.String(e.Error)), workflowID: txt(e.WorkflowID), runID: txt(e.RunID),
		toolCallID: txt(e.ToolCallID), approver: txt(e.Approver), traceID: txt(e.TraceID), roles: txtList(e.Roles),
		params: []byte("{}"), durationMS: max(e.Duration.Milliseconds(), 0)}
	if e.Params != nil {
		b, err := json.Marshal(store.Sanitize(redact.Value(e.Params, e.Sensitive...)))
		if err != nil {
			return row{}, fmt.Errorf("record audit entry: encode params: %w", err)
		}
		r.params = b
	}
	if e.Result != nil { // nil is NULL
		b, err := json.Marshal(store.Sanitize(redact.Value(e.Result, e.Sensitive...)))
		if err != nil {
			return row{}, fmt.Errorf("record audit entry: encode result: %w", err)
		}
		if string(b) != "null" {
			r.result = b
		}
	}
	return r, nil
}

// txt makes a column value storable: a refusal must be recorded even when what was refused
// holds a NUL character or invalid UTF-8.
func txt(s string) string { return store.SanitizeText(s) }

func txtList(list []string) []string {
	out := make([]string, len(list)) // never nil: the column is NOT NULL
	for i, s := range list {
		out[i] = txt(s)
	}
	return out
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
	if f.TraceID != "" {
		where = append(where, "trace_id = "+arg(f.TraceID))
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
		workflow_id, run_id, tool_call_id, approver, trace_id
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
		&r.Error, &result, &r.DurationMS, &r.WorkflowID, &r.RunID, &r.ToolCallID, &r.Approver, &r.TraceID)
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
