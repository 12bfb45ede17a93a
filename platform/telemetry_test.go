package platform_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"mcp-platform/internal/config"
	"mcp-platform/internal/telemetry"
	"mcp-platform/platform"
)

// TestServeMetrics serves /metrics on the configured address, for roles without an HTTP
// server of their own, and serves nothing when no address is set.
func TestServeMetrics(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	cfg := config.Default()
	cfg.Server.MetricsAddr = addr
	m := telemetry.NewMetrics()
	m.ObserveToolCall("erp", "erp.get_invoice", "succeeded", time.Millisecond)
	e := &platform.Env{Cfg: cfg, Logger: slog.New(slog.DiscardHandler), Metrics: m}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- platform.ServeMetrics(ctx, e) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})

	var body string
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		return resp.StatusCode == http.StatusOK
	}, 10*time.Second, 50*time.Millisecond)
	require.Contains(t, body, `mcp_tool_calls_total{domain="erp",outcome="succeeded",tool="erp.get_invoice"} 1`)
	require.Contains(t, body, "go_goroutines")

	t.Run("OK none without an address", func(t *testing.T) {
		off := &platform.Env{Cfg: config.Default(), Logger: slog.New(slog.DiscardHandler), Metrics: m}
		require.NoError(t, platform.ServeMetrics(context.Background(), off))
	})
}
