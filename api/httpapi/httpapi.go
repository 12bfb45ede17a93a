// Package httpapi holds what the gateway API and the MCP server share: the Huma API with its
// OpenAPI document (bearer security scheme, problem-details errors), the /health endpoint and a
// server that drains in-flight requests on shutdown.
package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"reflect"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"mcp-platform/internal/health"
	"mcp-platform/internal/version"
)

// BearerScheme is the name of the OpenAPI security scheme for bearer JWTs.
const BearerScheme = "bearer"

// Spec describes one server's OpenAPI document.
type Spec struct {
	Title       string
	Description string
	Tags        []*huma.Tag
}

// New creates a Huma API on mux with the platform's OpenAPI conventions: OpenAPI 3.1, the
// bearer JWT security scheme required by default, and RFC 9457 problem details for errors.
func New(mux *http.ServeMux, spec Spec) huma.API {
	cfg := huma.DefaultConfig(spec.Title, version.Version)
	// Drop Huma's $schema links in bodies and Link headers: generated clients do not need them.
	cfg.CreateHooks = nil
	cfg.Info.Description = spec.Description
	cfg.Info.Contact = &huma.Contact{Name: "MCP Platform maintainers", URL: "https://github.com/mcp-platform/mcp-platform"}
	cfg.Info.License = &huma.License{Name: "Apache-2.0", Identifier: "Apache-2.0"}
	cfg.Servers = []*huma.Server{{URL: "/", Description: "This server"}}
	cfg.Tags = append([]*huma.Tag{{Name: "Health", Description: "Liveness and dependency health of this server."}}, spec.Tags...)
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		BearerScheme: {
			Type:         "http",
			Scheme:       "bearer",
			BearerFormat: "JWT",
			Description:  "A JWT issued by the configured identity provider (in dev: POST /auth/token).",
		},
	}
	cfg.Security = []map[string][]string{{BearerScheme: {}}}
	cfg.DocsPath = "" // served from the binary instead (mountDocs), not from a CDN
	mountDocs(mux, spec.Title, cfg.OpenAPIPath+".json")
	return humago.New(mux, cfg)
}

// JSONResponse documents a response whose body is a T: the other status an output's Status
// field can take besides the operation's default one (Huma documents only the default), so that
// generated clients read that body too.
func JSONResponse[T any](api huma.API, description string) *huma.Response {
	return &huma.Response{Description: description, Content: map[string]*huma.MediaType{
		"application/json": {Schema: api.OpenAPI().Components.Schemas.Schema(reflect.TypeFor[T](), true, "")},
	}}
}

// HealthBody is the answer of GET /health.
type HealthBody struct {
	Status  string        `json:"status" enum:"ok,unavailable" doc:"ok when every dependency answers"`
	Service string        `json:"service" doc:"Which server answered"`
	Version string        `json:"version" doc:"Release version of the server"`
	Checks  []HealthCheck `json:"checks" doc:"One entry per dependency"`
}

// HealthCheck is the state of one dependency.
type HealthCheck struct {
	Name      string `json:"name" example:"postgres" doc:"Dependency name"`
	OK        bool   `json:"ok" doc:"Whether the dependency answered"`
	Error     string `json:"error,omitempty" doc:"What failed, when it did"`
	LatencyMS int64  `json:"latency_ms" doc:"How long the probe took"`
}

type healthOutput struct {
	Status int
	Body   HealthBody
}

// AddHealth registers GET /health, which probes the given dependencies and answers 200 when all
// answer and 503, naming the failing ones, otherwise; GET /readyz, the same for orchestrators;
// and GET /livez, which only says the process serves. They need no token.
func AddHealth(api huma.API, service string, checks []health.Check) {
	huma.Register(api, huma.Operation{
		OperationID: "get-health",
		Method:      http.MethodGet,
		Path:        "/health",
		Summary:     "Check health",
		Description: "Reports whether this server's dependencies (Postgres, Temporal) answer. 503 names the ones that do not.",
		Tags:        []string{"Health"},
		Security:    []map[string][]string{},
		Responses: map[string]*huma.Response{
			"default": {
				Description: "Unexpected error (RFC 9457 problem details)",
				Content: map[string]*huma.MediaType{"application/problem+json": {
					Schema: api.OpenAPI().Components.Schemas.Schema(reflect.TypeFor[huma.ErrorModel](), true, ""),
				}},
			},
			"503": JSONResponse[HealthBody](api, "A dependency is down"),
		},
	}, healthHandler(service, checks))

	huma.Register(api, huma.Operation{
		OperationID: "get-readiness",
		Method:      http.MethodGet,
		Path:        "/readyz",
		Summary:     "Check readiness",
		Description: "For orchestrators such as Kubernetes: 200 when this instance can serve (its dependencies answer), " +
			"503 otherwise, so traffic goes elsewhere. Same body as /health.",
		Tags:      []string{"Health"},
		Security:  []map[string][]string{},
		Responses: map[string]*huma.Response{"503": JSONResponse[HealthBody](api, "Not ready")},
	}, healthHandler(service, checks))

	huma.Register(api, huma.Operation{
		OperationID: "get-liveness",
		Method:      http.MethodGet,
		Path:        "/livez",
		Summary:     "Check liveness",
		Description: "For orchestrators such as Kubernetes: 200 while the process serves requests. It checks no " +
			"dependency, so a database outage makes instances unready, not restarted.",
		Tags:     []string{"Health"},
		Security: []map[string][]string{},
	}, func(ctx context.Context, _ *struct{}) (*livenessOutput, error) {
		out := &livenessOutput{}
		out.Body.Status, out.Body.Service = "ok", service
		return out, nil
	})
}

type livenessOutput struct {
	Body struct {
		Status  string `json:"status" enum:"ok"`
		Service string `json:"service"`
	}
}

func healthHandler(service string, checks []health.Check) func(context.Context, *struct{}) (*healthOutput, error) {
	return func(ctx context.Context, _ *struct{}) (*healthOutput, error) {
		results, ok := health.RunAll(ctx, 3*time.Second, checks)
		out := &healthOutput{Status: http.StatusOK, Body: HealthBody{Status: "ok", Service: service, Version: version.Version, Checks: []HealthCheck{}}}
		if !ok {
			out.Status = http.StatusServiceUnavailable
			out.Body.Status = "unavailable"
		}
		for _, r := range results {
			out.Body.Checks = append(out.Body.Checks, HealthCheck{Name: r.Name, OK: r.OK, Error: r.Error, LatencyMS: r.Took.Milliseconds()})
		}
		return out, nil
	}
}

// Serve runs handler on addr until ctx is done, then stops accepting connections and lets
// in-flight requests finish for up to drain before closing them.
func Serve(ctx context.Context, logger *slog.Logger, name, addr string, handler http.Handler, drain time.Duration) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen for %s on %s (is another process using the port?): %w", name, addr, err)
	}
	return ServeListener(ctx, logger, name, ln, handler, drain)
}

// ServeListener is Serve on an existing listener (tests use port 0).
func ServeListener(ctx context.Context, logger *slog.Logger, name string, ln net.Listener, handler http.Handler, drain time.Duration) error {
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info("server listening", "server", name, "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("serve %s: %w", name, err)
	case <-ctx.Done():
	}
	logger.Info("server draining", "server", name, "timeout", drain)
	sctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	err := srv.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		_ = srv.Close()
		logger.Warn("server drain timed out; closed remaining connections", "server", name)
		return nil
	}
	if err != nil {
		return fmt.Errorf("shut down %s: %w", name, err)
	}
	logger.Info("server stopped", "server", name)
	return nil
}
