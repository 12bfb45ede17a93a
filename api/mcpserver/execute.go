package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"mcp-platform/activities"
	"mcp-platform/authz"
	"mcp-platform/domains"
	"mcp-platform/domains/policy"
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

// ExecResult is a tool call's result, or the approval it waits for.
type ExecResult struct {
	activities.ExecuteToolResult
	WorkflowID string
	// Pending is set when the call waits for a person's approval; it has not run yet.
	Pending *activities.ApprovalPlan
	// Status is "completed", or "running" for a followed call that has not finished.
	Status string
}

// Follow returns the outcome of a call p made earlier (admins may follow anyone's): its result,
// or Status "running" while it waits for approval or runs.
func (x *Executor) Follow(ctx context.Context, p authz.Principal, workflowID string) (*ExecResult, error) {
	desc, err := x.Temporal.DescribeWorkflowExecution(ctx, workflowID, "")
	if err != nil {
		return nil, &ExecError{Status: http.StatusNotFound, Type: activities.ErrTypeNotFound, Message: "no tool call " + workflowID}
	}
	info := desc.GetWorkflowExecutionInfo()
	var owner string
	if f := info.GetSearchAttributes().GetIndexedFields()[temporalx.UserID.GetName()]; f != nil {
		_ = converter.GetDefaultDataConverter().FromPayload(f, &owner)
	}
	if owner != p.Subject && !p.HasRole("admin") {
		return nil, &ExecError{Status: http.StatusNotFound, Type: activities.ErrTypeNotFound, Message: "no tool call " + workflowID}
	}
	var tools []string
	if f := info.GetSearchAttributes().GetIndexedFields()[temporalx.Tools.GetName()]; f != nil {
		_ = converter.GetDefaultDataConverter().FromPayload(f, &tools)
	}
	tool := strings.Join(tools, ",")
	if info.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		return &ExecResult{ExecuteToolResult: activities.ExecuteToolResult{Tool: tool}, WorkflowID: workflowID, Status: "running"}, nil
	}
	return x.result(ctx, tool, domains.DomainOf(tool), x.Temporal.GetWorkflow(ctx, workflowID, ""))
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
	if err := policy.ValidateArgs(tool, args); err != nil {
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
	const toolCallID = "call-1"
	plan := activities.PlanApproval(x.Authz, tool, args, p, id, toolCallID)
	summary := activities.Summary(tool.Name, args, dom.Sensitive(tool))
	// The whole run is bounded, so a worker that dies mid-call cannot leave it pending forever.
	bound := time.Duration(max(policy.MaxAttempts, 1))*(policy.Timeout+policy.MaxInterval) + 30*time.Second
	runBound := bound
	if plan != nil {
		runBound += plan.Timeout
	}
	run, err := x.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                policy.TaskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowExecutionTimeout: runBound,
		StaticSummary:            summary,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			temporalx.UserID.ValueSet(p.Subject),
			temporalx.Domains.ValueSet([]string{dom.Name}),
			temporalx.Tools.ValueSet([]string{tool.Name}),
		),
	}, workflows.ToolRun, workflows.ToolRunInput{
		Call:     activities.ExecuteToolInput{Principal: p, Tool: tool.Name, Args: args, ToolCallID: toolCallID},
		Policy:   policy,
		Summary:  summary,
		Approval: plan, Domain: dom.Name, Sensitive: dom.Sensitive(tool),
	})
	if err != nil {
		x.Logger.Error("start tool run failed", "tool", tool.Name, "error", err)
		return nil, &ExecError{Status: http.StatusServiceUnavailable, Type: activities.ErrTypeUnavailable, Message: "the workflow service is unavailable; try again shortly"}
	}
	if plan != nil {
		// Never hang on a person: the caller follows the run and the approval instead.
		return &ExecResult{ExecuteToolResult: activities.ExecuteToolResult{Tool: tool.Name}, WorkflowID: id, Pending: plan}, nil
	}
	wctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	return x.result(wctx, tool.Name, dom.Name, run)
}

// result waits for a tool run and maps its outcome.
func (x *Executor) result(ctx context.Context, tool, domain string, run client.WorkflowRun) (*ExecResult, error) {
	var res workflows.ToolRunResult
	if err := run.Get(ctx, &res); err != nil {
		return nil, x.runError(tool, domain, run.GetID(), err)
	}
	if res.Status != "ok" {
		return nil, &ExecError{Status: http.StatusConflict, Type: res.Status, Message: res.Error}
	}
	return &ExecResult{ExecuteToolResult: res.Result, WorkflowID: run.GetID(), Status: "completed"}, nil
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
