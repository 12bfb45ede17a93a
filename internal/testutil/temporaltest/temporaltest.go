// Package temporaltest shares one embedded Temporal server between all tests
// of a test binary.
package temporaltest

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"mcp-platform/internal/config"
	"mcp-platform/internal/devserver/temporalserver"
	"mcp-platform/internal/temporalx"
)

// CodecKeyID and CodecKeys are the fixed payload codec key of tests, in the form of
// TEMPORAL_CODEC_KEYS (config.Temporal.CodecKeys). They are public: never use them elsewhere.
const (
	CodecKeyID = "test-1"
	CodecKeys  = CodecKeyID + ":dGVzdC1vbmx5LWtleS1tY3AtcGxhdGZvcm0tY29kZWM="
)

// Codec returns the payload codec of CodecKeys.
func Codec(tb testing.TB) *temporalx.Codec {
	tb.Helper()
	keys, err := config.ParseCodecKeys(CodecKeys, "temporaltest.CodecKeys")
	if err != nil {
		tb.Fatalf("temporaltest: %v", err)
	}
	c, err := temporalx.NewCodec(keys)
	if err != nil {
		tb.Fatalf("temporaltest: %v", err)
	}
	return c
}

// SearchAttributes are the platform's custom search attributes, registered on the shared
// server's namespace.
var SearchAttributes = temporalx.SearchAttributes()

// startTimeout bounds the first start; a cold server takes a few seconds.
const startTimeout = 2 * time.Minute

// logger writes warnings and errors to stderr. It does not use testing.TB
// because the server outlives the test that started it.
var logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

var shared = sync.OnceValues(func() (*temporalserver.Server, error) {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	return temporalserver.Start(ctx, temporalserver.Options{
		SearchAttributes: SearchAttributes,
		Logger:           logger,
	})
})

// Server returns the process-wide embedded Temporal server, starting it on
// first use (in-memory SQLite, free port, no UI, namespace "default", the
// platform's SearchAttributes). The server is never stopped; it ends with the
// test binary. If starting failed, every caller fails.
func Server(tb testing.TB) *temporalserver.Server {
	tb.Helper()
	s, err := shared()
	if err != nil {
		tb.Fatalf("temporaltest: starting embedded Temporal server: %v", err)
	}
	return s
}

// Client returns a new SDK client connected to the shared server's namespace, with the
// platform's client options and the test Codec, as every role has. It is closed in tb.Cleanup.
func Client(tb testing.TB) client.Client {
	tb.Helper()
	s := Server(tb)
	c, err := client.Dial(temporalx.ClientOptions(s.Address(), s.Namespace(), Codec(tb), logger))
	if err != nil {
		tb.Fatalf("temporaltest: dialing %s: %v", s.Address(), err)
	}
	tb.Cleanup(c.Close)
	return c
}

// RawClient returns a client of the shared server without the payload codec: it sees payloads
// as Temporal stores them, for tests that check nothing is stored in clear. It is closed in
// tb.Cleanup.
func RawClient(tb testing.TB) client.Client {
	tb.Helper()
	s := Server(tb)
	c, err := client.Dial(client.Options{HostPort: s.Address(), Namespace: s.Namespace(), Logger: sdklog.NewStructuredLogger(logger)})
	if err != nil {
		tb.Fatalf("temporaltest: dialing %s: %v", s.Address(), err)
	}
	tb.Cleanup(c.Close)
	return c
}

// History returns every event of the latest run of workflowID as c reads it (RawClient: as
// Temporal stores it).
func History(tb testing.TB, c client.Client, workflowID string) []*historypb.HistoryEvent {
	tb.Helper()
	var events []*historypb.HistoryEvent
	it := c.GetWorkflowHistory(context.Background(), workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			tb.Fatalf("temporaltest: history of %s: %v", workflowID, err)
		}
		events = append(events, e)
	}
	return events
}

// Payloads returns every payload inside m, at any depth, except the search attributes: Temporal
// indexes those, so they are never encoded by a payload codec.
func Payloads(m proto.Message) []*commonpb.Payload {
	var out []*commonpb.Payload
	var walk func(m protoreflect.Message)
	walk = func(m protoreflect.Message) {
		switch v := m.Interface().(type) {
		case *commonpb.Payload:
			out = append(out, v)
			return
		case *commonpb.SearchAttributes:
			return
		}
		m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			switch {
			case fd.IsMap() && fd.MapValue().Message() != nil:
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
					walk(mv.Message())
					return true
				})
			case fd.IsList() && fd.Message() != nil:
				for i := range v.List().Len() {
					walk(v.List().Get(i).Message())
				}
			case fd.Message() != nil && !fd.IsMap() && !fd.IsList():
				walk(v.Message())
			}
			return true
		})
	}
	walk(m.ProtoReflect())
	return out
}
