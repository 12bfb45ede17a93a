package events_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"

	"mcp-platform/internal/events"
	"mcp-platform/internal/testutil/dbtest"
)

func TestPublishToolEventsCarryTheTrace(t *testing.T) {
	db := dbtest.New(t)
	s := events.NewStore(db.Pool)
	tid, err := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	require.NoError(t, err)
	sid, err := trace.SpanIDFromHex("00f067aa0ba902b7")
	require.NoError(t, err)
	traced := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid}))
	ref := events.ToolCallRef{Tool: "hr.get_employee", ToolCallID: "c1", Step: 1, Domain: "hr"}

	conv := db.Conversation(t)
	_, err = s.Publish(traced, conv, 1, events.ToolStartedData{ToolCallRef: ref, Summary: "hr.get_employee employee_id=E001"})
	require.NoError(t, err)
	_, err = s.Publish(traced, conv, 1, events.ToolFinishedData{ToolCallRef: ref})
	require.NoError(t, err)
	_, err = s.Publish(context.Background(), conv, 1, events.ToolStartedData{ToolCallRef: ref})
	require.NoError(t, err)

	got, err := s.After(context.Background(), conv, 0, 10)
	require.NoError(t, err)
	require.Len(t, got, 3)
	for i, want := range []string{tid.String(), tid.String(), ""} {
		var d struct {
			TraceID *string `json:"trace_id"`
		}
		require.NoError(t, json.Unmarshal(got[i].Data, &d))
		if want == "" {
			require.Nil(t, d.TraceID, "an untraced event has no trace_id")
			continue
		}
		require.NotNil(t, d.TraceID)
		require.Equal(t, want, *d.TraceID)
	}
}
