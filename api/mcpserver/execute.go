package mcpserver

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	enumspb "go.temporal.io/api/enums/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"mcp-platform/activities"
	"mcp-platform/authz"
	"mcp-platform/domains"
	"mcp-platform/internal/approvals"
	"mcp-platform/internal/progress"
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
	// Approvals is where runs record their requests for approval; Execute answers a call that
	// needs one only once it is there, and Follow reads it.
	Approvals *approvals.Store
	// ApprovalWait bounds how long Execute waits for a run to record its request for approval
	// (DefaultApprovalWait when zero).
	ApprovalWait time.Duration
	// Progress follows the progress of calls whose caller asked for it (MCP progress tokens);
	// nil: no progress is forwarded.
	Progress *progress.Hub
	Logger   *slog.Logger
}

// DefaultApprovalWait is how long Execute waits, at most, for a run to record its request for
// approval. The run's first activity records it, usually within a tenth of a second.
const DefaultApprovalWait = 10 * time.Second

// Statuses of a tool call made outside a chat.
const (
	// StatusCompleted: the call ran; the result is there.
	StatusCompleted = "completed"
	// StatusPendingApproval: the call waits for a person's decision on its (recorded) request.
	StatusPendingApproval = "pending_approval"
	// StatusRunning: the call is starting or running.
	StatusRunning = "running"
)

// ExecResult is a tool call's result, or where it stands.
type ExecResult struct {
	activities.ExecuteToolResult
	WorkflowID string
	// Status is StatusCompleted, StatusPendingApproval or StatusRunning.
	Status string
	// Approval is the request the call waits for (with StatusPendingApproval); nothing has run.
	Approval *approvals.Request
}

// Follow returns the outcome of a call p made earlier (admins may follow anyone's): its result,
// or StatusPendingApproval with the request while it waits for a person, or StatusRunning.
func (x *Executor) Follow(ctx context.Context, p authz.Principal, workflowID string) (*ExecResult, error) {
	run, err := x.find(ctx, p, workflowID)
	if err != nil {
		return nil, err
	}
	return x.outcome(ctx, run)
}

// Run is a tool call's workflow as Temporal describes it.
type Run struct {
	ID   string
	Tool string
	Info *workflowpb.WorkflowExecutionInfo
	// Timeout bounds the whole run (its workflow execution timeout); zero when unbounded.
	Timeout time.Duration
}

// find describes the call workflowID if p made it (admins may see anyone's); for anyone else
// there is no such call.
func (x *Executor) find(ctx context.Context, p authz.Principal, workflowID string) (*Run, error) {
	notFound := toolcall.Errorf(toolcall.NotFound, "no tool call %s", workflowID)
	if !strings.HasPrefix(workflowID, workflows.ToolRunWorkflowID("")) {
		return nil, notFound
	}
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
	return &Run{ID: workflowID, Tool: strings.Join(tools, ","), Info: info,
		Timeout: desc.GetExecutionConfig().GetWorkflowExecutionTimeout().AsDuration()}, nil
}

// outcome is where a described run stands, or its result once it has ended.
func (x *Executor) outcome(ctx context.Context, run *Run) (*ExecResult, error) {
	if run.Info.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		return x.standing(ctx, run.Tool, run.ID)
	}
	return x.result(ctx, run.Tool, domains.DomainOf(run.Tool), x.Temporal.GetWorkflow(ctx, run.ID, ""))
}

// Cancel asks Temporal to cancel p's call workflowID. A call that has ended is left as it is:
// cancelling it again is no error.
func (x *Executor) Cancel(ctx context.Context, p authz.Principal, workflowID string) error {
	run, err := x.find(ctx, p, workflowID)
	if err != nil {
		return err
	}
	if run.Info.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		return nil
	}
	if err := x.Temporal.CancelWorkflow(ctx, workflowID, ""); err != nil {
		x.Logger.Error("cancel a tool run failed", "workflow_id", workflowID, "error", err)
		return toolcall.Errorf(toolcall.Unavailable, "could not cancel %s; try again shortly", workflowID)
	}
	return nil
}

// standing says where a running call stands: waiting for a person on its pending request, or
// running.
func (x *Executor) standing(ctx context.Context, tool, workflowID string) (*ExecResult, error) {
	res := &ExecResult{ExecuteToolResult: activities.ExecuteToolResult{Tool: tool}, WorkflowID: workflowID, Status: StatusRunning}
	r, err := x.Approvals.PendingFor(ctx, workflowID)
	switch {
	case err == nil:
		res.Status, res.Approval = StatusPendingApproval, &r
	case !errors.Is(err, approvals.ErrNotFound):
		x.Logger.ErrorContext(ctx, "read the approval of a tool run failed", "workflow_id", workflowID, "error", err)
		return nil, toolcall.Errorf(toolcall.Unavailable, "could not read where %s stands; try again shortly", workflowID)
	}
	return res, nil
}

// Execute runs one tool call for p and waits for its result (a call that needs approval is
// returned pending as soon as its request is recorded).
func (x *Executor) Execute(ctx context.Context, p authz.Principal, toolName string, args map[string]any) (*ExecResult, error) {
	return x.Submit(ctx, p, toolName, args, 0)
}

// AtOnce, as Submit's detach, returns a call that needs no approval as soon as its run has
// started.
const AtOnce time.Duration = -1

