// Package telemetry holds the platform's OpenTelemetry tracing and Prometheus metrics: the
// tracer provider of a role (OTLP export when OTEL_EXPORTER_OTLP_ENDPOINT is set, a no-op
// otherwise), the W3C trace-context propagator, and the Prometheus series every role exposes on
// its metrics address.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"
	"go.opentelemetry.io/otel/trace"
)

// TracerName is the instrumentation name of the platform's own spans.
const TracerName = "mcp-platform"

// Propagator is the W3C trace-context and baggage propagator: what callers send in
// `traceparent` is accepted, and what the platform sends upstream carries it on.
func Propagator() propagation.TextMapPropagator {
	return propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
}

// Tracer is the platform's tracer, from the global provider that StartTracing sets (a no-op
// until then).
func Tracer() trace.Tracer { return otel.Tracer(TracerName) }

// Endpoint environment variables of the OTLP exporter (the OpenTelemetry specification's).
const (
	EnvEndpoint       = "OTEL_EXPORTER_OTLP_ENDPOINT"
	EnvTracesEndpoint = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
	EnvProtocol       = "OTEL_EXPORTER_OTLP_PROTOCOL"
	EnvTracesProtocol = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
	EnvServiceName    = "OTEL_SERVICE_NAME"
)

// StartTracing sets the process's propagator and, when OTEL_EXPORTER_OTLP_ENDPOINT (or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set, a tracer provider exporting to it over OTLP
// (protocol http/protobuf, or grpc when OTEL_EXPORTER_OTLP_PROTOCOL says so) as service (the
// role, unless OTEL_SERVICE_NAME names another). Without an endpoint, the tracer stays the
// global no-op one: spans cost nothing, yet a caller's traceparent still reaches the upstreams
// and the logs. The exporter reads the other OTEL_EXPORTER_OTLP_* variables (headers, TLS,
// timeout) itself. Call the returned function at exit to flush what is buffered.
func StartTracing(ctx context.Context, service string, getenv func(string) string) (shutdown func(context.Context) error, err error) {
	otel.SetTextMapPropagator(Propagator())
	if getenv(EnvEndpoint) == "" && getenv(EnvTracesEndpoint) == "" {
		return func(context.Context) error { return nil }, nil
	}
	protocol := getenv(EnvTracesProtocol)
	if protocol == "" {
		protocol = getenv(EnvProtocol)
	}
	var exp *otlptrace.Exporter
	switch strings.TrimSpace(protocol) {
	case "", "http/protobuf":
		exp, err = otlptracehttp.New(ctx)
	case "grpc":
		exp, err = otlptracegrpc.New(ctx)
	default:
		return nil, fmt.Errorf("%s=%q: use http/protobuf or grpc", EnvProtocol, protocol)
	}
	if err != nil {
		return nil, fmt.Errorf("OTLP trace exporter (%s): %w", EnvEndpoint, err)
	}
	if name := getenv(EnvServiceName); name != "" {
		service = name
	}
	res, err := resource.Merge(resource.Default(), resource.NewWithAttributes(semconv.SchemaURL, semconv.ServiceName(service)))
	if err != nil && !errors.Is(err, resource.ErrSchemaURLConflict) {
		return nil, fmt.Errorf("trace resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	otel.SetTracerProvider(tp)
	return tp.Shutdown, nil
}

// TraceID is the trace ID of ctx's span in hex, or "" when ctx carries no valid span context.
func TraceID(ctx context.Context) string {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.HasTraceID() {
		return ""
	}
	return sc.TraceID().String()
}

// MetaCarrier carries trace context in an MCP request's _meta, under the keys traceparent,
// tracestate and baggage, as MCP's trace-context convention (SEP-414) names them.
type MetaCarrier map[string]any

// Get returns the string value of key, or "".
func (c MetaCarrier) Get(key string) string {
	v, _ := c[key].(string)
	return v
}

// Set stores value under key.
func (c MetaCarrier) Set(key, value string) { c[key] = value }

// Keys lists the keys present.
func (c MetaCarrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	return keys
}
