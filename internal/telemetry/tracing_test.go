package telemetry_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"

	"mcp-platform/internal/telemetry"
)

func TestStartTracing(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	t.Run("OK off without an endpoint: the global tracer stays a no-op", func(t *testing.T) {
		shutdown, err := telemetry.StartTracing(context.Background(), "mcp-platform-api", env(nil))
		require.NoError(t, err)
		require.NoError(t, shutdown(context.Background()))
		_, span := otel.Tracer("x").Start(context.Background(), "s")
		require.False(t, span.IsRecording())
	})
	t.Run("ErrUnknownProtocol", func(t *testing.T) {
		_, err := telemetry.StartTracing(context.Background(), "mcp-platform-api",
			env(map[string]string{telemetry.EnvEndpoint: "http://127.0.0.1:4318", telemetry.EnvProtocol: "carrier-pigeon"}))
		require.ErrorContains(t, err, "use http/protobuf or grpc")
	})
}

func TestMetaCarrier(t *testing.T) {
	tid, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	ctx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled}))
	meta := telemetry.MetaCarrier{"other": 1}
	telemetry.Propagator().Inject(ctx, meta)
	require.Equal(t, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", meta["traceparent"])
	require.Equal(t, 1, meta["other"])

	back := telemetry.Propagator().Extract(context.Background(), meta)
	require.Equal(t, tid.String(), telemetry.TraceID(back))
	require.Empty(t, telemetry.TraceID(context.Background()))
}
