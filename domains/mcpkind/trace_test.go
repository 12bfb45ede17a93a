package mcpkind_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"

	"mcp-platform/domains"
	"mcp-platform/domains/mcpkind"
)

// TestTraceContextInMeta checks that a call carries its trace to the upstream in _meta, as
// MCP's trace-context convention says: the upstream sees the caller's trace ID under
// traceparent, beside the idempotency key.
func TestTraceContextInMeta(t *testing.T) {
	u := newUpstream()
	srv := serve(t, u, "")
	a := newAdapter(t, wikiConfig(t, &domains.MCPSource{URL: srv.URL, BearerTokenEnv: "WIKI_TOKEN"}), env(map[string]string{"WIKI_TOKEN": testToken}))
	_, err := a.(domains.ToolSource).DiscoverTools(context.Background()) // learns the remote names
	require.NoError(t, err)
	tid, err := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	require.NoError(t, err)
	sid, err := trace.SpanIDFromHex("00f067aa0ba902b7")
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ctx = trace.ContextWithSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled}))

	_, err = a.Call(ctx, domains.Call{Tool: "wiki.search_pages", Args: map[string]any{"query": "vpn"}, IdempotencyKey: "wf-1/call-1", Subject: "tester"})
	require.NoError(t, err)
	meta := u.lastMeta()
	require.Equal(t, "wf-1/call-1", meta[mcpkind.IdempotencyMetaKey])
	require.Equal(t, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", meta["traceparent"],
		"the caller's span goes upstream (no tracer provider is set, so no span of ours is in between)")

	t.Run("OK an untraced call sends no trace context", func(t *testing.T) {
		_, err := call(a, "wiki.search_pages", map[string]any{"query": "x"})
		require.NoError(t, err)
		require.NotContains(t, u.lastMeta(), "traceparent")
	})
}
