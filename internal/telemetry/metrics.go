package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/felixge/httpsnoop"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
)

// Metrics are the Prometheus series of one process. Every method is safe on a nil *Metrics,
// which records nothing, so that packages under test need none.
type Metrics struct {
	registry *prometheus.Registry

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	toolCalls    *prometheus.CounterVec
	toolDuration *prometheus.HistogramVec
	decisions    *prometheus.HistogramVec
	llmRequests  *prometheus.CounterVec
	llmTokens    *prometheus.CounterVec
	llmErrors    *prometheus.CounterVec
	llmDuration  *prometheus.HistogramVec
}

// Latency buckets in seconds: tool calls and HTTP requests (milliseconds to a minute), LLM
// calls (up to two minutes) and approval decisions (seconds to a day).
var (
	requestBuckets  = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}
	llmBuckets      = []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 20, 40, 80, 120}
	decisionBuckets = []float64{1, 5, 15, 30, 60, 300, 900, 1800, 3600, 4 * 3600, 12 * 3600, 24 * 3600}
)

// NewMetrics creates the process's registry with the Go runtime and process collectors and the
// platform's series.
func NewMetrics() *Metrics {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	f := func(c prometheus.Collector) { r.MustRegister(c) }
	m := &Metrics{registry: r}
	m.httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mcp_http_requests_total",
		Help: "HTTP requests served, by server, route pattern, method and status code."}, []string{"server", "route", "method", "status"})
	m.httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "mcp_http_request_duration_seconds",
		Help: "Time to serve an HTTP request, by server, route pattern and method.", Buckets: requestBuckets}, []string{"server", "route", "method"})
	m.toolCalls = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mcp_tool_calls_total",
		Help: "Tool call attempts, by domain, tool and outcome (succeeded, denied, invalid, failed, rejected, expired)."}, []string{"domain", "tool", "outcome"})
	m.toolDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "mcp_tool_call_duration_seconds",
		Help: "Time a tool call took, by domain, tool and outcome.", Buckets: requestBuckets}, []string{"domain", "tool", "outcome"})
	m.decisions = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "mcp_approval_decision_seconds",
		Help: "Time from an approval request to its decision, by decision (approved, rejected, expired).", Buckets: decisionBuckets}, []string{"decision"})
	m.llmRequests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mcp_llm_requests_total",
		Help: "LLM completions asked for, by provider, model and outcome (ok, error)."}, []string{"provider", "model", "outcome"})
	m.llmTokens = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mcp_llm_tokens_total",
		Help: "LLM tokens the provider reported, by provider, model and type (prompt, completion)."}, []string{"provider", "model", "type"})
	m.llmErrors = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mcp_llm_errors_total",
		Help: "Failed LLM completions, by provider, model and kind (retryable, auth, bad_request)."}, []string{"provider", "model", "kind"})
	m.llmDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "mcp_llm_request_duration_seconds",
		Help: "Time an LLM completion took, streaming included, by provider and model.", Buckets: llmBuckets}, []string{"provider", "model"})
	for _, c := range []prometheus.Collector{m.httpRequests, m.httpDuration, m.toolCalls, m.toolDuration, m.decisions,
		m.llmRequests, m.llmTokens, m.llmErrors, m.llmDuration} {
		f(c)
	}
	return m
}

// Registerer is where further collectors of the process register (nil on a nil *Metrics).
func (m *Metrics) Registerer() prometheus.Registerer {
	if m == nil {
		return nil
	}
	return m.registry
}

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// TemporalHandler is the Temporal SDK's metrics handler for clients and workers of this
// process: the SDK's series (temporal_request_total, temporal_workflow_task_execution_latency_seconds,
// temporal_activity_execution_latency_seconds, ...) through OpenTelemetry into the registry.
// It is nil on a nil *Metrics, which the SDK reads as no metrics.
func (m *Metrics) TemporalHandler() (client.MetricsHandler, error) {
	if m == nil {
		return nil, nil
	}
	exp, err := otelprom.New(otelprom.WithRegisterer(m.registry), otelprom.WithoutScopeInfo(), otelprom.WithoutTargetInfo())
	if err != nil {
		return nil, fmt.Errorf("temporal metrics exporter: %w", err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp))
	return temporalotel.NewMetricsHandler(temporalotel.MetricsHandlerOptions{
		Meter:                mp.Meter("temporal-sdk-go"),
		UseMonotonicCounters: true,
		OnError:              func(error) {}, // a series the exporter refuses is dropped, not a panic
	}), nil
}

