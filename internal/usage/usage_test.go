package usage_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"mcp-platform/internal/store"
	"mcp-platform/internal/testutil/dbtest"
	"mcp-platform/internal/usage"
)

// now is a fixed clock in the afternoon (UTC) of the tests' "today".
var now = time.Date(2026, 12, 1, 15, 30, 0, 0, time.UTC)

func entry(user, conv string, step, prompt, completion int, model string, at time.Time) usage.Entry {
	return usage.Entry{UserID: user, ConversationID: conv, Turn: 1, Step: step, Attempt: 1, Provider: "mock", Model: model,
		PromptTokens: prompt, CompletionTokens: completion, At: at}
}

func TestRecord(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	s := usage.NewStore(db.Pool)
	conv := uuid.NewString()

	t.Run("OK", func(t *testing.T) {
		require.NoError(t, s.Record(ctx, entry("alice", conv, 1, 100, 20, "gpt-4o-mini", time.Time{})))
		var user, model string
		var prompt, completion int
		var at time.Time
		require.NoError(t, db.Pool.QueryRow(ctx, `SELECT user_id, model, prompt_tokens, completion_tokens, created_at
			FROM llm_usage WHERE conversation_id = $1`, conv).Scan(&user, &model, &prompt, &completion, &at))
		require.Equal(t, []any{"alice", "gpt-4o-mini", 100, 20}, []any{user, model, prompt, completion})
		require.WithinDuration(t, time.Now(), at, time.Hour, "a zero At is the database's now")
	})

	t.Run("SameAttemptOnce", func(t *testing.T) {
		// Recording an attempt again keeps the first row; a new attempt spent again.
		require.NoError(t, s.Record(ctx, entry("alice", conv, 1, 999, 999, "gpt-4o-mini", time.Time{})))
		second := entry("alice", conv, 1, 50, 5, "gpt-4o-mini", time.Time{})
		second.Attempt = 2
		require.NoError(t, s.Record(ctx, second))
		spent, err := s.Spent(ctx, "alice", time.Now())
		require.NoError(t, err)
		require.Equal(t, int64(100+20+50+5), spent)
	})

	t.Run("ErrBadEntry", func(t *testing.T) {
		for name, e := range map[string]usage.Entry{
			"no user":         entry(" ", conv, 2, 1, 1, "m", time.Time{}),
			"no model":        entry("alice", conv, 2, 1, 1, "", time.Time{}),
			"no conversation": entry("alice", "", 2, 1, 1, "m", time.Time{}),
			"negative":        entry("alice", conv, 2, -1, 1, "m", time.Time{}),
		} {
			require.ErrorIs(t, s.Record(ctx, e), usage.ErrBadEntry, name)
		}
	})
}

func TestSpent(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	s := usage.NewStore(db.Pool)
	conv := uuid.NewString()
	today := usage.DayStart(now)
	require.NoError(t, s.Record(ctx, entry("alice", conv, 1, 1000, 100, "m", today.Add(-time.Minute)))) // yesterday
	require.NoError(t, s.Record(ctx, entry("alice", conv, 2, 300, 30, "m", today)))
	require.NoError(t, s.Record(ctx, entry("alice", conv, 3, 200, 20, "n", now)))
	require.NoError(t, s.Record(ctx, entry("bob", uuid.NewString(), 1, 5000, 500, "m", now)))

	got, err := s.Spent(ctx, "alice", today)
	require.NoError(t, err)
	require.Equal(t, int64(300+30+200+20), got, "today only, alice only")
	got, err = s.Spent(ctx, "alice", now.Add(-24*time.Hour))
	require.NoError(t, err)
	require.Equal(t, int64(1000+100), got, "any time of a day reads that day: yesterday afternoon is the minute before midnight")
	got, err = s.Spent(ctx, "alice", today.Add(24*time.Hour))
	require.NoError(t, err)
	require.Zero(t, got, "a new day starts at zero")
	got, err = s.Spent(ctx, "carol", today)
	require.NoError(t, err)
	require.Zero(t, got)

	// The day's total is the sum of the day's calls, which the reports read.
	rep, err := s.UserReport(ctx, "alice", now, 2)
	require.NoError(t, err)
	got, err = s.Spent(ctx, "alice", now)
	require.NoError(t, err)
	require.Equal(t, rep.Today.TotalTokens, got)
}

