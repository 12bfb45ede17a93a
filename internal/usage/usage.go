// Package usage is the accounting of LLM tokens: one row per LLM call in the llm_usage table
// (who, which turn, which model, prompt and completion tokens), the reports read from it (a
// user's own, and everyone's for admins), and the daily token budget checked before each call.
// Days are UTC days: a budget resets at 00:00 UTC.
package usage

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"mcp-platform/internal/store"
)

// ErrBadEntry means an Entry lacks a user, a conversation or a model, or has negative counts.
var ErrBadEntry = errors.New("invalid usage entry")

// Entry is one LLM call to record.
type Entry struct {
	UserID         string
	ConversationID string
	Turn           int
	Step           int
	// Attempt is the activity attempt that made the call (1 for the first).
	Attempt  int
	Provider string
	Model    string
	// PromptTokens and CompletionTokens are what the provider reported.
	PromptTokens     int
	CompletionTokens int
	// At is when the call ended; zero means now (the database's clock).
	At time.Time
}

// Totals are token counts and the number of LLM calls that used them.
type Totals struct {
	PromptTokens     int64 `json:"prompt_tokens" doc:"Tokens sent to the model"`
	CompletionTokens int64 `json:"completion_tokens" doc:"Tokens the model wrote"`
	TotalTokens      int64 `json:"total_tokens" doc:"prompt_tokens + completion_tokens"`
	Calls            int64 `json:"calls" doc:"LLM calls"`
}

func (t *Totals) add(o Totals) {
	t.PromptTokens += o.PromptTokens
	t.CompletionTokens += o.CompletionTokens
	t.TotalTokens += o.TotalTokens
	t.Calls += o.Calls
}

// ModelTotals are the totals of one model.
type ModelTotals struct {
	Model string `json:"model"`
	Totals
}

// DayTotals are the totals of one UTC day.
type DayTotals struct {
	// Date is the UTC day, YYYY-MM-DD.
	Date string `json:"date" example:"2026-12-01" doc:"UTC day"`
	Totals
}

// UserTotals are one user's totals over a period, with today's apart.
type UserTotals struct {
	UserID string `json:"user_id"`
	// Today is the part of the period since 00:00 UTC today.
	Today  Totals        `json:"today"`
	Period Totals        `json:"period"`
	Models []ModelTotals `json:"models" doc:"The period's totals by model, most tokens first"`
}

// Store reads and writes the llm_usage table.
type Store struct {
	pool *pgxpool.Pool
}