// InstrumentHTTP wraps a server's handler (a *http.ServeMux, or a handler that passes the
// request on unchanged to one) so that every request is counted by route pattern (the mux's
// pattern such as /tools/{name}, "unmatched" when none matched, so paths cannot explode the
// series), method and status, and timed.
func (m *Metrics) InstrumentHTTP(server string, next http.Handler) http.Handler {
	if m == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res := httpsnoop.CaptureMetrics(next, w, r)
		route := Route(r)
		m.httpRequests.WithLabelValues(server, route, r.Method, strconv.Itoa(res.Code)).Inc()
		m.httpDuration.WithLabelValues(server, route, r.Method).Observe(res.Duration.Seconds())
	})
}

const unmatched = "unmatched"

// Route is the route pattern the mux matched for r, without its method: "/tools/{name}", or
// "unmatched".
func Route(r *http.Request) string {
	p := r.Pattern
	if i := strings.IndexByte(p, ' '); i >= 0 {
		p = p[i+1:]
	}
	if p == "" {
		return unmatched
	}
	return p
}

// ObserveToolCall counts a finished tool call attempt and its duration.
func (m *Metrics) ObserveToolCall(domain, tool, outcome string, took time.Duration) {
	if m == nil {
		return
	}
	m.toolCalls.WithLabelValues(domain, tool, outcome).Inc()
	m.toolDuration.WithLabelValues(domain, tool, outcome).Observe(took.Seconds())
}

// ObserveApprovalDecision records how long an approval waited for its decision.
func (m *Metrics) ObserveApprovalDecision(decision string, waited time.Duration) {
	if m == nil {
		return
	}
	m.decisions.WithLabelValues(decision).Observe(waited.Seconds())
}

// LLMCall is one LLM completion as the metrics count it.
type LLMCall struct {
	Provider, Model string
	// PromptTokens and CompletionTokens are what the provider reported (0 when it did not).
	PromptTokens, CompletionTokens int
	// ErrorKind is the failure's kind; "" for a completion that succeeded.
	ErrorKind string
	Took      time.Duration
}

// ObserveLLM counts one LLM completion, its tokens and its failure.
func (m *Metrics) ObserveLLM(c LLMCall) {
	if m == nil {
		return
	}
	outcome := "ok"
	if c.ErrorKind != "" {
		outcome = "error"
		m.llmErrors.WithLabelValues(c.Provider, c.Model, c.ErrorKind).Inc()
	}
	m.llmRequests.WithLabelValues(c.Provider, c.Model, outcome).Inc()
	m.llmTokens.WithLabelValues(c.Provider, c.Model, "prompt").Add(float64(c.PromptTokens))
	m.llmTokens.WithLabelValues(c.Provider, c.Model, "completion").Add(float64(c.CompletionTokens))
	m.llmDuration.WithLabelValues(c.Provider, c.Model).Observe(c.Took.Seconds())
}

// GaugeFunc registers a gauge whose value is read at each scrape, such as the approvals
// pending in the database; a read that fails is logged and reported as no sample. Registering
// the same name again keeps the first.
func (m *Metrics) GaugeFunc(name, help string, logger *slog.Logger, read func(context.Context) (float64, error)) {
	if m == nil {
		return
	}
	err := m.registry.Register(&gaugeFunc{desc: prometheus.NewDesc(name, help, nil, nil), read: read, logger: logger})
	if are := (prometheus.AlreadyRegisteredError{}); err != nil && !errors.As(err, &are) {
		panic(fmt.Sprintf("metrics: register %s: %v", name, err)) // a malformed name is a bug here
	}
}

type gaugeFunc struct {
	desc   *prometheus.Desc
	read   func(context.Context) (float64, error)
	logger *slog.Logger
}

func (g *gaugeFunc) Describe(ch chan<- *prometheus.Desc) { ch <- g.desc }

func (g *gaugeFunc) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	v, err := g.read(ctx)
	if err != nil {
		g.logger.Warn("metrics: gauge read failed", "metric", g.desc.String(), "error", err)
		return
	}
	ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, v)
}

// SpanName names a server span after its route once the mux has matched one ("POST /chat"),
// and after its method alone before (otelhttp names the span at start and again at the end).
func SpanName(_ string, r *http.Request) string {
	if r.Pattern == "" {
		return r.Method
	}
	return r.Method + " " + Route(r)
}
