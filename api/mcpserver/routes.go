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
	"mcp-platform/toolcall"
)

type getToolInput struct {
	Name string `path:"name" maxLength:"100" example:"hr.get_employee" doc:"Namespaced (hr.get_employee) or MCP (hr__get_employee) name"`
}

type getToolOutput struct {
	Body httpapi.ToolInfo
}

// ExecuteRequest is a tool call.
type ExecuteRequest struct {
	Body struct {
		Tool      string         `json:"tool" minLength:"3" maxLength:"100" example:"hr.get_employee" doc:"Namespaced or MCP tool name"`
		Arguments map[string]any `json:"arguments,omitempty" doc:"Arguments matching the tool's input schema"`
	}
}

// ExecuteResponse is a tool call's result (200), or a call waiting for approval or running
// (202).
type ExecuteResponse struct {
	Status int
	Body   ExecutionBody
}

// ExecutionBody describes a tool call's result or where it stands.
type ExecutionBody struct {
	Tool       string           `json:"tool" example:"hr.get_employee"`
	Status     string           `json:"status" enum:"completed,pending_approval,running" doc:"completed with a result; pending_approval while a person decides (approval says what to do); running while it starts or runs"`
	Result     any              `json:"result,omitempty" doc:"The tool's structured result (matches its output schema); for a tool of a domain of kind mcp, the upstream's structuredContent"`
	Content    []ContentBlock   `json:"content,omitempty" doc:"For a tool of a domain of kind mcp: the MCP content blocks the upstream server returned, unchanged (text, image, audio, resource_link, resource, each with its annotations and _meta)"`
	IsError    bool             `json:"is_error,omitempty" doc:"For a tool of a domain of kind mcp: the upstream tool reported that it failed (MCP isError); content says why"`
	Redacted   bool             `json:"redacted,omitempty" doc:"True when sensitive fields were masked because the caller may not see them"`
	DurationMS int64            `json:"duration_ms,omitempty"`
	WorkflowID string           `json:"workflow_id" doc:"The Temporal run that executes the call"`
	Approval   *PendingApproval `json:"approval,omitempty" doc:"The approval the call waits for (status pending_approval); it can be decided at once"`
	FollowURL  string           `json:"follow_url" doc:"GET it for the outcome (202 while waiting)"`
}

// PendingApproval tells a caller whose call waits for a person what to do next.
type PendingApproval struct {
	ID          string    `json:"id" example:"apr-3f9c2a7d1b0e4c55"`
	Reason      string    `json:"reason"`
	Approvers   []string  `json:"approver_roles" doc:"Roles that may decide"`
	ExpiresIn   string    `json:"expires_in" example:"24h0m0s" doc:"How long until the request expires undecided"`
	ExpiresAt   time.Time `json:"expires_at" doc:"When the request expires undecided"`
	DecisionURL string    `json:"decision_url" doc:"POST a decision here (GET /approvals lists what you may decide)"`
	ArgsHash    string    `json:"args_hash" doc:"Quote it in the decision"`
	RequestedAt time.Time `json:"requested_at"`
}

// executionResponse answers 200 with a call's result, or 202 with where it stands.
func executionResponse(res *ExecResult) *ExecuteResponse {
	out := &ExecuteResponse{Status: http.StatusOK, Body: ExecutionBody{Tool: res.Tool, Status: res.Status,
		WorkflowID: res.WorkflowID, FollowURL: "/executions/" + res.WorkflowID}}
	if res.Status == StatusCompleted {
		out.Body.Result, out.Body.Redacted, out.Body.DurationMS = res.Output, res.Redacted, res.DurationMS
		out.Body.IsError = res.IsError
		for _, c := range res.Content {
			out.Body.Content = append(out.Body.Content, ContentBlock(c))
		}
		return out
	}
	out.Status = http.StatusAccepted
	if r := res.Approval; r != nil {
		out.Body.Approval = &PendingApproval{ID: r.ID, Reason: r.Reason, Approvers: r.ApproverRoles,
			ExpiresIn: expiresIn(r.ExpiresAt), ExpiresAt: r.ExpiresAt,
			DecisionURL: "/approvals/" + r.ID + "/decision", ArgsHash: r.ArgsHash, RequestedAt: r.RequestedAt}
	}
	return out
}

// expiresIn is how long until a request for approval expires, to the second.
func expiresIn(at time.Time) string { return time.Until(at).Round(time.Second).String() }

func addToolRoutes(api huma.API, deps Deps) {
	httpapi.AddToolList(api, deps.Tools)

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
		if err := toolcall.Authorize(deps.Tools.Authz, p, e.Tool); err != nil {
			return nil, problem(err)
		}
		return &getToolOutput{Body: httpapi.NewToolInfo(e, deps.Catalog.Live(e.Domain.Config.Name))}, nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "execute-tool",
		Method:      http.MethodPost,
		Path:        "/execute",
		Summary:     "Execute a tool",
		Description: "Authorizes, validates, audits and runs one tool call through Temporal on the tool's domain " +
			"queue, and returns its result. 422 lists each invalid argument; 403 when the caller may not use " +
			"the tool; 404 for an unknown tool or a thing the tool did not find; 503 when the domain has no " +
			"running worker; 502/504 when the backend failed or did not answer in time. A tool that needs a " +
			"person's approval answers 202 at once with status pending_approval, the approval (recorded: it can " +
			"be decided at once) and a follow_url; it never hangs.",
		Tags: []string{"Tools"},
		Responses: map[string]*huma.Response{
			"202": httpapi.JSONResponse[ExecutionBody](api, "The call waits for a person's approval (status pending_approval); nothing has run. "+
				"Rarely, status running: the run has not recorded its request yet; follow it."),
		},
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
		return executionResponse(res), nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "get-execution",
		Method:      http.MethodGet,
		Path:        "/executions/{id}",
		Summary:     "Follow a tool call",
		Description: "The outcome of a call made with POST /execute: 200 with the result once it ran; 202 while it " +
			"waits for approval (status pending_approval, with the approval) or runs (status running); 409 when a " +
			"person rejected it or the request expired, and the errors of POST /execute when it failed. Only the " +
			"caller who made it may follow it.",
		Tags: []string{"Tools"},
		Responses: map[string]*huma.Response{
			"202": httpapi.JSONResponse[ExecutionBody](api, "The call waits for a person's approval (status pending_approval) or runs (status running)"),
		},
		Errors: []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusConflict, http.StatusBadGateway},
	}, func(ctx context.Context, in *struct {
		ID string `path:"id" maxLength:"100" pattern:"^tool-[0-9a-f-]+$" doc:"workflow_id of the call"`
	}) (*ExecuteResponse, error) {
		p, err := httpapi.Principal(ctx)
		if err != nil {
			return nil, err
		}
		res, err := deps.Executor.Follow(ctx, p, in.ID)
		if err != nil {
			return nil, problem(err)
		}
		return executionResponse(res), nil
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

// problem turns a tool-call error into RFC 9457 problem details, each argument problem with its
// location in the request body.
func problem(err error) error {
	var te *toolcall.Error
	if !errors.As(err, &te) {
		return huma.Error500InternalServerError("the tool call failed unexpectedly")
	}
	details := make([]error, 0, len(te.Problems))
	for _, p := range te.Problems {
		loc := "body.arguments"
		switch p.Field {
		case toolcall.ToolField:
			loc = "body.tool"
		case "":
		default:
			loc += "." + p.Field
		}
		details = append(details, &huma.ErrorDetail{Location: loc, Message: p.Message})
	}
	return huma.NewError(te.HTTPStatus(), te.Message, details...)
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
