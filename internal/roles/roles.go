// Package roles runs each of the platform's processes (gateway API, MCP server, workers) from
// configuration. `mcp-platform <role>` runs one of them; `mcp-platform dev` runs them all in one
// process on the embedded stack.
package roles

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"

	"mcp-platform/api/gateway"
	"mcp-platform/api/httpapi"
	"mcp-platform/api/mcpserver"
	"mcp-platform/internal/config"
	"mcp-platform/internal/health"
	"mcp-platform/internal/store"
	"mcp-platform/internal/temporalx"
)

// Env is what every role needs: settings, logger, the database pool and the Temporal client.
type Env struct {
	Cfg      config.Config
	Logger   *slog.Logger
	Pool     *pgxpool.Pool
	Temporal client.Client
}

// Connect opens the database (failing fast when it does not answer) and the Temporal client
// (waiting up to temporalWait for it). Close the returned Env when done.
func Connect(ctx context.Context, cfg config.Config, logger *slog.Logger, temporalWait time.Duration) (*Env, error) {
	pool, err := store.Open(ctx, cfg.Database.URL)
	if err != nil {
		return nil, err
	}
	tc, err := temporalx.Dial(ctx, cfg.Temporal.Address, cfg.Temporal.Namespace, logger, temporalWait)
	if err != nil {
		pool.Close()
		return nil, err
	}
	return &Env{Cfg: cfg, Logger: logger, Pool: pool, Temporal: tc}, nil
}

// Close releases the Temporal client and the pool.
func (e *Env) Close() {
	e.Temporal.Close()
	e.Pool.Close()
}

// HealthChecks probe Postgres and Temporal.
func (e *Env) HealthChecks() []health.Check {
	return []health.Check{
		{Name: "postgres", Run: func(ctx context.Context) error { return e.Pool.Ping(ctx) }},
		{Name: "temporal", Run: temporalx.CheckHealth(e.Temporal)},
	}
}

// Addr is the listen address of a server of this process.
func (e *Env) Addr(port int) string {
	return net.JoinHostPort(e.Cfg.Server.Host, strconv.Itoa(port))
}

// APIHandler builds the gateway API's HTTP handler.
func APIHandler(e *Env) http.Handler {
	_, h := gateway.New(gateway.Deps{Health: e.HealthChecks()})
	return h
}

// MCPHandler builds the MCP server's HTTP handler.
func MCPHandler(e *Env) http.Handler {
	_, h := mcpserver.New(mcpserver.Deps{Health: e.HealthChecks()})
	return h
}

// RunAPI serves the gateway API until ctx is done.
func RunAPI(ctx context.Context, e *Env) error {
	return httpapi.Serve(ctx, e.Logger, "gateway API", e.Addr(e.Cfg.Server.APIPort), APIHandler(e), e.Cfg.Server.ShutdownTimeout)
}

// RunMCP serves the MCP server until ctx is done.
func RunMCP(ctx context.Context, e *Env) error {
	return httpapi.Serve(ctx, e.Logger, "MCP server", e.Addr(e.Cfg.Server.MCPPort), MCPHandler(e), e.Cfg.Server.ShutdownTimeout)
}

// URL is the http URL of a server of this process, for messages.
func (e *Env) URL(port int) string {
	host := e.Cfg.Server.Host
	if host == "0.0.0.0" || host == "" || host == "::" {
		host = "localhost"
	}
	return fmt.Sprintf("http://%s", net.JoinHostPort(host, strconv.Itoa(port)))
}