func TestUserReport(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	s := usage.NewStore(db.Pool)
	conv := uuid.NewString()
	today := usage.DayStart(now)
	require.NoError(t, s.Record(ctx, entry("alice", conv, 1, 7, 7, "m", today.AddDate(0, 0, -30)))) // outside 30 days
	require.NoError(t, s.Record(ctx, entry("alice", conv, 2, 100, 10, "small", today.AddDate(0, 0, -29))))
	require.NoError(t, s.Record(ctx, entry("alice", conv, 3, 200, 20, "big", today.AddDate(0, 0, -2).Add(23*time.Hour))))
	require.NoError(t, s.Record(ctx, entry("alice", conv, 4, 300, 30, "small", today.Add(time.Hour))))
	require.NoError(t, s.Record(ctx, entry("alice", conv, 5, 400, 40, "small", now)))
	require.NoError(t, s.Record(ctx, entry("bob", uuid.NewString(), 1, 9000, 900, "small", now)))

	t.Run("OK", func(t *testing.T) {
		rep, err := s.UserReport(ctx, "alice", now, 30)
		require.NoError(t, err)
		require.Equal(t, today.AddDate(0, 0, -29), rep.Since)
		require.Equal(t, usage.Totals{PromptTokens: 700, CompletionTokens: 70, TotalTokens: 770, Calls: 2}, rep.Today)
		require.Equal(t, []usage.ModelTotals{{Model: "small", Totals: rep.Today}}, rep.TodayModels)
		require.Equal(t, usage.Totals{PromptTokens: 1000, CompletionTokens: 100, TotalTokens: 1100, Calls: 4}, rep.Period)
		require.Equal(t, []usage.ModelTotals{
			{Model: "small", Totals: usage.Totals{PromptTokens: 800, CompletionTokens: 80, TotalTokens: 880, Calls: 3}},
			{Model: "big", Totals: usage.Totals{PromptTokens: 200, CompletionTokens: 20, TotalTokens: 220, Calls: 1}},
		}, rep.Models)
		require.Equal(t, []usage.DayTotals{
			{Date: "2026-11-02", Totals: usage.Totals{PromptTokens: 100, CompletionTokens: 10, TotalTokens: 110, Calls: 1}},
			{Date: "2026-11-29", Totals: usage.Totals{PromptTokens: 200, CompletionTokens: 20, TotalTokens: 220, Calls: 1}},
			{Date: "2026-12-01", Totals: usage.Totals{PromptTokens: 700, CompletionTokens: 70, TotalTokens: 770, Calls: 2}},
		}, rep.Days)
	})

	t.Run("Nothing", func(t *testing.T) {
		rep, err := s.UserReport(ctx, "carol", now, 30)
		require.NoError(t, err)
		require.Zero(t, rep.Today)
		require.Empty(t, rep.Days)
		require.NotNil(t, rep.Models, "an empty list, not null, in JSON")
	})
}

func TestAllUsers(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	s := usage.NewStore(db.Pool)
	today := usage.DayStart(now)
	a, b, c := uuid.NewString(), uuid.NewString(), uuid.NewString()
	require.NoError(t, s.Record(ctx, entry("alice", a, 1, 100, 10, "small", now)))
	require.NoError(t, s.Record(ctx, entry("alice", a, 2, 50, 5, "big", today.AddDate(0, 0, -3))))
	require.NoError(t, s.Record(ctx, entry("bob", b, 1, 1000, 100, "small", today.AddDate(0, 0, -1))))
	require.NoError(t, s.Record(ctx, entry("carol", c, 1, 1, 1, "small", today.AddDate(0, 0, -40))))

	t.Run("OK", func(t *testing.T) {
		got, err := s.AllUsers(ctx, now, 30, 100)
		require.NoError(t, err)
		require.Equal(t, []usage.UserTotals{
			{UserID: "bob", Today: usage.Totals{}, Period: usage.Totals{PromptTokens: 1000, CompletionTokens: 100, TotalTokens: 1100, Calls: 1},
				Models: []usage.ModelTotals{{Model: "small", Totals: usage.Totals{PromptTokens: 1000, CompletionTokens: 100, TotalTokens: 1100, Calls: 1}}}},
			{UserID: "alice", Today: usage.Totals{PromptTokens: 100, CompletionTokens: 10, TotalTokens: 110, Calls: 1},
				Period: usage.Totals{PromptTokens: 150, CompletionTokens: 15, TotalTokens: 165, Calls: 2},
				Models: []usage.ModelTotals{
					{Model: "small", Totals: usage.Totals{PromptTokens: 100, CompletionTokens: 10, TotalTokens: 110, Calls: 1}},
					{Model: "big", Totals: usage.Totals{PromptTokens: 50, CompletionTokens: 5, TotalTokens: 55, Calls: 1}},
				}},
		}, got, "most tokens first; carol's usage is older than 30 days")
	})

	t.Run("Limit", func(t *testing.T) {
		got, err := s.AllUsers(ctx, now, 30, 1)
		require.NoError(t, err)
		require.Len(t, got, 1)
		require.Equal(t, "bob", got[0].UserID)
		require.Len(t, got[0].Models, 1)
	})
}

