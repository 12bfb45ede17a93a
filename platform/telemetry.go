package platform

import (
	"context"
	"net/http"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

	"mcp-platform/api/httpapi"
	"mcp-platform/internal/approvals"
	"mcp-platform/internal/audit"
	"mcp-platform/internal/telemetry"
)

// ServiceName is the OpenTelemetry service name of a role ("mcp-platform-api", ...).
func ServiceName(role string) string { return "mcp-platform-" + role }

// auditLog is the audit log of this process's roles: what it records as a final outcome is
// counted in the tool-call metrics too.
func (e *Env) auditLog() *audit.Log {
	return audit.New(e.Pool).OnFinal(func(domain, tool string, o audit.Outcome, took time.Duration) {
		e.Metrics.ObserveToolCall(domain, tool, string(o), took)
	})
}

// approvalStore is the approvals store of this process's roles: decisions feed the
// decision-latency histogram.
func (e *Env) approvalStore() *approvals.Store {
	return approvals.NewStore(e.Pool).OnDecision(func(status string, waited time.Duration) {
		e.Metrics.ObserveApprovalDecision(status, waited)
	})
}

// probes are the health endpoints, left out of traces: orchestrators call them every few
// seconds.
var probes = map[string]bool{"/livez": true, "/readyz": true, "/health": true}

// instrument wraps a server's handler: each request is a server span (continuing the
// caller's W3C traceparent) named after its route, and is counted and timed by route and
// status in the process's metrics.
func (e *Env) instrument(server string, h http.Handler) http.Handler {
	return otelhttp.NewHandler(e.Metrics.InstrumentHTTP(server, h), server,
		otelhttp.WithPropagators(telemetry.Propagator()),
		otelhttp.WithFilter(func(r *http.Request) bool { return !probes[r.URL.Path] }),
		otelhttp.WithSpanNameFormatter(telemetry.SpanName))
}

// ServeMetrics serves Prometheus /metrics on the settings' metrics address until ctx ends, or
// returns at once when none is set. The address is apart from the public servers and needs no
// token: expose it only to the scraper (docs/security.md).
func ServeMetrics(ctx context.Context, e *Env) error {
	addr := e.Cfg.Server.MetricsAddr
	if addr == "" {
		return nil
	}
	return httpapi.Serve(ctx, e.Logger, "metrics", addr, MetricsHandler(e), e.Cfg.Server.ShutdownTimeout)
}

// MetricsHandler is what the metrics address serves: GET /metrics, the process's series in the
// Prometheus exposition format.
func MetricsHandler(e *Env) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", e.Metrics.Handler())
	return mux
}
