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

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"mcp-platform/internal/devserver/temporalserver"
	"mcp-platform/internal/temporalx"
)

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

// Client returns a new SDK client connected to the shared server's namespace.
// It is closed in tb.Cleanup.
func Client(tb testing.TB) client.Client {
	tb.Helper()
	s := Server(tb)
	c, err := client.Dial(client.Options{
		HostPort:  s.Address(),
		Namespace: s.Namespace(),
		Logger:    sdklog.NewStructuredLogger(logger),
	})
	if err != nil {
		tb.Fatalf("temporaltest: dialing %s: %v", s.Address(), err)
	}
	tb.Cleanup(c.Close)
	return c
}
