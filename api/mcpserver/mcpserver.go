// Package mcpserver is the MCP server on :8001, the authority over tools: the registry, the REST
// endpoints (/tools, /execute, /domains, /audit) and the Model Context Protocol at /mcp.
package mcpserver

import (
	"log/slog"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"go.temporal.io/sdk/client"

	"mcp-platform/api/approvalsapi"
	"mcp-platform/api/auditapi"
	"mcp-platform/api/devoauth"
	"mcp-platform/api/httpapi"
	"mcp-platform/api/ratelimit"
	"mcp-platform/authz"
	"mcp-platform/domains/registry"
	"mcp-platform/internal/approvals"
	"mcp-platform/internal/audit"
	"mcp-platform/internal/health"
	"mcp-platform/toolcall"
)

// Deps are the MCP server's dependencies. The zero value builds the API for its OpenAPI
// document only.
type Deps struct {
	Health   []health.Check
	Verifier httpapi.Verifier
	// Issuer signs demo users' tokens; nil outside dev.
	Issuer  *authz.Issuer
	Catalog *registry.Catalog
	Authz   *authz.Enforcer
	// Signer signs approval decisions for the workers.
	Signer *authz.Signer
	// Tools is the tool-call pipeline: visible tools and planning.
	Tools    *toolcall.Planner
	Audit    *audit.Log
	Executor *Executor
	// Approvals serves the approval routes (decisions on calls waiting from /execute and MCP).
	Approvals *approvals.Store
	Temporal  client.Client
	Logger    *slog.Logger
	// RateLimit bounds each user's requests per minute, REST and /mcp together (nil: no limit).
	RateLimit *ratelimit.Limiter
	// PublicURL is how clients reach this server (for OAuth protected-resource metadata); its
	// origin may call /mcp from a browser.
	PublicURL string
	// AllowedOrigins are the other browser origins that may call /mcp (CORS); a request with any
	// other Origin is refused.
	AllowedOrigins []string
	// AuthorizationServers are the issuers MCP clients get tokens from, listed in the
	// protected-resource metadata: the configured identity provider. In dev (Issuer set) the
	// built-in dev authorization server at PublicURL is used instead.
	AuthorizationServers []string
}

// Spec describes the MCP server's OpenAPI document.
var Spec = httpapi.Spec{
	Title: "MCP Platform MCP Server",
	Description: "The tool registry and execution authority: lists the tools a caller may use, " +
		"authorizes, validates, audits and executes them. The same tools are served over the " +
		"Model Context Protocol at /mcp (Streamable HTTP). Errors are RFC 9457 problem details.",
	Tags: []*huma.Tag{
		{Name: "Tools", Description: "The tools the caller may use, and their execution."},
		{Name: "Domains", Description: "Registered business domains and the health of their workers."},
		auditapi.Tag,
		approvalsapi.Tag,
		{Name: "Auth", Description: "Dev-mode sign-in for demo users."},
	},
}

// New builds the MCP server's routes and returns its Huma API and HTTP handler.
func New(deps Deps) (huma.API, http.Handler) {
	mux := http.NewServeMux()
	api := httpapi.New(mux, Spec)
	metadataURL := deps.PublicURL + protectedResourcePath
	if deps.Verifier != nil {
		api.UseMiddleware(httpapi.RequireAuth(api, deps.Verifier, metadataURL))
		api.UseMiddleware(ratelimit.Middleware(api, deps.RateLimit))
	}
	httpapi.AddHealth(api, "mcp-server", deps.Health)
	httpapi.AddDevAuth(api, deps.Issuer)
	addToolRoutes(api, deps)
	addDomainRoutes(api, deps)
	auditapi.Register(api, deps.Audit, deps.Authz, deps.Logger)
	approvalsapi.Register(api, approvalsapi.Deps{Approvals: deps.Approvals, Temporal: deps.Temporal, Audit: deps.Audit, Logger: deps.Logger, Signer: deps.Signer})
	if deps.Issuer != nil && deps.PublicURL != "" {
		as, err := devoauth.New(devoauth.Options{Issuer: deps.PublicURL, Resource: deps.PublicURL + "/mcp", Tokens: deps.Issuer, Logger: deps.Logger})
		if err == nil {
			as.Register(mux)
			deps.AuthorizationServers = []string{as.Issuer()}
		}
	}
	if deps.Verifier != nil && deps.Executor != nil {
		addMCP(mux, deps)
	}
	return api, mux
}
