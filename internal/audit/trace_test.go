package audit_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"

	"mcp-platform/internal/audit"
	"mcp-platform/internal/testutil/dbtest"
)

func TestTraceAndFinal(t *testing.T) {
	db := dbtest.New(t)
	type final struct {
		domain, tool string
		outcome      audit.Outcome
		took         time.Duration
	}
	var finals []final
	log := audit.New(db.Pool).OnFinal(func(domain, tool string, o audit.Outcome, took time.Duration) {
		finals = append(finals, final{domain, tool, o, took})
	})
	tid, err := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	require.NoError(t, err)
	sid, err := trace.SpanIDFromHex("00f067aa0ba902b7")
	require.NoError(t, err)
	ctx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid}))

	t.Run("OK the row carries the trace of the context, and only final outcomes are observed", func(t *testing.T) {
		id, err := log.Begin(ctx, audit.Entry{UserID: "alice", Tool: "hr.get_employee"})
		require.NoError(t, err)
		require.Empty(t, finals, "started is not an outcome the metrics count")
		require.NoError(t, log.Finish(ctx, id, audit.Entry{UserID: "alice", Tool: "hr.get_employee", Outcome: audit.OutcomeSucceeded, Duration: 42 * time.Millisecond}))
		require.Equal(t, []final{{"hr", "hr.get_employee", audit.OutcomeSucceeded, 42 * time.Millisecond}}, finals)

		page, err := log.Query(context.Background(), audit.Filter{TraceID: tid.String()})
		require.NoError(t, err)
		require.Len(t, page.Records, 1)
		require.Equal(t, id, page.Records[0].ID)
		require.Equal(t, tid.String(), page.Records[0].TraceID)
	})
	t.Run("OK a call without a span has no trace, and RecordOnce observes once", func(t *testing.T) {
		finals = nil
		e := audit.Entry{UserID: "bob", Tool: "erp.get_invoice", Outcome: audit.OutcomeDenied, WorkflowID: "chat-1-1", ToolCallID: "c1"}
		for range 2 {
			_, err := log.RecordOnce(context.Background(), e)
			require.NoError(t, err)
		}
		require.Len(t, finals, 1)
		page, err := log.Query(context.Background(), audit.Filter{UserID: "bob"})
		require.NoError(t, err)
		require.Len(t, page.Records, 1)
		require.Empty(t, page.Records[0].TraceID)
	})
}
