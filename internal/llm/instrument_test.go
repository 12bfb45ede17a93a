package llm_test

import (
	"context"
	"io"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"mcp-platform/internal/llm"
	"mcp-platform/internal/telemetry"
)

// scripted answers with a fixed response or error and names itself.
type scripted struct {
	resp llm.Response
	err  error
}

func (s scripted) Complete(context.Context, llm.Request, func(string)) (llm.Response, error) {
	return s.resp, s.err
}
func (scripted) Describe() (string, string) { return llm.ProviderOpenAI, "gpt-test" }

func scrape(t *testing.T, m *telemetry.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, err := io.ReadAll(rec.Body)
	require.NoError(t, err)
	return string(b)
}

func TestInstrument(t *testing.T) {
	spans := tracetest.NewSpanRecorder()
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans)))
	m := telemetry.NewMetrics()

	ok := llm.Instrument(scripted{resp: llm.Response{Content: "hi", FinishReason: "stop", Usage: llm.Usage{PromptTokens: 120, CompletionTokens: 7}}}, m)
	_, err := ok.Complete(context.Background(), llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hello"}}}, nil)
	require.NoError(t, err)
	failing := llm.Instrument(scripted{err: &llm.Error{Kind: llm.KindRetryable, Message: "rate limited"}}, m)
	_, err = failing.Complete(context.Background(), llm.Request{}, nil)
	require.Error(t, err)

	t.Run("OK a span per completion with provider, model and tokens", func(t *testing.T) {
		ended := spans.Ended()
		require.Len(t, ended, 2)
		require.Equal(t, "chat gpt-test", ended[0].Name())
		attrs := map[string]any{}
		for _, a := range ended[0].Attributes() {
			attrs[string(a.Key)] = a.Value.AsInterface()
		}
		require.Equal(t, "openai", attrs["gen_ai.provider.name"])
		require.Equal(t, "gpt-test", attrs["gen_ai.request.model"])
		require.EqualValues(t, 120, attrs["gen_ai.usage.input_tokens"])
		require.EqualValues(t, 7, attrs["gen_ai.usage.output_tokens"])
		require.Equal(t, "Error", ended[1].Status().Code.String())
	})
	t.Run("OK requests, tokens and errors by provider and model", func(t *testing.T) {
		got := scrape(t, m)
		require.Contains(t, got, `mcp_llm_requests_total{model="gpt-test",outcome="ok",provider="openai"} 1`)
		require.Contains(t, got, `mcp_llm_requests_total{model="gpt-test",outcome="error",provider="openai"} 1`)
		require.Contains(t, got, `mcp_llm_tokens_total{model="gpt-test",provider="openai",type="prompt"} 120`)
		require.Contains(t, got, `mcp_llm_tokens_total{model="gpt-test",provider="openai",type="completion"} 7`)
		require.Contains(t, got, `mcp_llm_errors_total{kind="retryable",model="gpt-test",provider="openai"} 1`)
		require.Contains(t, got, `mcp_llm_request_duration_seconds_count{model="gpt-test",provider="openai"} 2`)
	})
}