// Submit is Execute waiting at most detach for the result, when detach is positive: a call
// still running then is returned with StatusRunning, for the caller to follow (MCP tasks). With
// AtOnce it does not wait for the result at all.
func (x *Executor) Submit(ctx context.Context, p authz.Principal, toolName string, args map[string]any, detach time.Duration) (*ExecResult, error) {
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
		x.Logger.ErrorContext(ctx, "sign the caller's identity failed", "error", err)
		return nil, &toolcall.Error{Code: toolcall.Unavailable, Status: http.StatusServiceUnavailable, Message: "the platform could not vouch for the caller; try again shortly"}
	}
	// A call waiting for a person answers at once; its progress would reach nobody.
	var follow *progressFollow
	if plan == nil {
		follow = x.followProgress(ctx, id, toolCallID)
		defer follow.stop()
	}
	run, err := x.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                    id,
		TaskQueue:             policy.TaskQueue,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		// Eager where this client is also the domain's worker (dev); a normal start elsewhere.
		EnableEagerStart:         true,
		WorkflowExecutionTimeout: runBound,
		StaticSummary:            call.Summary,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			temporalx.UserID.ValueSet(p.Subject),
			temporalx.Domains.ValueSet([]string{call.Domain}),
			temporalx.Tools.ValueSet([]string{call.Tool}),
		),
	}, workflows.ToolRun, workflows.ToolRunInput{
		Call: activities.ExecuteToolInput{Principal: p, Tool: call.Tool, Args: call.Args, ToolCallID: toolCallID, Assertion: assertion,
			Progress: follow != nil},
		Policy:   policy,
		Summary:  call.Summary,
		Approval: plan, Domain: call.Domain, Sensitive: call.Sensitive,
		Version: workflows.CurrentVersion,
	})
	if err != nil {
		x.Logger.ErrorContext(ctx, "start tool run failed", "tool", call.Tool, "error", err)
		return nil, &toolcall.Error{Code: toolcall.Unavailable, Status: http.StatusServiceUnavailable, Message: "the workflow service is unavailable; try again shortly"}
	}
	if plan != nil {
		// Never hang on a person: the caller follows the run and decides the approval instead,
		// which it can do as soon as it hears of it.
		return x.awaitRecorded(ctx, call.Tool, call.Domain, run, plan.ID)
	}
	if detach == AtOnce {
		return &ExecResult{ExecuteToolResult: activities.ExecuteToolResult{Tool: call.Tool}, WorkflowID: id, Status: StatusRunning}, nil
	}
	if detach <= 0 {
		wctx, cancel := context.WithTimeout(ctx, bound)
		defer cancel()
		return x.result(wctx, call.Tool, call.Domain, run)
	}
	// The caller follows a run not done within detach. The timer decides, not the error of the
	// cut wait: the SDK's own deadline can fire a moment before the context's does.
	type outcome struct {
		res *ExecResult
		err error
	}
	rctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	done := make(chan outcome, 1)
	go func() {
		res, err := x.result(rctx, call.Tool, call.Domain, run)
		done <- outcome{res, err}
	}()
	timer := time.NewTimer(min(bound, detach))
	defer timer.Stop()
	select {
	case o := <-done:
		return o.res, o.err
	case <-timer.C:
		return &ExecResult{ExecuteToolResult: activities.ExecuteToolResult{Tool: call.Tool}, WorkflowID: id, Status: StatusRunning}, nil
	}
}

// awaitRecorded waits, at most ApprovalWait, until the run has recorded its request for
// approval (the ToolRun workflow's first activity does) and returns the call pending on it. A
// run that ends first returns its outcome (its request could not be recorded); one that has not
// recorded it by the deadline is returned as running, for the caller to follow.
func (x *Executor) awaitRecorded(ctx context.Context, tool, domain string, run client.WorkflowRun, approvalID string) (*ExecResult, error) {
	wait := x.ApprovalWait
	if wait <= 0 {
		wait = DefaultApprovalWait
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	ended := make(chan struct{})
	go func() {
		_ = run.Get(wctx, nil)
		close(ended)
	}()
	res := &ExecResult{ExecuteToolResult: activities.ExecuteToolResult{Tool: tool}, WorkflowID: run.GetID(), Status: StatusRunning}
	logged := false
	for delay := 10 * time.Millisecond; ; delay = min(2*delay, 200*time.Millisecond) {
		r, err := x.Approvals.Get(wctx, approvalID)
		if err == nil {
			res.Status, res.Approval = StatusPendingApproval, &r
			return res, nil
		}
		if !errors.Is(err, approvals.ErrNotFound) && wctx.Err() == nil && !logged {
			x.Logger.WarnContext(ctx, "read a request for approval failed; trying again", "approval", approvalID, "error", err)
			logged = true
		}
		select {
		case <-time.After(delay):
			continue
		case <-ended:
			if wctx.Err() == nil {
				return x.result(ctx, tool, domain, run)
			}
		case <-wctx.Done():
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		x.Logger.WarnContext(ctx, "the request for approval was not recorded in time; the caller follows the run", "workflow_id", run.GetID(), "approval", approvalID)
		return res, nil
	}
}

// result waits for a tool run and maps its outcome.
func (x *Executor) result(ctx context.Context, tool, domain string, run client.WorkflowRun) (*ExecResult, error) {
	var res workflows.ToolRunResult
	if err := run.Get(ctx, &res); err != nil {
		if e := toolcall.FromTemporal(tool, domain, run.GetID(), err); e != nil {
			return nil, e
		}
		x.Logger.ErrorContext(ctx, "tool run failed", "tool", tool, "workflow_id", run.GetID(), "error", err)
		return nil, toolcall.Errorf(toolcall.Unavailable, "%s failed; see run %s", tool, run.GetID())
	}
	if res.Status != "ok" {
		return nil, &toolcall.Error{Code: toolcall.Code(res.Status), Message: res.Error}
	}
	return &ExecResult{ExecuteToolResult: res.Result, WorkflowID: run.GetID(), Status: StatusCompleted}, nil
}
