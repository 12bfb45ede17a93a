// Package workflows holds the platform's Temporal workflows: ChatTurn (one chat turn) and
// ToolRun (one tool call made outside a chat, by POST /execute or MCP tools/call). Workflow code
// is deterministic: it reads no configuration, clock or network except through Temporal.
package workflows

import (
	"cmp"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"mcp-platform/activities"
	"mcp-platform/internal/approvals"
	"mcp-platform/toolcall"
)

// ToolRunInput is one tool call to run on its domain's task queue.
type ToolRunInput struct {
	Call   activities.ExecuteToolInput `json:"call"`
	Policy toolcall.Policy             `json:"policy"`
	// Summary is shown for the activity in the Temporal UI (arguments redacted).
	Summary string `json:"summary"`
	// Approval is set when a person must approve the call first; Domain and Sensitive
	// describe the call to approvers.
	Approval  *toolcall.ApprovalPlan `json:"approval,omitempty"`
	Domain    string                 `json:"domain,omitempty"`
	Sensitive []string               `json:"sensitive,omitempty"`
	// Version is the workflow code version the starter asked for (CurrentVersion for today's
	// servers; 0 for runs started before versions were given).
	Version int `json:"version,omitempty"`
}

// ToolRunResult is the tool's result, or why it did not run.
type ToolRunResult struct {
	Result activities.ExecuteToolResult `json:"result"`
	// Status is "ok", or approvals.StatusRejected / StatusExpired when a person did not
	// approve the call; Error then says so.
	Status   string `json:"status"`
	Error    string `json:"error,omitempty"`
	Approver string `json:"approver,omitempty"`
}

// ToolRunWorkflowID is the ID of a tool run: "tool-<request id>".
func ToolRunWorkflowID(requestID string) string { return "tool-" + requestID }

// ToolRun executes one tool call through the ExecuteTool activity, with the tool's timeout and
// retry policy, after a person approved it when it needs approval. Its errors are the
// activity's: denied, invalid and not-found calls fail at once.
func ToolRun(ctx workflow.Context, in ToolRunInput) (ToolRunResult, error) {
	summary := cmp.Or(in.Summary, in.Call.Tool)
	if in.Approval != nil {
		refused, err := awaitApproval(ctx, &in, summary)
		if err != nil {
			return ToolRunResult{}, err
		}
		if refused != nil {
			return *refused, nil
		}
	}
	workflow.SetCurrentDetails(ctx, "**running** · "+summary)
	ctx = workflow.WithActivityOptions(ctx, ToolActivityOptions(in.Policy, in.Summary))
	var res activities.ExecuteToolResult
	if err := workflow.ExecuteActivity(ctx, toolExecutor.ExecuteTool, in.Call).Get(ctx, &res); err != nil {
		return ToolRunResult{}, err
	}
	return ToolRunResult{Result: res, Status: "ok", Approver: in.Call.Approver}, nil
}

// awaitApproval asks for the approval of the run's call and waits for it. An approved call
// gets its approver and signed decision in in.Call; a rejected or expired one returns the
// run's result.
func awaitApproval(ctx workflow.Context, in *ToolRunInput, summary string) (*ToolRunResult, error) {
	book, err := newApprovalBook(ctx, localBookkeeping(ctx, in.Version))
	if err != nil {
		return nil, err
	}
	book.changed = func(ctx workflow.Context) {
		if waiting := book.waiting(); len(waiting) > 0 {
			var b strings.Builder
			b.WriteString("**awaiting approval**")
			writeWaiting(&b, waiting)
			workflow.SetCurrentDetails(ctx, b.String())
		}
	}
	call := toolcall.PlannedCall{ID: in.Call.ToolCallID, Tool: in.Call.Tool, Domain: in.Domain, Args: in.Call.Args,
		Sensitive: in.Sensitive, Summary: in.Summary}
	decision, err := book.await(ctx, activities.RequestApprovalInput{
		Plan: *in.Approval, WorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID, ToolCallID: in.Call.ToolCallID,
		Call: call, Requester: in.Call.Principal,
	})
	if err != nil {
		return nil, err
	}
	if decision.status != approvals.StatusApproved {
		workflow.SetCurrentDetails(ctx, "**"+decision.describe()+"** · "+summary)
		return &ToolRunResult{Status: decision.status, Error: decision.refusal(call).Error, Approver: decision.approver}, nil
	}
	in.Call.Approver, in.Call.Decision = decision.approver, decision.assertion
	return nil, nil
}

// ToolHeartbeatTimeout is how long a tool activity may go without a heartbeat before Temporal
// retries it on another worker.
const ToolHeartbeatTimeout = 10 * time.Second

// ToolActivityOptions schedules a tool activity on its domain's queue with its policy.
func ToolActivityOptions(p toolcall.Policy, summary string) workflow.ActivityOptions {
	return workflow.ActivityOptions{
		TaskQueue:           p.TaskQueue,
		StartToCloseTimeout: p.Timeout,
		// Heartbeats let a call on a worker that died be retried elsewhere within seconds.
		HeartbeatTimeout: ToolHeartbeatTimeout,
		RetryPolicy:      p.RetryPolicy(),
		Summary:          summary,
	}
}
