package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"mcp-platform/domains/domainconfig"
	"mcp-platform/domains/httpkind"
	"mcp-platform/internal/audit"
	"mcp-platform/internal/testutil/fakeopenai"
	"mcp-platform/platform"
	"mcp-platform/platform/platformtest"
)

// recorder is the in-memory span exporter of this test process: the global tracer provider,
// which every role's spans start on, records into it.
var recorder = sync.OnceValue(func() *tracetest.SpanRecorder {
	r := tracetest.NewSpanRecorder()
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(r)))
	return r
})

// billingDomain is the billing REST service onboarded as an http-kind domain, so a tool call
// has an upstream HTTP call.
func billingDomain(t *testing.T) platformtest.Domain {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "billing.yaml"), []byte(fmt.Sprintf(billingYAML, billingServer(t).URL)), 0o600))
	cfg, err := domainconfig.Load(dir, "billing")
	require.NoError(t, err)
	return platformtest.Domain{Config: cfg, Factory: httpkind.New}
}

// TestTelemetry runs one chat turn with one tool call whose caller sends a W3C traceparent,
// and follows it: one trace from the HTTP request through the workflow, the LLM activity and
// its LLM call, the tool activity and the upstream HTTP call, whose ID is in the audit row and
// the tool events; an MCP client's trace in _meta reaches the audit row and the worker's log
// lines; then every role's series are on /metrics.
func TestTelemetry(t *testing.T) {
	spans := recorder()
	fake := fakeopenai.New(t,
		fakeopenai.Reply{ToolCalls: []fakeopenai.ToolCall{{Name: "billing__get_account", Arguments: `{"account_id": "A-7"}`}}},
		fakeopenai.Reply{Text: "Account A-7 holds 1234.50 EUR."},
	)
	s := platformtest.Start(t, platformtest.Options{LLM: compatible(t, fake), Extra: []platformtest.Domain{billingDomain(t)}})
	agent := s.Token(t, "ann", "agent")

	const callerTrace = "5b8efff798038103d269b633813fc60c"
	b, err := json.Marshal(map[string]any{"message": "balance of account A-7?", "wait": true, "timeout_seconds": 120})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, s.API.URL+"/chat", bytes.NewReader(b))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+agent)
	req.Header.Set("traceparent", "00-"+callerTrace+"-eee19b7ec3c1b174-01")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	var body map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Equal(t, "completed", body["status"], body)

	t.Run("OK one trace: request, workflow, LLM activity and call, tool activity, upstream call, in parent order", func(t *testing.T) {
		byName := map[string]sdktrace.ReadOnlySpan{}
		find := func(name string, match func(sdktrace.ReadOnlySpan) bool) sdktrace.ReadOnlySpan {
			for _, sp := range spans.Ended() {
				if sp.SpanContext().TraceID().String() == callerTrace && match(sp) {
					return sp
				}
			}
			return nil
		}
		named := func(n string) func(sdktrace.ReadOnlySpan) bool {
			return func(sp sdktrace.ReadOnlySpan) bool { return sp.Name() == n }
		}
		upstream := func(sp sdktrace.ReadOnlySpan) bool {
			if sp.SpanKind() != trace.SpanKindClient {
				return false
			}
			for _, a := range sp.Attributes() {
				if a.Key == "url.full" && strings.Contains(a.Value.AsString(), "/accounts/A-7") {
					return true
				}
			}
			return false
		}
		want := map[string]func(sdktrace.ReadOnlySpan) bool{
			"request":       named("POST /chat"),
			"workflow":      named("RunWorkflow:ChatTurn"),
			"llm activity":  named("RunActivity:Complete"),
			"llm call":      named("chat fake-model"),
			"tool activity": named("RunActivity:ExecuteTool"),
			"upstream":      upstream,
		}
		require.Eventually(t, func() bool {
			for k, m := range want {
				if sp := find(k, m); sp != nil {
					byName[k] = sp
				}
			}
			return len(byName) == len(want)
		}, 30*time.Second, 100*time.Millisecond, "spans of the trace: %v", names(spans.Ended(), callerTrace))

		require.Equal(t, "eee19b7ec3c1b174", byName["request"].Parent().SpanID().String(), "the request continues the caller's trace")
		ended := spans.Ended()
		for _, pair := range [][2]string{{"request", "workflow"}, {"workflow", "llm activity"}, {"llm activity", "llm call"},
			{"workflow", "tool activity"}, {"tool activity", "upstream"}} {
			require.True(t, descends(ended, byName[pair[1]], byName[pair[0]]), "%s is under %s", pair[1], pair[0])
		}
	})

	t.Run("OK the audit row, the tool events carry the trace ID", func(t *testing.T) {
		page, err := s.Services.Audit.Query(context.Background(), audit.Filter{Tool: "billing.get_account"})
		require.NoError(t, err)
		require.Len(t, page.Records, 1)
		require.Equal(t, audit.OutcomeSucceeded, page.Records[0].Outcome)
		require.Equal(t, callerTrace, page.Records[0].TraceID)

		require.Equal(t, 2, countRows(t, s, `SELECT count(*) FROM events WHERE type IN ('tool_started', 'tool_finished') AND data->>'trace_id' = '`+callerTrace+`'`))
	})

	t.Run("OK an MCP client's trace context in _meta is continued to the audit row", func(t *testing.T) {
		const mcpTrace = "0af7651916cd43dd8448eb211c80319c"
		cs := platformtest.MCPSession(t, s.MCP.URL+"/mcp", agent)
		res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "billing__get_account", Arguments: map[string]any{"account_id": "A-7"},
			Meta: mcp.Meta{"traceparent": "00-" + mcpTrace + "-b7ad6b7169203331-01"}})
		require.NoError(t, err)
		require.False(t, res.IsError, res.Content)
		page, err := s.Services.Audit.Query(context.Background(), audit.Filter{TraceID: mcpTrace})
		require.NoError(t, err)
		require.Len(t, page.Records, 1)
		require.Equal(t, "billing.get_account", page.Records[0].Tool)

		// A call that finds nothing is logged on the domain worker, with the caller's trace.
		res, err = cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "billing__get_account", Arguments: map[string]any{"account_id": "A-9"},
			Meta: mcp.Meta{"traceparent": "00-" + mcpTrace + "-b7ad6b7169203331-01"}})
		require.NoError(t, err)
		require.True(t, res.IsError)
		require.Eventually(t, func() bool {
			for _, l := range strings.Split(s.Logs.String(), "\n") {
				if strings.Contains(l, "tool call ended without a result") && strings.Contains(l, "trace_id="+mcpTrace) {
					return true
				}
			}
			return false
		}, 10*time.Second, 100*time.Millisecond, s.Logs.String())
	})

	t.Run("OK /metrics has the series of every role", func(t *testing.T) {
		code, _, _ := platformtest.Do(t, s.MCP.URL, http.MethodGet, "/tools", agent, nil)
		require.Equal(t, http.StatusOK, code)
		metrics := httptest.NewServer(platform.MetricsHandler(s.Env))
		t.Cleanup(metrics.Close)
		var got string
		for _, series := range []string{
			// the gateway API and the MCP server
			`mcp_http_requests_total{method="POST",route="/chat",server="gateway",status="200"} 1`,
			`mcp_http_requests_total{method="GET",route="/tools",server="mcp",status="200"} 1`,
			`mcp_http_request_duration_seconds_count{method="POST",route="/chat",server="gateway"} 1`,
			`mcp_approvals_pending 0`,
			// the domain worker
			`mcp_tool_calls_total{domain="billing",outcome="succeeded",tool="billing.get_account"} 2`,
			`mcp_tool_call_duration_seconds_count{domain="billing",outcome="succeeded",tool="billing.get_account"} 2`,
			// the orchestrator
			`mcp_llm_requests_total{model="fake-model",outcome="ok",provider="openai_compatible"} 2`,
			`mcp_llm_tokens_total{model="fake-model",provider="openai_compatible",type="prompt"}`,
			`mcp_llm_request_duration_seconds_count{model="fake-model",provider="openai_compatible"} 2`,
			// the Temporal SDK of clients and workers
			`temporal_request_total{`,
			`temporal_activity_execution_latency_seconds_count{activity_type="ExecuteTool"`,
			`temporal_workflow_completed_total{`,
		} {
			require.Eventually(t, func() bool {
				got = scrape(t, metrics.URL+"/metrics")
				return strings.Contains(got, series)
			}, 10*time.Second, 200*time.Millisecond, "missing %s in\n%s", series, filter(got, "mcp_", "temporal_"))
		}
	})
}

// descends reports whether sp has ancestor among its parents in spans.
func descends(spans []sdktrace.ReadOnlySpan, sp, ancestor sdktrace.ReadOnlySpan) bool {
	byID := map[trace.SpanID]sdktrace.ReadOnlySpan{}
	for _, s := range spans {
		byID[s.SpanContext().SpanID()] = s
	}
	for cur := sp; cur != nil; cur = byID[cur.Parent().SpanID()] {
		if cur.Parent().SpanID() == ancestor.SpanContext().SpanID() {
			return true
		}
		if !cur.Parent().IsValid() {
			return false
		}
	}
	return false
}

func names(spans []sdktrace.ReadOnlySpan, traceID string) []string {
	var out []string
	for _, s := range spans {
		if s.SpanContext().TraceID().String() == traceID {
			out = append(out, s.Name())
		}
	}
	return out
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

// filter keeps the lines of text that start with one of the prefixes, for failure messages.
func filter(text string, prefixes ...string) string {
	var keep []string
	for _, l := range strings.Split(text, "\n") {
		for _, p := range prefixes {
			if strings.HasPrefix(l, p) {
				keep = append(keep, l)
				break
			}
		}
	}
	return strings.Join(keep, "\n")
}
