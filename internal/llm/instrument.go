package llm

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"mcp-platform/internal/telemetry"
)

// Describer is a Provider that names its provider and model, for spans and metrics.
type Describer interface {
	// Describe returns the provider's name (one of the Provider constants) and its model.
	Describe() (provider, model string)
}

// Instrument wraps p so that every completion is a span ("chat <model>", with the provider,
// model, finish reason and token counts as OpenTelemetry's gen_ai attributes) and is counted in
// m (requests, tokens, errors and latency by provider and model). A provider that is not a
// Describer is named "unknown". The wrapper is itself a Describer.
func Instrument(p Provider, m *telemetry.Metrics) Provider {
	name, model := "unknown", "unknown"
	if d, ok := p.(Describer); ok {
		name, model = d.Describe()
	}
	return &instrumented{next: p, metrics: m, provider: name, model: model}
}

type instrumented struct {
	next            Provider
	metrics         *telemetry.Metrics
	provider, model string
}

func (i *instrumented) Describe() (string, string) { return i.provider, i.model }

// Complete calls the wrapped provider inside a client span.
func (i *instrumented) Complete(ctx context.Context, req Request, onDelta func(string)) (Response, error) {
	ctx, span := telemetry.Tracer().Start(ctx, "chat "+i.model, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		attribute.String("gen_ai.operation.name", "chat"),
		attribute.String("gen_ai.provider.name", i.provider),
		attribute.String("gen_ai.request.model", i.model),
		attribute.Int("gen_ai.request.messages", len(req.Messages)),
		attribute.Int("gen_ai.request.tools", len(req.Tools)),
	))
	defer span.End()
	start := time.Now()
	resp, err := i.next.Complete(ctx, req, onDelta)
	call := telemetry.LLMCall{Provider: i.provider, Model: i.model, Took: time.Since(start),
		PromptTokens: resp.Usage.PromptTokens, CompletionTokens: resp.Usage.CompletionTokens}
	span.SetAttributes(attribute.Int("gen_ai.usage.input_tokens", resp.Usage.PromptTokens),
		attribute.Int("gen_ai.usage.output_tokens", resp.Usage.CompletionTokens))
	if err != nil {
		call.ErrorKind = "unknown"
		var le *Error
		if errors.As(err, &le) {
			call.ErrorKind = string(le.Kind)
		}
		span.SetAttributes(attribute.String("error.type", call.ErrorKind))
		span.SetStatus(codes.Error, call.ErrorKind)
	} else {
		span.SetAttributes(attribute.StringSlice("gen_ai.response.finish_reasons", []string{resp.FinishReason}),
			attribute.Int("gen_ai.response.tool_calls", len(resp.ToolCalls)))
	}
	i.metrics.ObserveLLM(call)
	return resp, err
}
