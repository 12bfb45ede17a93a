package mcpserver

import (
	"context"
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
	"mcp-platform/internal/temporalx"
	"mcp-platform/toolcall"
	"mcp-platform/workflows"
)

// Executor runs tool calls that arrive outside a chat (POST /execute, MCP tools/call): it plans
// the call through the shared pipeline (toolcall: unknown tool, permission, arguments), refuses
// a domain without workers, and then runs the ToolRun workflow on the domain's task queue,
// where the ExecuteTool activity checks again. Its errors are *toolcall.Error.
type Executor struct {
	Tools *toolcall.Planner
	// Signer vouches for the caller to the domain's worker.
	Signer   *authz.Signer
	Temporal client.Client
	Logger   *slog.Logger
}

// ExecResult is a tool call's result, or the approval it waits for.
type ExecResult struct {
	activities.ExecuteToolResult
	WorkflowID string
	// Pending is set when the call waits for a person's approval; it has not run yet.
	Pending *toolcall.ApprovalPlan
	// Status is "completed", or "running" for a followed call that has not finished.
	Status string
}

// Follow returns the outcome of a call p made earlier (admins may follow anyone's): its result,
// or Status "running" while it waits for approval or runs.
func (x *Executor) Follow(ctx context.Context, p authz.Principal, workflowID string) (*ExecResult, error) {
	notFound := toolcall.Errorf(toolcall.NotFound, "no tool call %s", workflowID)
	desc, err := x.Temporal.DescribeWorkflowExecution(ctx, workflowID, "")
	if err != nil {
		return nil, notFound
	}
	info := desc.GetWorkflowExecutionInfo()
	var owner string
	if f := info.GetSearchAttributes().GetIndexedFields()[temporalx.UserID.GetName()]; f != nil {
		_ = converter.GetDefaultDataConverter().FromPayload(f, &owner)
	}
	if owner != p.Subject && !p.HasRole("admin") {
		return nil, notFound
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
	id := workflows.ToolRunWorkflowID(uuid.NewString())
	const toolCallID = "call-1"
	call, refused := x.Tools.Plan(ctx, toolcall.Request{Principal: p, Tool: toolName, Args: args,
		WorkflowID: id, CallKey: toolCallID})
	if refused != nil {
		if refused.Code == toolcall.NotFound {
			refused.Message += " (GET /tools lists yours)"
		}
		return nil, refused
	}

	policy, plan := call.Policy, call.Approval
	// The whole run is bounded, so a worker that dies mid-call cannot leave it pending forever.
	bound := time.Duration(max(policy.MaxAttempts, 1))*(policy.Timeout+policy.MaxInterval) + 30*time.Second
	runBound := bound
	if plan != nil {
		runBound += plan.Timeout
	}
	assertion, err := x.Signer.SignPrincipal(p, id, runBound+time.Hour)
	if err != nil {
		x.Logger.Error("sign the caller's identity failed", "error", err)
		return nil, &toolcall.Error{Code: toolcall.Unavailable, Status: http.StatusServiceUnavailable, Message: "the platform could not vouch for the caller; try again shortly"}
	}
	run, err := x.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                policy.TaskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowExecutionTimeout: runBound,
		StaticSummary:            call.Summary,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			temporalx.UserID.ValueSet(p.Subject),
			temporalx.Domains.ValueSet([]string{call.Domain}),
			temporalx.Tools.ValueSet([]string{call.Tool}),
		),
	}, workflows.ToolRun, workflows.ToolRunInput{
		Call:     activities.ExecuteToolInput{Principal: p, Tool: call.Tool, Args: call.Args, ToolCallID: toolCallID, Assertion: assertion},
		Policy:   policy,
		Summary:  call.Summary,
		Approval: plan, Domain: call.Domain, Sensitive: call.Sensitive,
	})
	if err != nil {
		x.Logger.Error("start tool run failed", "tool", call.Tool, "error", err)
		return nil, &toolcall.Error{Code: toolcall.Unavailable, Status: http.StatusServiceUnavailable, Message: "the workflow service is unavailable; try again shortly"}
	}
	if plan != nil {
		// Never hang on a person: the caller follows the run and the approval instead.
		return &ExecResult{ExecuteToolResult: activities.ExecuteToolResult{Tool: call.Tool}, WorkflowID: id, Pending: plan}, nil
	}
	wctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	return x.result(wctx, call.Tool, call.Domain, run)
}

// result waits for a tool run and maps its outcome.
func (x *Executor) result(ctx context.Context, tool, domain string, run client.WorkflowRun) (*ExecResult, error) {
	var res workflows.ToolRunResult
	if err := run.Get(ctx, &res); err != nil {
		if e := toolcall.FromTemporal(tool, domain, run.GetID(), err); e != nil {
			return nil, e
		}
		x.Logger.Error("tool run failed", "tool", tool, "workflow_id", run.GetID(), "error", err)
		return nil, toolcall.Errorf(toolcall.Unavailable, "%s failed; see run %s", tool, run.GetID())
	}
	if res.Status != "ok" {
		return nil, &toolcall.Error{Code: toolcall.Code(res.Status), Message: res.Error}
	}
	return &ExecResult{ExecuteToolResult: res.Result, WorkflowID: run.GetID(), Status: "completed"}, nil
}
