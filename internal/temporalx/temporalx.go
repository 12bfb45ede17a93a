// Package temporalx holds the platform's Temporal conventions shared by every role: the client
// connection with its payload codec (every payload Temporal stores is encrypted), the search
// attributes that make turns findable in the Temporal UI, and their registration on a
// namespace.
package temporalx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"

	"mcp-platform/internal/logging"
	"mcp-platform/internal/telemetry"
)

// Search attributes of the platform's workflows (DESIGN section 8).
var (
	ConversationID = temporal.NewSearchAttributeKeyKeyword("ConversationId")
	UserID         = temporal.NewSearchAttributeKeyKeyword("UserId")
	Domains        = temporal.NewSearchAttributeKeyKeywordList("Domains")
	Tools          = temporal.NewSearchAttributeKeyKeywordList("Tools")
	TurnStatus     = temporal.NewSearchAttributeKeyKeyword("TurnStatus")
)

// SearchAttributes maps each platform search attribute to its type, for registration.
func SearchAttributes() map[string]enumspb.IndexedValueType {
	return map[string]enumspb.IndexedValueType{
		ConversationID.GetName(): enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		UserID.GetName():         enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		Domains.GetName():        enumspb.INDEXED_VALUE_TYPE_KEYWORD_LIST,
		Tools.GetName():          enumspb.INDEXED_VALUE_TYPE_KEYWORD_LIST,
		TurnStatus.GetName():     enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	}
}

// ErrUnreachable means no Temporal frontend answered at the configured address.
var ErrUnreachable = errors.New("temporal unreachable")

// ClientOptions are the options of every client the platform makes: codec encrypts what the
// client sends and decrypts what it reads, the tracing interceptor carries the caller's trace
// into workflows and activities (workers made from the client inherit all three), and
// Temporal's own logs go to logger at warn level and above. A frontend on the loopback
// interface (the dev stack's embedded server) is talked to without gzip: compressing for a
// local socket only burns CPU, and encrypted payloads do not compress anyway.
func ClientOptions(address, namespace string, codec *Codec, logger *slog.Logger) client.Options {
	opts := client.Options{
		HostPort:         address,
		Namespace:        namespace,
		Logger:           SDKLogger(logger),
		DataConverter:    codec.DataConverter(),
		FailureConverter: codec.FailureConverter(),
		Interceptors:     Interceptors(),
	}
	if isLoopback(address) {
		opts.ConnectionOptions.GrpcCompression = &client.GrpcCompressionNone{}
	}
	return opts
}

// isLoopback reports whether host:port names this machine's loopback interface.
func isLoopback(address string) bool {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// tracing is the process's one Temporal tracing interceptor. It starts spans on the global
// tracer provider (telemetry.StartTracing), so it costs next to nothing while tracing is off.
var tracing = sync.OnceValues(func() (interceptor.Interceptor, error) {
	return temporalotel.NewTracingInterceptor(temporalotel.TracerOptions{TextMapPropagator: telemetry.Propagator()})
})

// Interceptors are the client (and so worker) interceptors of every client: OpenTelemetry
// tracing of workflow starts, updates, workflows and activities, with the trace carried in
// Temporal headers.
func Interceptors() []interceptor.ClientInterceptor {
	t, err := tracing()
	if err != nil {
		// NewTracingInterceptor fails only on invalid options, which are fixed here.
		panic(fmt.Sprintf("temporal tracing interceptor: %v", err))
	}
	return []interceptor.ClientInterceptor{t}
}

// Dial connects to the Temporal frontend at address with ClientOptions and the SDK's metrics
// going to metrics (nil: none), retrying until wait has passed so that roles may start in any
// order.
func Dial(ctx context.Context, address, namespace string, codec *Codec, logger *slog.Logger, wait time.Duration, metrics client.MetricsHandler) (client.Client, error) {
	if codec == nil {
		return nil, errors.New("dial Temporal: no payload codec: payloads would be stored in clear")
	}
	opts := ClientOptions(address, namespace, codec, logger)
	opts.MetricsHandler = metrics
	deadline := time.Now().Add(wait)
	for {
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		c, err := client.DialContext(dctx, opts)
		cancel()
		if err == nil {
			return c, nil
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			return nil, fmt.Errorf("%w: no Temporal server answered at %s (namespace %s); start one or set TEMPORAL_ADDRESS: %v",
				ErrUnreachable, address, namespace, err)
		}
		logger.Info("waiting for Temporal", "address", address)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// SDKLogger is logger as the Temporal SDK's logger, at warn and above: the SDK's own info
// lines (pollers starting, workers stopping) would drown the platform's.
func SDKLogger(logger *slog.Logger) tlog.Logger {
	return tlog.NewStructuredLogger(slog.New(logging.AtLeast(logger.Handler(), slog.LevelWarn)))
}

// ErrSearchAttributeType means a search attribute exists on the namespace with another type;
// it cannot be fixed by registering it again.
var ErrSearchAttributeType = errors.New("search attribute registered with another type")

// MissingSearchAttributes returns the attributes of want that the namespace lacks. An attribute
// registered with a different type is an error wrapping ErrSearchAttributeType.
func MissingSearchAttributes(ctx context.Context, c client.Client, namespace string, want map[string]enumspb.IndexedValueType) (map[string]enumspb.IndexedValueType, error) {
	have, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return nil, fmt.Errorf("list search attributes: %w", err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for name, typ := range want {
		got, ok := have.GetCustomAttributes()[name]
		switch {
		case !ok:
			missing[name] = typ
		case got != typ:
			return nil, fmt.Errorf("%w: %s is %s, want %s", ErrSearchAttributeType, name, got, typ)
		}
	}
	return missing, nil
}

// EnsureSearchAttributes registers the attributes of want that the namespace lacks. It is
// idempotent and safe to call from every worker at start.
func EnsureSearchAttributes(ctx context.Context, c client.Client, namespace string, want map[string]enumspb.IndexedValueType) error {
	missing, err := MissingSearchAttributes(ctx, c, namespace, want)
	if err != nil || len(missing) == 0 {
		return err
	}
	_, err = c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace:        namespace,
		SearchAttributes: missing,
	})
	if err != nil {
		return fmt.Errorf("add search attributes: %w", err)
	}
	return nil
}

// CheckHealth probes the frontend, for /health.
func CheckHealth(c client.Client) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		_, err := c.CheckHealth(ctx, &client.CheckHealthRequest{})
		return err
	}
}
