package telemetry_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"mcp-platform/internal/telemetry"
)

func scrape(t *testing.T, m *telemetry.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	b, err := io.ReadAll(rec.Body)
	require.NoError(t, err)
	return string(b)
}

func TestInstrumentHTTP(t *testing.T) {
	m := telemetry.NewMetrics()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /tools/{name}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	h := m.InstrumentHTTP("mcp", mux)
	for _, path := range []string{"/tools/hr.get_employee", "/tools/erp.get_invoice", "/nowhere/1", "/nowhere/2"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil))
	}
	got := scrape(t, m)
	t.Run("OK counted by route pattern, not by path", func(t *testing.T) {
		require.Contains(t, got, `mcp_http_requests_total{method="GET",route="/tools/{name}",server="mcp",status="418"} 2`)
		require.Contains(t, got, `mcp_http_request_duration_seconds_count{method="GET",route="/tools/{name}",server="mcp"} 2`)
		require.NotContains(t, got, "hr.get_employee")
	})
	t.Run("OK paths no route matched share one series", func(t *testing.T) {
		require.Contains(t, got, `mcp_http_requests_total{method="GET",route="unmatched",server="mcp",status="404"} 2`)
	})
}

func TestObserve(t *testing.T) {
	m := telemetry.NewMetrics()
	m.ObserveToolCall("hr", "hr.get_employee", "succeeded", 30*time.Millisecond)
	m.ObserveApprovalDecision("approved", 90*time.Second)
	got := scrape(t, m)
	require.Contains(t, got, `mcp_tool_calls_total{domain="hr",outcome="succeeded",tool="hr.get_employee"} 1`)
	require.Contains(t, got, `mcp_tool_call_duration_seconds_bucket{domain="hr",outcome="succeeded",tool="hr.get_employee",le="0.05"} 1`)
	require.Contains(t, got, `mcp_approval_decision_seconds_bucket{decision="approved",le="300"} 1`)
	require.Contains(t, got, `mcp_approval_decision_seconds_bucket{decision="approved",le="60"} 0`)

	t.Run("OK a nil Metrics records nothing and does not panic", func(t *testing.T) {
		var none *telemetry.Metrics
		none.ObserveToolCall("hr", "hr.get_employee", "failed", time.Second)
		none.ObserveLLM(telemetry.LLMCall{Provider: "mock"})
		h, err := none.TemporalHandler()
		require.NoError(t, err)
		require.Nil(t, h)
	})
}

func TestTemporalHandler(t *testing.T) {
	m := telemetry.NewMetrics()
	h, err := m.TemporalHandler()
	require.NoError(t, err)
	h.WithTags(map[string]string{"task_queue": "orchestrator"}).Counter("temporal_request").Inc(3)
	h.Timer("temporal_activity_execution_latency").Record(250 * time.Millisecond)
	got := scrape(t, m)
	require.Contains(t, got, `temporal_request_total{task_queue="orchestrator"} 3`)
	require.Contains(t, got, `temporal_activity_execution_latency_seconds_count 1`)
}