// NewStore returns a store on pool.
func NewStore(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// Record saves one LLM call. Recording the same attempt of a step twice keeps the first row.
// Its errors are ErrBadEntry and database errors.
func (s *Store) Record(ctx context.Context, e Entry) error {
	return store.Send(ctx, s.pool, s.RecordOp(e))
}

// RecordOp is Record as a store.Op, to record the call in the same round trip and
// transaction as the step's other writes. Queuing a bad entry fails with ErrBadEntry.
func (s *Store) RecordOp(e Entry) store.Op {
	return func(b *pgx.Batch) error {
		if err := e.check(); err != nil {
			return err
		}
		if e.Attempt < 1 {
			e.Attempt = 1
		}
		var at any
		if !e.At.IsZero() {
			at = e.At
		}
		// The day's total (llm_usage_daily) grows in the same statement, only when the row is new.
		store.Exec(b, "record usage", `WITH call AS (
			INSERT INTO llm_usage
				(user_id, conversation_id, turn, step, attempt, provider, model, prompt_tokens, completion_tokens, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, coalesce($10, now()))
			ON CONFLICT (conversation_id, turn, step, attempt) DO NOTHING
			RETURNING user_id, created_at, prompt_tokens + completion_tokens AS tokens)
		INSERT INTO llm_usage_daily (user_id, day, tokens)
		SELECT user_id, (created_at AT TIME ZONE 'UTC')::date, tokens FROM call
		ON CONFLICT (user_id, day) DO UPDATE SET tokens = llm_usage_daily.tokens + excluded.tokens`,
			e.UserID, e.ConversationID, e.Turn, e.Step, e.Attempt, e.Provider, e.Model, e.PromptTokens, e.CompletionTokens, at)
		return nil
	}
}

// check refuses an entry that cannot be recorded (ErrBadEntry).
func (e Entry) check() error {
	if strings.TrimSpace(e.UserID) == "" || e.ConversationID == "" || strings.TrimSpace(e.Model) == "" ||
		e.PromptTokens < 0 || e.CompletionTokens < 0 {
		return fmt.Errorf("record usage: %w", ErrBadEntry)
	}
	return nil
}

// Spent returns the tokens (prompt and completion) user's calls used on the UTC day of day:
// one row of the day's totals, however many calls the user made.
func (s *Store) Spent(ctx context.Context, user string, day time.Time) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT coalesce((SELECT tokens FROM llm_usage_daily WHERE user_id = $1 AND day = $2::date), 0)`,
		user, DayStart(day).Format(time.DateOnly)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("read spent tokens: %w", err)
	}
	return n, nil
}

// Report is one user's usage: today, and the period's days and models.
type Report struct {
	UserID string `json:"user_id"`
	// Since is the start of the period (00:00 UTC of its first day).
	Since time.Time `json:"since"`
	Today Totals    `json:"today"`
	// TodayModels are today's totals by model.
	TodayModels []ModelTotals `json:"today_models"`
	Period      Totals        `json:"period"`
	Models      []ModelTotals `json:"models" doc:"The period's totals by model, most tokens first"`
	Days        []DayTotals   `json:"days" doc:"The period's days that used tokens, oldest first"`
}

// UserReport returns user's usage over the days UTC days up to and including now's (days ≥ 1).
func (s *Store) UserReport(ctx context.Context, user string, now time.Time, days int) (Report, error) {
	today := DayStart(now)
	since := today.AddDate(0, 0, -(max(days, 1) - 1))
	rep := Report{UserID: user, Since: since, TodayModels: []ModelTotals{}, Models: []ModelTotals{}, Days: []DayTotals{}}
	rows, err := s.pool.Query(ctx, `SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, model,
			sum(prompt_tokens)::bigint, sum(completion_tokens)::bigint, count(*)
		FROM llm_usage WHERE user_id = $1 AND created_at >= $2
		GROUP BY day, model ORDER BY day, model`, user, since)
	if err != nil {
		return Report{}, fmt.Errorf("read usage of %s: %w", user, err)
	}
	models, todayModels := map[string]*ModelTotals{}, map[string]*ModelTotals{}
	todayDate := today.Format(time.DateOnly)
	_, err = forEach(rows, func(day, model string, t Totals) {
		if n := len(rep.Days); n == 0 || rep.Days[n-1].Date != day {
			rep.Days = append(rep.Days, DayTotals{Date: day})
		}
		rep.Days[len(rep.Days)-1].add(t)
		rep.Period.add(t)
		accumulate(models, model, t)
		if day == todayDate {
			rep.Today.add(t)
			accumulate(todayModels, model, t)
		}
	})
	if err != nil {
		return Report{}, fmt.Errorf("read usage of %s: %w", user, err)
	}
	rep.Models, rep.TodayModels = sorted(models), sorted(todayModels)
	return rep, nil
}

// AllUsers returns every user's totals over the days UTC days up to and including now's, the
// users with the most tokens first, at most limit of them.
func (s *Store) AllUsers(ctx context.Context, now time.Time, days, limit int) ([]UserTotals, error) {
	today := DayStart(now)
	since := today.AddDate(0, 0, -(max(days, 1) - 1))
	rows, err := s.pool.Query(ctx, `WITH per AS (
			SELECT user_id, model, sum(prompt_tokens)::bigint AS p, sum(completion_tokens)::bigint AS c, count(*) AS n,
				coalesce(sum(prompt_tokens) FILTER (WHERE created_at >= $2), 0)::bigint AS tp,
				coalesce(sum(completion_tokens) FILTER (WHERE created_at >= $2), 0)::bigint AS tc,
				count(*) FILTER (WHERE created_at >= $2) AS tn
			FROM llm_usage WHERE created_at >= $1 GROUP BY user_id, model),
		top AS (SELECT user_id, sum(p + c) AS total FROM per GROUP BY user_id ORDER BY total DESC, user_id LIMIT $3)
		SELECT per.user_id, per.model, p, c, n, tp, tc, tn FROM per JOIN top USING (user_id)
		ORDER BY top.total DESC, per.user_id, p + c DESC, per.model`, since, today, max(limit, 1))
	if err != nil {
		return nil, fmt.Errorf("read usage of every user: %w", err)
	}
	defer rows.Close()
	out := []UserTotals{}
	for rows.Next() {
		var user, model string
		var period, today Totals
		if err := rows.Scan(&user, &model, &period.PromptTokens, &period.CompletionTokens, &period.Calls,
			&today.PromptTokens, &today.CompletionTokens, &today.Calls); err != nil {
			return nil, fmt.Errorf("read usage of every user: %w", err)
		}
		period.TotalTokens = period.PromptTokens + period.CompletionTokens
		today.TotalTokens = today.PromptTokens + today.CompletionTokens
		if n := len(out); n == 0 || out[n-1].UserID != user {
			out = append(out, UserTotals{UserID: user, Models: []ModelTotals{}})
		}
		u := &out[len(out)-1]
		u.Period.add(period)
		u.Today.add(today)
		u.Models = append(u.Models, ModelTotals{Model: model, Totals: period})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read usage of every user: %w", err)
	}
	return out, nil
}

// forEach scans rows of (day, model, prompt, completion, calls).
func forEach(rows pgx.Rows, fn func(day, model string, t Totals)) (int, error) {
	defer rows.Close()
	n := 0
	for rows.Next() {
		var day, model string
		var t Totals
		if err := rows.Scan(&day, &model, &t.PromptTokens, &t.CompletionTokens, &t.Calls); err != nil {
			return n, err
		}
		t.TotalTokens = t.PromptTokens + t.CompletionTokens
		fn(day, model, t)
		n++
	}
	return n, rows.Err()
}

func accumulate(m map[string]*ModelTotals, model string, t Totals) {
	mt, ok := m[model]
	if !ok {
		mt = &ModelTotals{Model: model}
		m[model] = mt
	}
	mt.add(t)
}

// sorted lists the models with the most tokens first, then by name.
func sorted(m map[string]*ModelTotals) []ModelTotals {
	out := make([]ModelTotals, 0, len(m))
	for _, mt := range m {
		out = append(out, *mt)
	}
	slices.SortFunc(out, func(a, b ModelTotals) int {
		if c := cmp.Compare(b.TotalTokens, a.TotalTokens); c != 0 {
			return c
		}
		return strings.Compare(a.Model, b.Model)
	})
	return out
}

// DayStart is 00:00 UTC of t's UTC day.
func DayStart(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
