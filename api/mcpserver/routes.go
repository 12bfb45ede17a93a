package mcpserver

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"mcp-platform/api/httpapi"
	"mcp-platform/domains"
	"mcp-platform/domains/registry"
	"mcp-platform/internal/audit"
)

// ToolInfo describes one tool to a caller.
type ToolInfo struct {
	Name         string              `json:"name" example:"hr.get_employee" doc:"Namespaced tool name"`
	MCPName      string              `json:"mcp_name" example:"hr__get_employee" doc:"Name published over MCP and to LLMs (only [a-z0-9_])"`
	Domain       string              `json:"domain" example:"hr"`
	Title        string              `json:"title,omitempty"`
	Description  string              `json:"description"`
	InputSchema  map[string]any      `json:"input_schema" doc:"JSON Schema of the arguments"`
	OutputSchema map[string]any      `json:"output_schema,omitempty" doc:"JSON Schema of the result"`
	Annotations  domains.Annotations `json:"annotations"`
	Available    bool                `json:"available" doc:"Whether the tool's domain has a running worker"`
}

func toolInfo(e registry.Entry, live bool) ToolInfo {
	t := e.Tool
	return ToolInfo{
		Name: t.Name, MCPName: domains.SafeName(t.Name), Domain: e.Domain.Config.Name, Title: t.Title,
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

type getToolInput struct {
	Name string `path:"name" maxLength:"100" example:"hr.get_employee" doc:"Namespaced (hr.get_employee) or MCP (hr__get_employee) name"`
}

type getToolOutput struct {
	Body ToolInfo
}

// ExecuteRequest is a tool call.
type ExecuteRequest struct {
	Body struct {
		Tool      string         `json:"tool" minLength:"3" maxLength:"100" example:"hr.get_employee" doc:"Namespaced or MCP tool name"`
		Arguments map[string]any `json:"arguments,omitempty" doc:"Arguments matching the tool's input schema"`
	}
}

// ExecuteResponse is a tool call's result.
type ExecuteResponse struct {
	Body struct {
		Tool       string `json:"tool" example:"hr.get_employee"`
		Result     any    `json:"result" doc:"The tool's structured result (matches its output schema)"`
		Redacted   bool   `json:"redacted" doc:"True when sensitive fields were masked because the caller may not see them"`
		DurationMS int64  `json:"duration_ms"`
		WorkflowID string `json:"workflow_id" doc:"The Temporal run that executed the call"`
	}
}

func addToolRoutes(api huma.API, deps Deps) {
	huma.Register(api, huma.Operation{
		OperationID: "list-tools",
		Method:      http.MethodGet,
		Path:        "/tools",
		Summary:     "List the caller's tools",
		Description: "Every tool the caller's roles and token scopes allow, with schemas and annotations.",
		Tags:        []string{"Tools"},
		Errors:      []int{http.StatusUnauthorized},
	}, func(ctx context.Context, in *listToolsInput) (*listToolsOutput, error) {
		p, err := httpapi.Principal(ctx)
		if err != nil {
			return nil, err
		}
		out := &listToolsOutput{}
		out.Body.Tools = []ToolInfo{}
		for _, e := range deps.Catalog.Tools() {
			if in.Domain != "" && e.Domain.Config.Name != in.Domain {
				continue
			}
			if deps.Authz.Can(p, domains.ActionExecute, e.Tool.Name) {
				out.Body.Tools = append(out.Body.Tools, toolInfo(e, deps.Catalog.Live(e.Domain.Config.Name)))
			}
		}
		return out, nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "get-tool",
		Method:      http.MethodGet,
		Path:        "/tools/{name}",
		Summary:     "Describe a tool",
		Description: "One tool the caller may use. 404 when no such tool exists, 403 when the caller may not use it.",
		Tags:        []string{"Tools"},
		Errors:      []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound},
	}, func(ctx context.Context, in *getToolInput) (*getToolOutput, error) {
		p, err := httpapi.Principal(ctx)
		if err != nil {
			return nil, err
		}
		e, err := lookup(deps.Catalog, in.Name)
		if err != nil {
			return nil, err
		}
		if !deps.Authz.Can(p, domains.ActionExecute, e.Tool.Name) {
			return nil, huma.Error403Forbidden("you are not allowed to use " + e.Tool.Name)
		}
		return &getToolOutput{Body: toolInfo(e, deps.Catalog.Live(e.Domain.Config.Name))}, nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "execute-tool",
		Method:      http.MethodPost,
		Path:        "/execute",
		Summary:     "Execute a tool",
		Description: "Authorizes, validates, audits and runs one tool call through Temporal on the tool's domain " +
			"queue, and returns its result. 422 lists each invalid argument; 403 when the caller may not use " +
			"the tool; 404 for an unknown tool or a thing the tool did not find; 503 when the domain has no " +
			"running worker; 502/504 when the backend failed or did not answer in time.",
		Tags: []string{"Tools"},
		Errors: []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusConflict,
			http.StatusUnprocessableEntity, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout},
	}, func(ctx context.Context, in *ExecuteRequest) (*ExecuteResponse, error) {
		p, err := httpapi.Principal(ctx)
		if err != nil {
			return nil, err
		}
		name := in.Body.Tool
		if n, ok := domains.FromSafeName(name); ok {
			name = n
		}
		res, err := deps.Executor.Execute(ctx, p, name, in.Body.Arguments)
		if err != nil {
			return nil, problem(err)
		}
		out := &ExecuteResponse{}
		out.Body.Tool, out.Body.Result, out.Body.Redacted = res.Tool, res.Output, res.Redacted
		out.Body.DurationMS, out.Body.WorkflowID = res.DurationMS, res.WorkflowID
		return out, nil
	})
}

