// Package platform is the composition root: it builds the services from configuration and runs
// each of the platform's processes (gateway API, MCP server, workers). `mcp-platform <role>`
// runs one of them; `mcp-platform dev` (platform/devstack) runs them all in one process on the
// embedded stack, and platform/platformtest runs them in a test.
package platform

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"mcp-platform/api/gateway"
	"mcp-platform/api/httpapi"
	"mcp-platform/api/mcpserver"
	"mcp-platform/api/ratelimit"
	"mcp-platform/authz"
	"mcp-platform/domains/registry"
	"mcp-platform/internal/approvals"
	"mcp-platform/internal/audit"
	"mcp-platform/internal/config"
	"mcp-platform/internal/conversations"
	"mcp-platform/internal/events"
	"mcp-platform/internal/health"
	"mcp-platform/internal/progress"
	"mcp-platform/internal/store"
	"mcp-platform/internal/telemetry"
	"mcp-platform/internal/temporalx"
	"mcp-platform/internal/usage"
	"mcp-platform/toolcall"
)

// Env is what every role needs: settings, logger, the database pool and the Temporal client
// with its payload codec.
type Env struct {
	Cfg      config.Config
	Logger   *slog.Logger
	Pool     *pgxpool.Pool
	Temporal client.Client
	// Codec encrypts every payload Temporal stores; the gateway's codec server decodes with it.
	Codec *temporalx.Codec
	// Getenv reads the environment for secrets that only one role holds (a domain's database
	// URL or API token); nil means os.Getenv.
	Getenv func(string) string
	// Signer signs what the front ends assert to the backbone (nil on worker-only processes);
	// Trust verifies it on the workers.
	Signer *authz.Signer
	Trust  *authz.Keyring
	// EmbeddedUI is the dev stack's Temporal UI ("" outside dev).
	EmbeddedUI string
	// Metrics are the process's Prometheus series (ServeMetrics serves them); nil records
	// nothing.
	Metrics *telemetry.Metrics
}

