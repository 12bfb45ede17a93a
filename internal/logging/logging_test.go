package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"

	"mcp-platform/internal/config"
)

func TestNew(t *testing.T) {
	dev, prod := config.Default(), config.Default()
	prod.Environment = config.EnvProduction
	t.Run("OK json in production, masked", func(t *testing.T) {
		var b bytes.Buffer
		New(&b, prod).Info("login", "user", "alice", "password", "hunter2")
		var rec map[string]any
		require.NoError(t, json.Unmarshal(b.Bytes(), &rec))
		require.Equal(t, "alice", rec["user"])
		require.NotContains(t, b.String(), "hunter2")
	})
	t.Run("OK text in dev at the configured level", func(t *testing.T) {
		var b bytes.Buffer
		dev.Log.Level = "warn"
		l := New(&b, dev)
		l.Info("hidden")
		l.Warn("shown", "token", "abc.def.ghi")
		require.NotContains(t, b.String(), "hidden")
		require.Contains(t, b.String(), "level=WARN msg=shown")
		require.NotContains(t, b.String(), "abc.def.ghi")
	})
	t.Run("OK AtLeast drops lower levels", func(t *testing.T) {
		var b bytes.Buffer
		l := slog.New(AtLeast(slog.NewTextHandler(&b, nil), slog.LevelWarn))
		l.Info("quiet")
		l.Error("loud")
		require.NotContains(t, b.String(), "quiet")
		require.Contains(t, b.String(), "loud")
	})
}

func TestWithTrace(t *testing.T) {
	tid, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	traced := trace.ContextWithSpanContext(context.Background(),
		trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled}))
	t.Run("OK a line in a traced context has its trace and span IDs", func(t *testing.T) {
		var b bytes.Buffer
		New(&b, config.Default()).With("role", "api").InfoContext(traced, "turn started", "password", "hunter2")
		require.Contains(t, b.String(), "trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7")
		require.Contains(t, b.String(), "role=api")
		require.NotContains(t, b.String(), "hunter2")
	})
	t.Run("OK a line without a span has none", func(t *testing.T) {
		var b bytes.Buffer
		New(&b, config.Default()).InfoContext(context.Background(), "idle")
		require.NotContains(t, b.String(), "trace_id")
	})
}
