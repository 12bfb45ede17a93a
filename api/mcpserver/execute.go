package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/google/uuid"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"mcp-platform/activities"
	"mcp-platform/authz"
	"mcp-platform/domains"
	"mcp-platform/domains/registry"
	"mcp-platform/internal/audit"
	"mcp-platform/internal/temporalx"
	"mcp-platform/workflows"
)

// Executor runs tool calls that arrive outside a chat (POST /execute, MCP tools/call): it
// checks what it can before involving Temporal (unknown tool, permission, parameters, a domain
// without workers) and then runs the ToolRun workflow on the domain's task queue, where the
// ExecuteTool activity checks again.
type Executor struct {
	Catalog  *registry.Catalog
	Authz    *authz.Enforcer
	Audit    *audit.Log
	Temporal client.Client
	Logger   *slog.Logger
}

// ExecError is a tool call that did not produce a result: what HTTP status and MCP error it maps
// to, and a message safe to show the caller.
type ExecError struct {
	Status   int
	Type     string
	Message  string
	Problems []domains.Problem
}

func (e *ExecError) Error() string { return e.Message }

// ExecResult is a tool call's result.
type ExecResult struct {
	activities.ExecuteToolResult
	WorkflowID string
}

// Execute runs one tool call for p and waits for its result.
func (x *Executor) Execute(ctx context.Context, p authz.Principal, toolName string, args map[string]any) (*ExecResult, error) {
	entry, ok := x.Catalog.Lookup(toolName)
	if !ok {
		return nil, &ExecError{Status: http.StatusNotFound, Type: activities.ErrTypeNotFound, Message: fmt.Sprintf("no tool named %q (GET /tools lists yours)", toolName)}
	}
	tool, dom := entry.Tool, entry.Domain.Config
	rec := audit.Entry{UserID: p.Subject, Roles: p.Roles, Tool: tool.Name, Domain: dom.Name, Params: args, Sensitive: dom.Sensitive(tool)}
	if !x.Authz.Can(p, domains.ActionExecute, tool.Name) {
		rec.Outcome, rec.Error = audit.OutcomeDenied, fmt.Sprintf("%s may not use %s", p.Subject, tool.Name)
		x.record(ctx, rec)
		return nil, &ExecError{Status: http.StatusForbidden, Type: activities.ErrTypeDenied,
			Message: fmt.Sprintf("you are not allowed to use %s (your roles: %v)", tool.Name, p.Roles)}
	}
	if err := tool.ValidateArgs(args); err != nil {
		var ve *domains.ValidationError
		e := &ExecError{Status: http.StatusUnprocessableEntity, Type: activities.ErrTypeInvalid, Message: err.Error()}
		if errors.As(err, &ve) {
			e.Problems = ve.Problems
		}
		rec.Outcome, rec.Error = audit.OutcomeInvalid, err.Error()
		x.record(ctx, rec)
		return nil, e
	}
	if !x.Catalog.Live(dom.Name) {
		return nil, &ExecError{Status: http.StatusServiceUnavailable, Type: activities.ErrTypeUnavailable,
			Message: fmt.Sprintf("the %s domain has no running worker; start one with `mcp-platform worker -domains %s`", dom.Name, dom.Name)}
	}

	policy := activities.PolicyFor(dom, tool)
	id := workflows.ToolRunWorkflowID(uuid.NewString())
	summary := activities.Summary(tool.Name, args, dom.Sensitive(tool))
	// The whole run is bounded, so a worker that dies mid-call cannot leave it pending forever.
	bound := time.Duration(max(policy.MaxAttempts, 1))*(policy.Timeout+policy.MaxInterval) + 30*time.Second
	run, err := x.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                policy.TaskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowExecutionTimeout: bound,
		StaticSummary:            summary,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			temporalx.UserID.ValueSet(p.Subject),
			temporalx.Domains.ValueSet([]string{dom.Name}),
			temporalx.Tools.ValueSet([]string{tool.Name}),
		),
	}, workflows.ToolRun, workflows.ToolRunInput{
		Call:    activities.ExecuteToolInput{Principal: p, Tool: tool.Name, Args: args, ToolCallID: "call-1"},
		Policy:  policy,
		Summary: summary,
	})
	if err != nil {
		x.Logger.Error("start tool run failed", "tool", tool.Name, "error", err)
		return nil, &ExecError{Status: http.StatusServiceUnavailable, Type: activities.ErrTypeUnavailable, Message: "the workflow service is unavailable; try again shortly"}
	}
	wctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	var res workflows.ToolRunResult
	if err := run.Get(wctx, &res); err != nil {
		return nil, x.runError(tool.Name, dom.Name, id, err)
	}
	return &ExecResult{ExecuteToolResult: res.Result, WorkflowID: id}, nil
}

// runError maps a failed tool run to the caller's error.
func (x *Executor) runError(tool, domain, id string, err error) *ExecError {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		e := &ExecError{Type: appErr.Type(), Message: appErr.Message()}
		switch appErr.Type() {
		case activities.ErrTypeDenied:
			e.Status = http.StatusForbidden
		case activities.ErrTypeInvalid:
			e.Status = http.StatusUnprocessableEntity
			var d activities.ToolErrorDetails
			if appErr.HasDetails() && appErr.Details(&d) == nil {
				e.Problems = d.Problems
			}
		case activities.ErrTypeNotFound:
			e.Status = http.StatusNotFound
		case activities.ErrTypeConflict:
			e.Status = http.StatusConflict
		default:
			e.Status, e.Type = http.StatusBadGateway, activities.ErrTypeUnavailable
			e.Message = fmt.Sprintf("%s failed after retries: %s", tool, appErr.Message())
		}
		return e
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return &ExecError{Status: http.StatusGatewayTimeout, Type: activities.ErrTypeUnavailable,
			Message: fmt.Sprintf("%s did not finish in time; its run %s may still complete (see the Temporal UI)", tool, id)}
	}
	var timeoutErr *temporal.TimeoutError
	if errors.As(err, &timeoutErr) {
		return &ExecError{Status: http.StatusGatewayTimeout, Type: activities.ErrTypeUnavailable,
			Message: fmt.Sprintf("%s timed out: the %s domain did not answer in time", tool, domain)}
	}
	x.Logger.Error("tool run failed", "tool", tool, "workflow_id", id, "error", err)
	return &ExecError{Status: http.StatusBadGateway, Type: activities.ErrTypeUnavailable, Message: fmt.Sprintf("%s failed; see run %s", tool, id)}
}

func (x *Executor) record(ctx context.Context, e audit.Entry) {
	if _, err := x.Audit.Record(context.WithoutCancel(ctx), e); err != nil {
		x.Logger.Error("audit write failed", "tool", e.Tool, "error", err)
	}
}
