// Package mcpserver is the MCP server on :8001, the authority over tools: the registry, the REST
// endpoints (/tools, /execute, /domains, /audit) and the Model Context Protocol at /mcp.
package mcpserver

import (
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"mcp-platform/api/httpapi"
	"mcp-platform/internal/health"
)

// Deps are the MCP server's dependencies. The zero value builds the API for its OpenAPI
// document only.
type Deps struct {
	Health []health.Check
}

// Spec describes the MCP server's OpenAPI document.
var Spec = httpapi.Spec{
	Title: "MCP Platform MCP Server",
	Description: "The tool registry and execution authority: lists the tools a caller may use, " +
		"authorizes, validates, audits and executes them. The same tools are served over the " +
		"Model Context Protocol at /mcp. Errors are RFC 9457 problem details.",
}

// New builds the MCP server's routes and returns its Huma API and HTTP handler.
func New(deps Deps) (huma.API, http.Handler) {
	mux := http.NewServeMux()
	api := httpapi.New(mux, Spec)
	httpapi.AddHealth(api, "mcp-server", deps.Health)
	return api, mux
}