func TestBudget(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	s := usage.NewStore(db.Pool)
	clock := func() time.Time { return now }
	require.NoError(t, s.Record(ctx, entry("alice", uuid.NewString(), 1, 900, 100, "m", now.Add(-time.Hour))))
	require.NoError(t, s.Record(ctx, entry("alice", uuid.NewString(), 1, 5000, 0, "m", usage.DayStart(now).Add(-time.Second))))

	t.Run("Exceeded", func(t *testing.T) {
		v, err := (&usage.Budget{Store: s, TokensPerDay: 1000, Now: clock}).Check(ctx, "alice")
		require.NoError(t, err)
		require.True(t, v.Exceeded)
		require.Equal(t, int64(1000), v.Used, "yesterday's tokens do not count")
		require.Equal(t, time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC), v.ResetsAt)
		msg := v.Message()
		for _, want := range []string{"allowance of 1,000 LLM tokens (1,000 used)", "nothing more was run", "00:00 UTC on Dec 2", "in 8 h 30 min"} {
			require.Contains(t, msg, want)
		}
	})

	t.Run("Within", func(t *testing.T) {
		v, err := (&usage.Budget{Store: s, TokensPerDay: 1001, Now: clock}).Check(ctx, "alice")
		require.NoError(t, err)
		require.False(t, v.Exceeded)
		v, err = (&usage.Budget{Store: s, TokensPerDay: 1000, Now: clock}).Check(ctx, "bob")
		require.NoError(t, err)
		require.False(t, v.Exceeded, "one user's tokens are not another's")
	})

	t.Run("NoBudget", func(t *testing.T) {
		var nilBudget *usage.Budget
		v, err := nilBudget.Check(ctx, "alice")
		require.NoError(t, err)
		require.False(t, v.Exceeded)
		v, err = (&usage.Budget{Store: s, TokensPerDay: 0, Now: clock}).Check(ctx, "alice")
		require.NoError(t, err)
		require.False(t, v.Exceeded)
	})

	t.Run("MessageNearMidnight", func(t *testing.T) {
		late := func() time.Time { return usage.DayStart(now).Add(24*time.Hour - 20*time.Second) }
		require.NoError(t, s.Record(ctx, entry("dan", uuid.NewString(), 1, 10, 0, "m", late())))
		v, err := (&usage.Budget{Store: s, TokensPerDay: 5, Now: late}).Check(ctx, "dan")
		require.NoError(t, err)
		require.True(t, strings.Contains(v.Message(), "less than a minute"), v.Message())
	})
}

// BenchmarkSpent is the budget check before each LLM call, for a user with few and with many
// calls today: it reads the day's total, so its cost does not grow with the calls.
func BenchmarkSpent(b *testing.B) {
	ctx := context.Background()
	db := dbtest.New(b)
	s := usage.NewStore(db.Pool)
	for _, calls := range []int{10, 5000} {
		user := fmt.Sprintf("user-%d", calls)
		ops := make([]store.Op, 0, calls)
		conv := uuid.NewString()
		for i := range calls {
			ops = append(ops, s.RecordOp(entry(user, conv, i+1, 100, 10, "m", time.Time{})))
		}
		require.NoError(b, store.Send(ctx, db.Pool, ops...))
		b.Run(fmt.Sprintf("calls=%d", calls), func(b *testing.B) {
			for b.Loop() {
				got, err := s.Spent(ctx, user, usage.DayStart(time.Now()))
				if err != nil || got != int64(110*calls) {
					b.Fatalf("Spent = %d, %v; want %d", got, err, 110*calls)
				}
			}
		})
	}
}
