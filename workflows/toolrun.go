// Package workflows holds the platform's Temporal workflows: ChatTurn (one chat turn) and
// ToolRun (one tool call made outside a chat, by POST /execute or MCP tools/call). Workflow code
// is deterministic: it reads no configuration, clock or network except through Temporal.
package workflows

import (
	"go.temporal.io/sdk/workflow"

	"mcp-platform/activities"
)

// ToolRunInput is one tool call to run on its domain's task queue.
type ToolRunInput struct {
	Call   activities.ExecuteToolInput `json:"call"`
	Policy activities.ToolPolicy       `json:"policy"`
	// Summary is shown for the activity in the Temporal UI (arguments redacted).
	Summary string `json:"summary"`
}

// ToolRunResult is the tool's result.
type ToolRunResult struct {
	Result activities.ExecuteToolResult `json:"result"`
}

// ToolRunWorkflowID is the ID of a tool run: "tool-<request id>".
func ToolRunWorkflowID(requestID string) string { return "tool-" + requestID }

// ToolRun executes one tool call through the ExecuteTool activity, with the tool's timeout and
// retry policy. Its errors are the activity's: denied, invalid and not-found calls fail at once.
func ToolRun(ctx workflow.Context, in ToolRunInput) (ToolRunResult, error) {
	ctx = workflow.WithActivityOptions(ctx, ToolActivityOptions(in.Policy, in.Summary))
	var x *activities.ToolExecutor
	var res activities.ExecuteToolResult
	if err := workflow.ExecuteActivity(ctx, x.ExecuteTool, in.Call).Get(ctx, &res); err != nil {
		return ToolRunResult{}, err
	}
	return ToolRunResult{Result: res}, nil
}

// ToolActivityOptions schedules a tool activity on its domain's queue with its policy.
func ToolActivityOptions(p activities.ToolPolicy, summary string) workflow.ActivityOptions {
	return workflow.ActivityOptions{
		TaskQueue:           p.TaskQueue,
		StartToCloseTimeout: p.Timeout,
		RetryPolicy:         p.RetryPolicy(),
		Summary:             summary,
	}
}
