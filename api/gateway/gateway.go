// Package gateway is the gateway API on :8000: conversations, chat turns, approvals, the event
// stream and the tool list for the web UI.
package gateway

import (
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"mcp-platform/api/approvalsapi"
	"mcp-platform/api/auditapi"
	"mcp-platform/api/codecapi"
	"mcp-platform/api/httpapi"
	"mcp-platform/api/ratelimit"
	"mcp-platform/api/usageapi"
	"mcp-platform/api/webui"
	"mcp-platform/authz"
	"mcp-platform/internal/approvals"
	"mcp-platform/internal/audit"
	"mcp-platform/internal/conversations"
	"mcp-platform/internal/events"
	"mcp-platform/internal/health"
	"mcp-platform/internal/usage"
	"mcp-platform/toolcall"
)

// Deps are the gateway's dependencies. The zero value builds the API for its OpenAPI document
// only.
type Deps struct {
	Health   []health.Check
	Verifier httpapi.Verifier
	// Issuer signs demo users' tokens; nil outside dev.
	Issuer *authz.Issuer
	// Signer signs what the gateway asserts to the workers (the caller, approval decisions).
	Signer *authz.Signer
	// Tools lists the tools a user may see (GET /tools).
	Tools         *toolcall.Planner
	Authz         *authz.Enforcer
	Conversations *conversations.Store
	Events        *events.Store
	Hub           *events.Hub
	Temporal      client.Client
	Approvals     *approvals.Store
	Audit         *audit.Log
	Logger        *slog.Logger
	// RateLimit bounds each user's requests per minute (nil: no limit).
	RateLimit *ratelimit.Limiter
	// Usage is the LLM usage accounting GET /usage reads; TokensPerDay is the daily budget it
	// reports (0: none).
	Usage        *usage.Store
	TokensPerDay int64
	// MaxSteps bounds the LLM ↔ tools loop of a turn.
	MaxSteps int
	// TemporalUIURL links turns to their runs ("" when unknown). Its origin may call the codec
	// server from a browser.
	TemporalUIURL string
	// EmbeddedUIURL is the dev stack's own Temporal UI, whose origin may call the codec server
	// too when TemporalUIURL names a proxy in front of it ("" outside dev).
	EmbeddedUIURL string
	// Codec is the payload codec the codec server (/codec) decodes with; nil disables it.
	Codec converter.PayloadCodec
	// Sensitive returns the tools' schema-marked sensitive fields, masked by the codec server
	// for operators who may not read them.
	Sensitive func() []string
	// Namespace is the Temporal namespace, for links.
	Namespace string
	// PollInterval is how often an idle event stream re-reads the table in case a notification
	// was lost (default 5s).
	PollInterval time.Duration
}

// Spec describes the gateway's OpenAPI document.
var Spec = httpapi.Spec{
	Title: "MCP Platform Gateway API",
	Description: "Chat with an assistant that acts on business systems through governed tools. " +
		"Every chat turn is a durable Temporal workflow; errors are RFC 9457 problem details.",
	Tags: []*huma.Tag{
		{Name: "Chat", Description: "Start chat turns and follow them."},
		{Name: "Conversations", Description: "The caller's conversations and their history."},
		{Name: "Tools", Description: "The tools the caller may use."},
		approvalsapi.Tag,
		auditapi.Tag,
		usageapi.Tag,
		codecapi.Tag,
		{Name: "Auth", Description: "Dev-mode sign-in for demo users."},
	},
}

// New builds the gateway's routes and returns its Huma API and HTTP handler.
func New(deps Deps) (huma.API, http.Handler) {
	mux := http.NewServeMux()
	api := httpapi.New(mux, Spec)
	if deps.Verifier != nil {
		api.UseMiddleware(httpapi.RequireAuth(api, deps.Verifier, ""))
		api.UseMiddleware(ratelimit.Middleware(api, deps.RateLimit))
	}
	if deps.PollInterval <= 0 {
		deps.PollInterval = 5 * time.Second
	}
	httpapi.AddHealth(api, "gateway", deps.Health)
	httpapi.AddDevAuth(api, deps.Issuer)
	httpapi.AddToolList(api, deps.Tools)
	addChatRoutes(api, deps)
	addConversationRoutes(api, deps)
	addStreamRoute(api, deps)
	approvalsapi.Register(api, approvalsapi.Deps{Approvals: deps.Approvals, Temporal: deps.Temporal, Audit: deps.Audit, Logger: deps.Logger, Signer: deps.Signer})
	auditapi.Register(api, deps.Audit, deps.Authz, deps.Logger)
	usageapi.Register(api, usageapi.Deps{Usage: deps.Usage, Authz: deps.Authz, TokensPerDay: deps.TokensPerDay, Logger: deps.Logger})
	codecapi.Register(mux, api, codecapi.Deps{Codec: deps.Codec, Verifier: deps.Verifier, Authz: deps.Authz,
		Origins: origins(deps.TemporalUIURL, deps.EmbeddedUIURL), Sensitive: deps.Sensitive, Logger: deps.Logger})
	webui.Mount(mux, api)
	return api, mux
}

// origins is the browser origin of a URL, as a list; none when the URL has no host.
func origins(raws ...string) []string {
	var out []string
	for _, raw := range raws {
		u, err := url.Parse(raw)
		if err != nil || u.Scheme == "" || u.Host == "" {
			continue
		}
		out = append(out, u.Scheme+"://"+u.Host)
	}
	return out
}
