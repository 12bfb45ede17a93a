package usage

import (
	"context"
	"log/slog"

	"mcp-platform/internal/store"
)

// Meter is what the LLM activity needs of the accounting: before a call, whether the user's
// budget still allows it; after, the record of what it used. A nil *Meter allows every call
// and records nothing.
type Meter struct {
	Budget
	// Provider names the configured LLM provider in the records (LLM_PROVIDER).
	Provider string
	Logger   *slog.Logger
}

// Refusal is the assistant's answer when user's daily budget is spent, "" while it allows
// another call. Its errors are the store's: the caller should retry rather than let a call run
// unchecked.
func (m *Meter) Refusal(ctx context.Context, user string) (string, error) {
	if m == nil {
		return "", nil
	}
	v, err := m.Check(ctx, user)
	if err != nil || !v.Exceeded {
		return "", err
	}
	if m.Logger != nil {
		m.Logger.Info("turn refused: daily token budget spent", "user", user, "used", v.Used, "limit", v.Limit)
	}
	return v.Message(), nil
}

// Record saves what one call used. The tokens are spent whatever happens next, so a failure
// to record is logged, never returned: failing the step would only call the LLM again.
func (m *Meter) Record(ctx context.Context, e Entry) {
	if m == nil || m.Store == nil {
		return
	}
	e = m.complete(e)
	if err := m.Store.Record(context.WithoutCancel(ctx), e); err != nil {
		m.notRecorded(e, err)
	}
}

// RecordOp is Record as a store.Op, for the step's write that saves its message: nil (nothing
// to write) when there is no store or the entry is bad, which is logged. Should that write
// fail, the caller records the entry alone with Record, since the tokens were spent.
func (m *Meter) RecordOp(e Entry) (Entry, store.Op) {
	if m == nil || m.Store == nil {
		return e, nil
	}
	e = m.complete(e)
	if err := e.check(); err != nil {
		m.notRecorded(e, err)
		return e, nil
	}
	return e, m.Store.RecordOp(e)
}

// complete fills in the provider and a model the provider did not name.
func (m *Meter) complete(e Entry) Entry {
	if e.Provider == "" {
		e.Provider = m.Provider
	}
	if e.Model == "" {
		e.Model = "unknown"
	}
	return e
}

func (m *Meter) notRecorded(e Entry, err error) {
	if m.Logger != nil {
		m.Logger.Error("LLM usage not recorded", "user", e.UserID, "conversation_id", e.ConversationID,
			"prompt_tokens", e.PromptTokens, "completion_tokens", e.CompletionTokens, "error", err)
	}
}