// lookup finds a tool by namespaced or MCP name, or answers 404.
func lookup(cat *registry.Catalog, name string) (registry.Entry, error) {
	if n, ok := domains.FromSafeName(name); ok {
		if e, ok := cat.Lookup(n); ok {
			return e, nil
		}
	}
	return registry.Entry{}, huma.Error404NotFound("no tool named " + name + " (GET /tools lists yours)")
}

// problem turns an execution error into RFC 9457 problem details.
func problem(err error) error {
	var ee *ExecError
	if !errors.As(err, &ee) {
		return huma.Error500InternalServerError("the tool call failed unexpectedly")
	}
	details := make([]error, 0, len(ee.Problems))
	for _, p := range ee.Problems {
		loc := "body.arguments"
		if p.Field != "" {
			loc += "." + p.Field
		}
		details = append(details, &huma.ErrorDetail{Location: loc, Message: p.Message})
	}
	return huma.NewError(ee.Status, ee.Message, details...)
}

// DomainInfo describes a registered domain and the health of its workers.
type DomainInfo struct {
	Name          string            `json:"name" example:"hr"`
	Description   string            `json:"description"`
	Version       string            `json:"version"`
	Kind          string            `json:"kind" enum:"builtin,mcp,http"`
	TaskQueue     string            `json:"task_queue" example:"domain-hr"`
	Tools         int               `json:"tools" doc:"Number of tools"`
	Status        string            `json:"status" enum:"up,down" doc:"up when a worker heartbeat recently"`
	Workers       []registry.Worker `json:"workers" doc:"Workers seen, with their last heartbeat"`
	LastHeartbeat *time.Time        `json:"last_heartbeat,omitempty"`
}

type listDomainsOutput struct {
	Body struct {
		Domains []DomainInfo `json:"domains"`
	}
}

func addDomainRoutes(api huma.API, deps Deps) {
	huma.Register(api, huma.Operation{
		OperationID: "list-domains",
		Method:      http.MethodGet,
		Path:        "/domains",
		Summary:     "List domains",
		Description: "The registered business domains, their tools count and the health of their workers.",
		Tags:        []string{"Domains"},
		Errors:      []int{http.StatusUnauthorized},
	}, func(ctx context.Context, _ *struct{}) (*listDomainsOutput, error) {
		if _, err := httpapi.Principal(ctx); err != nil {
			return nil, err
		}
		list, now := deps.Catalog.Domains()
		out := &listDomainsOutput{}
		out.Body.Domains = []DomainInfo{}
		for _, d := range list {
			c := d.Config
			info := DomainInfo{Name: c.Name, Description: c.Description, Version: c.Version, Kind: c.Kind,
				TaskQueue: c.TaskQueue, Tools: len(c.Tools), Status: "down", Workers: d.Workers}
			if info.Workers == nil {
				info.Workers = []registry.Worker{}
			}
			if d.Live(now) {
				info.Status = "up"
			}
			if hb := d.LastHeartbeat(); !hb.IsZero() {
				info.LastHeartbeat = &hb
			}
			out.Body.Domains = append(out.Body.Domains, info)
		}
		return out, nil
	})
}

type auditInput struct {
	User    string    `query:"user" maxLength:"128" doc:"Only this user's calls"`
	Tool    string    `query:"tool" maxLength:"100" doc:"Only this tool; a trailing * matches a prefix (hr.*)"`
	Outcome string    `query:"outcome" enum:"started,succeeded,denied,invalid,failed,rejected,expired" doc:"Only this outcome"`
	Since   time.Time `query:"since" doc:"Only calls at or after this time (RFC 3339)"`
	Until   time.Time `query:"until" doc:"Only calls before this time (RFC 3339)"`
	Limit   int       `query:"limit" minimum:"1" maximum:"200" default:"50" doc:"Page size"`
	Cursor  string    `query:"cursor" maxLength:"512" doc:"next_cursor of the previous page"`
}

type auditOutput struct {
	Body struct {
		Records    []audit.Record `json:"records" doc:"Newest first"`
		NextCursor string         `json:"next_cursor,omitempty" doc:"Pass as cursor for the next page; absent on the last"`
	}
}

func addAuditRoutes(api huma.API, deps Deps) {
	huma.Register(api, huma.Operation{
		OperationID: "list-audit-records",
		Method:      http.MethodGet,
		Path:        "/audit",
		Summary:     "Read the audit log",
		Description: "Every tool execution attempt (allowed, denied, invalid, failed), newest first, with " +
			"sensitive values redacted. For auditors and admins.",
		Tags:   []string{"Audit"},
		Errors: []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden},
	}, func(ctx context.Context, in *auditInput) (*auditOutput, error) {
		p, err := httpapi.Principal(ctx)
		if err != nil {
			return nil, err
		}
		if !deps.Authz.CanReadAudit(p) {
			return nil, huma.Error403Forbidden("only auditors and admins may read the audit log")
		}
		page, err := deps.Audit.Query(ctx, audit.Filter{UserID: in.User, Tool: in.Tool, Outcome: in.Outcome,
			Since: in.Since, Until: in.Until, Limit: in.Limit, Cursor: in.Cursor})
		if errors.Is(err, audit.ErrBadCursor) {
			return nil, huma.Error400BadRequest("the cursor is not valid; start again without it")
		}
		if err != nil {
			deps.Logger.Error("audit query failed", "error", err)
			return nil, huma.Error500InternalServerError("could not read the audit log")
		}
		out := &auditOutput{}
		out.Body.Records, out.Body.NextCursor = page.Records, page.NextCursor
		if out.Body.Records == nil {
			out.Body.Records = []audit.Record{}
		}
		return out, nil
	})
}
