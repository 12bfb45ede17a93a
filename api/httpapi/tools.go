package httpapi

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"mcp-platform/domains"
	"mcp-platform/domains/registry"
	"mcp-platform/toolcall"
)

// ToolInfo describes one tool to a caller.
type ToolInfo struct {
	Name         string              `json:"name" example:"hr.get_employee" doc:"Namespaced tool name"`
	MCPName      string              `json:"mcp_name" example:"hr__get_employee" doc:"Name published over MCP (only [a-z0-9_]): <domain>__<tool>, as LLMs see it too, or the tool's own name for a domain that publishes unprefixed names"`
	Domain       string              `json:"domain" example:"hr"`
	Title        string              `json:"title,omitempty"`
	Description  string              `json:"description"`
	InputSchema  map[string]any      `json:"input_schema" doc:"JSON Schema of the arguments"`
	OutputSchema map[string]any      `json:"output_schema,omitempty" doc:"JSON Schema of the result"`
	Annotations  domains.Annotations `json:"annotations"`
	Available    bool                `json:"available" doc:"Whether the tool's domain has a running worker"`
}

// NewToolInfo describes a catalog entry.
func NewToolInfo(e registry.Entry, live bool) ToolInfo {
	t := e.Tool
	return ToolInfo{
		Name: t.Name, MCPName: e.Domain.Config.PublishedName(t.Name), Domain: e.Domain.Config.Name, Title: t.Title,
		Description: t.Description, InputSchema: t.InputSchema, OutputSchema: t.OutputSchema,
		Annotations: t.Annotations, Available: live,
	}
}

type listToolsInput struct {
	Domain string `query:"domain" maxLength:"32" doc:"Only the tools of this domain"`
}

type listToolsOutput struct {
	Body struct {
		Tools []ToolInfo `json:"tools" doc:"The tools the caller may use, ordered by name"`
	}
}

// AddToolList registers GET /tools: the tools the caller's roles and token scopes allow
// (toolcall.Planner.Visible), with whether each can run now.
func AddToolList(api huma.API, tools *toolcall.Planner) {
	huma.Register(api, huma.Operation{
		OperationID: "list-tools",
		Method:      http.MethodGet,
		Path:        "/tools",
		Summary:     "List the caller's tools",
		Description: "Every tool the caller's roles and token scopes allow, with schemas and annotations.",
		Tags:        []string{"Tools"},
		Errors:      []int{http.StatusUnauthorized},
	}, func(ctx context.Context, in *listToolsInput) (*listToolsOutput, error) {
		p, err := Principal(ctx)
		if err != nil {
			return nil, err
		}
		out := &listToolsOutput{}
		out.Body.Tools = []ToolInfo{}
		for _, v := range tools.Visible(p, toolcall.VisibleOptions{Domain: in.Domain}) {
			out.Body.Tools = append(out.Body.Tools, NewToolInfo(v.Entry, v.Live))
		}
		return out, nil
	})
}
