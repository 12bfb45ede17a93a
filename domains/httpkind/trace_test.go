package httpkind_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"

	"mcp-platform/domains"
)

// TestTraceparentGoesUpstream checks that a traced call sends its trace context to the service
// in the W3C traceparent header, and an untraced one sends none.
func TestTraceparentGoesUpstream(t *testing.T) {
	svc := newService(t)
	a := newAdapter(t, testConfig(t, svc.URL+"/api/"), slog.New(slog.DiscardHandler))
	tid, err := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	require.NoError(t, err)
	sid, err := trace.SpanIDFromHex("00f067aa0ba902b7")
	require.NoError(t, err)
	ctx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled}))

	svc.answer(200, `{"data": {}}`)
	_, err = a.Call(ctx, domains.Call{Tool: "crm.get_customer", Args: map[string]any{"customer_id": "C1"}, IdempotencyKey: "wf-9/call-2", Subject: "tester"})
	require.NoError(t, err)
	require.Equal(t, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", svc.request().Header.Get("Traceparent"))

	_, err = call(a, "crm.get_customer", map[string]any{"customer_id": "C1"})
	require.NoError(t, err)
	require.Empty(t, svc.request().Header.Get("Traceparent"))
}
