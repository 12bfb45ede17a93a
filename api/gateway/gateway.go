// Package gateway is the gateway API on :8000: conversations, chat turns, approvals, the event
// stream and the tool list for the web UI.
package gateway

import (
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"mcp-platform/api/httpapi"
	"mcp-platform/internal/health"
)

// Deps are the gateway's dependencies. The zero value builds the API for its OpenAPI document
// only.
type Deps struct {
	Health []health.Check
}

// Spec describes the gateway's OpenAPI document.
var Spec = httpapi.Spec{
	Title: "MCP Platform Gateway API",
	Description: "Chat with an assistant that acts on business systems through governed tools. " +
		"Every chat turn is a durable Temporal workflow; errors are RFC 9457 problem details.",
}

// New builds the gateway's routes and returns its Huma API and HTTP handler.
func New(deps Deps) (huma.API, http.Handler) {
	mux := http.NewServeMux()
	api := httpapi.New(mux, Spec)
	httpapi.AddHealth(api, "gateway", deps.Health)
	return api, mux
}
