package usage

import (
	"context"
	"fmt"
	"time"

	"github.com/dustin/go-humanize"
)

// Budget is the daily token budget of each user: the tokens (prompt and completion) a user's
// LLM calls may use in one UTC day. It is checked before each call, so the call that crosses
// it still completes and the next one is refused. The store is shared by every orchestrator,
// so the budget holds across replicas.
type Budget struct {
	Store *Store
	// TokensPerDay is each user's budget; 0 means no budget.
	TokensPerDay int64
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Verdict is what a budget check found.
type Verdict struct {
	// Exceeded is true when the user's tokens today reached the budget: no LLM call may run.
	Exceeded bool
	Used     int64
	Limit    int64
	// ResetsAt is the next 00:00 UTC, when the budget starts again.
	ResetsAt time.Time
	// now is when the check ran, for the message.
	now time.Time
}

// Check reads user's tokens of today. Without a budget (a nil Budget, or TokensPerDay 0) it
// reads nothing and nothing is exceeded. Its errors are the store's.
func (b *Budget) Check(ctx context.Context, user string) (Verdict, error) {
	if b == nil || b.TokensPerDay <= 0 || b.Store == nil {
		return Verdict{}, nil
	}
	now := time.Now()
	if b.Now != nil {
		now = b.Now()
	}
	start := DayStart(now)
	used, err := b.Store.Spent(ctx, user, now)
	if err != nil {
		return Verdict{}, fmt.Errorf("check token budget: %w", err)
	}
	return Verdict{Exceeded: used >= b.TokensPerDay, Used: used, Limit: b.TokensPerDay,
		ResetsAt: start.Add(24 * time.Hour), now: now}, nil
}

// Message is the assistant's answer to a step refused by the budget: plain words saying that
// nothing more ran, the budget, and when it resets. It holds for a turn's first step (nothing
// ran at all) and for a later one (the tools of earlier steps ran, nothing after them).
func (v Verdict) Message() string {
	return fmt.Sprintf("You have used today's allowance of %s LLM tokens (%s used), so I can't work on this now "+
		"and nothing more was run. The allowance resets at %s (in %s). Ask an administrator if you need more.",
		humanize.Comma(v.Limit), humanize.Comma(v.Used), v.ResetsAt.UTC().Format("15:04 MST on Jan 2"), roughly(v.ResetsAt.Sub(v.now)))
}

// roughly is a duration for people: "3 h 12 min", "12 min", "less than a minute".
func roughly(d time.Duration) string {
	mins := int(d.Round(time.Minute) / time.Minute)
	switch {
	case mins < 1:
		return "less than a minute"
	case mins < 60:
		return fmt.Sprintf("%d min", mins)
	case mins%60 == 0:
		return fmt.Sprintf("%d h", mins/60)
	default:
		return fmt.Sprintf("%d h %d min", mins/60, mins%60)
	}
}