// Connect opens the database (failing fast when it does not answer), loads the payload codec,
// creates the process's metrics and opens the Temporal client (waiting up to temporalWait for
// it), whose SDK metrics go there. Close the returned Env when
// done.
func Connect(ctx context.Context, cfg config.Config, logger *slog.Logger, temporalWait time.Duration) (*Env, error) {
	signer, trust, err := Keys(cfg)
	if err != nil {
		return nil, err
	}
	pool, err := store.Open(ctx, cfg.Database.URL)
	if err != nil {
		return nil, err
	}
	codec, err := temporalx.LoadCodec(cfg)
	if err != nil {
		pool.Close()
		return nil, err
	}
	metrics := telemetry.NewMetrics()
	sdkMetrics, err := metrics.TemporalHandler()
	if err != nil {
		pool.Close()
		return nil, err
	}
	tc, err := temporalx.Dial(ctx, cfg.Temporal.Address, cfg.Temporal.Namespace, codec, logger, temporalWait, sdkMetrics)
	if err != nil {
		pool.Close()
		return nil, err
	}
	return &Env{Cfg: cfg, Logger: logger, Pool: pool, Temporal: tc, Codec: codec, Signer: signer, Trust: trust, Metrics: metrics}, nil
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

// Services are what the API and MCP server share in one process: the registry catalog (kept
// fresh by Run), the Casbin enforcer it feeds, token verification and the audit log.
type Services struct {
	Catalog  *registry.Catalog
	Authz    *authz.Enforcer
	Verifier *authz.Verifier
	// Issuer signs demo users' tokens in dev; nil otherwise.
	Issuer *authz.Issuer
	Audit  *audit.Log
	// Tools is the tool-call pipeline both servers share.
	Tools *toolcall.Planner
	// Hub wakes event streams when a worker publishes (LISTEN/NOTIFY).
	Hub *events.Hub
	// Progress follows the progress tool calls report, for MCP callers that asked for it.
	Progress *progress.Hub
	// Readiness are checks of /health and /readyz beyond the dependencies of Env.HealthChecks.
	// dev adds DomainsLive for its builtin domains; the standalone API and MCP server add none,
	// so that a replica stays ready while a domain's workers, elsewhere, come and go.
	// Set it before building the handlers.
	Readiness []health.Check
}

// DomainsLive is a readiness check that passes once every named domain is in the catalog
// with a live worker, that is once /tools lists its tools and calls of them can run.
func DomainsLive(c *registry.Catalog, names []string) health.Check {
	return health.Check{Name: "domains", Failure: "domain workers not live yet", Run: func(context.Context) error {
		var missing []string
		for _, n := range names {
			if !c.Live(n) {
				missing = append(missing, n)
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("no live worker yet for domain %s", strings.Join(missing, ", "))
		}
		return nil
	}}
}

// checks are the process's health and readiness checks.
func (s *Services) checks(e *Env) []health.Check {
	return append(e.HealthChecks(), s.Readiness...)
}

// NewServices builds the shared services and loads the registry once.
func NewServices(ctx context.Context, e *Env) (*Services, error) {
	enf, err := authz.NewEnforcer()
	if err != nil {
		return nil, err
	}
	ver, err := authz.NewVerifier(ctx, e.Cfg.JWT)
	if err != nil {
		return nil, fmt.Errorf("token verification (JWT settings): %w", err)
	}
	s := &Services{
		Catalog:  registry.NewCatalog(registry.New(e.Pool), enf, e.Logger),
		Authz:    enf,
		Verifier: ver,
		Audit:    e.auditLog(),
		Hub:      events.NewHub(e.Pool, e.Logger),
		Progress: progress.NewHub(e.Pool, e.Logger),
	}
	s.Tools = &toolcall.Planner{Catalog: s.Catalog, Authz: enf, Audit: s.Audit, Logger: e.Logger}
	if e.Cfg.IsDev() {
		if s.Issuer, err = authz.NewIssuer(e.Cfg.JWT, true); err != nil {
			return nil, fmt.Errorf("dev token issuer: %w", err)
		}
	}
	if err := s.Catalog.Refresh(ctx); err != nil {
		return nil, fmt.Errorf("load tool registry: %w", err)
	}
	return s, nil
}

// Run keeps the services fresh until ctx ends: the registry catalog, the event hub and the
// progress hub.
func (s *Services) Run(ctx context.Context) {
	go s.Hub.Run(ctx)
	go s.Progress.Run(ctx)
	s.Catalog.Run(ctx)
}

// APIHandler builds the gateway API's HTTP handler, traced and measured, and registers the
// approvals-pending gauge (the gateway is where people decide).
func APIHandler(e *Env, s *Services) http.Handler {
	e.Metrics.GaugeFunc("mcp_approvals_pending", "Approval requests waiting for a decision (not expired), across all approvers.",
		e.Logger, func(ctx context.Context) (float64, error) {
			n, err := approvals.NewStore(e.Pool).PendingTotal(ctx)
			return float64(n), err
		})
	var codec converter.PayloadCodec
	if e.Codec != nil {
		codec = e.Codec
	}
	_, h := gateway.New(gateway.Deps{
		Health:        s.checks(e),
		Verifier:      s.Verifier,
		Issuer:        s.Issuer,
		Tools:         s.Tools,
		Signer:        e.Signer,
		Authz:         s.Authz,
		Conversations: conversations.NewStore(e.Pool),
		Events:        events.NewStore(e.Pool),
		Hub:           s.Hub,
		Temporal:      e.Temporal,
		Approvals:     e.approvalStore(),
		Audit:         s.Audit,
		Logger:        e.Logger,
		TemporalUIURL: e.Cfg.Temporal.UIURL,
		EmbeddedUIURL: e.EmbeddedUI,
		Namespace:     e.Cfg.Temporal.Namespace,
		Codec:         codec,
		Sensitive:     s.Catalog.SensitiveFields,
		RateLimit:     ratelimit.PerMinute(e.Cfg.Quota.APIRequestsPerMinute),
		Usage:         usage.NewStore(e.Pool),
		TokensPerDay:  e.Cfg.Quota.TokensPerDay,
	})
	return e.instrument("gateway", h)
}

// MCPHandler builds the MCP server's HTTP handler, traced and measured.
func MCPHandler(e *Env, s *Services) http.Handler {
	store := e.approvalStore()
	_, h := mcpserver.New(mcpserver.Deps{
		Health:         s.checks(e),
		Verifier:       s.Verifier,
		Issuer:         s.Issuer,
		Catalog:        s.Catalog,
		Authz:          s.Authz,
		Audit:          s.Audit,
		Tools:          s.Tools,
		Signer:         e.Signer,
		Executor:       &mcpserver.Executor{Tools: s.Tools, Signer: e.Signer, Temporal: e.Temporal, Approvals: store, Progress: s.Progress, Logger: e.Logger},
		Approvals:      store,
		Temporal:       e.Temporal,
		Logger:         e.Logger,
		PublicURL:      e.URL(e.Cfg.Server.MCPPort),
		AllowedOrigins: e.Cfg.Server.MCPOrigins,
		// Dev replaces these with its own authorization server (Issuer is set only there).
		AuthorizationServers: e.Cfg.JWT.AuthorizationServers(),
		RateLimit:            ratelimit.PerMinute(e.Cfg.Quota.MCPRequestsPerMinute),
	})
	return e.instrument("mcp", h)
}

// serveWithServices runs a server that needs the shared services, refreshing the catalog
// while it serves.
func serveWithServices(ctx context.Context, e *Env, name string, port int, handler func(*Env, *Services) http.Handler) error {
	if e.Signer == nil {
		return fmt.Errorf("the %s needs the assertion signing key: set MCP_ASSERTION_KEY (`mcp-platform keys` makes one)", name)
	}
	s, err := NewServices(ctx, e)
	if err != nil {
		return err
	}
	go s.Run(ctx)
	return httpapi.Serve(ctx, e.Logger, name, e.Addr(port), handler(e, s), e.Cfg.Server.ShutdownTimeout)
}

// RunAPI serves the gateway API until ctx is done.
func RunAPI(ctx context.Context, e *Env) error {
	return serveWithServices(ctx, e, "gateway API", e.Cfg.Server.APIPort, APIHandler)
}

// RunMCP serves the MCP server until ctx is done.
func RunMCP(ctx context.Context, e *Env) error {
	return serveWithServices(ctx, e, "MCP server", e.Cfg.Server.MCPPort, MCPHandler)
}

// URL is the http URL of a server of this process, for messages.
func (e *Env) URL(port int) string {
	host := e.Cfg.Server.Host
	if host == "0.0.0.0" || host == "" || host == "::" {
		host = "localhost"
	}
	return fmt.Sprintf("http://%s", net.JoinHostPort(host, strconv.Itoa(port)))
}
