// Package activities holds the platform's Temporal activities: tool execution (on each
// domain's task queue), and the LLM and history activities of chat turns (on the orchestrator
// queue). Activities are methods of structs with injected dependencies.
package activities

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"mcp-platform/authz"
	"mcp-platform/domains"
	"mcp-platform/domains/policy"
	"mcp-platform/internal/audit"
	"mcp-platform/internal/redact"
)

// Error types of tool activity failures. The first four are the caller's mistakes and are never
// retried; the LLM sees them as tool results it can correct.
const (
	ErrTypeDenied      = "denied"
	ErrTypeInvalid     = "invalid"
	ErrTypeNotFound    = "not_found"
	ErrTypeConflict    = "conflict"
	ErrTypeUnavailable = "unavailable"
)

// NonRetryableErrorTypes lists the error types a tool activity must not retry.
var NonRetryableErrorTypes = []string{ErrTypeDenied, ErrTypeInvalid, ErrTypeNotFound, ErrTypeConflict}

// ToolExecutor runs the tools of one domain. It is the only way a tool runs: chat turns,
// POST /execute and MCP tools/call all reach it through Temporal on the domain's task queue.
type ToolExecutor struct {
	Domain  *domains.Config
	Adapter domains.Adapter
	Authz   *authz.Enforcer
	Audit   *audit.Log
	Logger  *slog.Logger
}

// ExecuteToolInput is one tool call.
type ExecuteToolInput struct {
	Principal authz.Principal `json:"principal"`
	Tool      string          `json:"tool"`
	Args      map[string]any  `json:"args"`
	// ToolCallID identifies the call within its workflow; with the workflow ID it forms the
	// idempotency key, so a retried activity never repeats a side effect.
	ToolCallID string `json:"tool_call_id"`
	// Approver is who approved the call, when it needed approval.
	Approver string `json:"approver,omitempty"`
}

// ExecuteToolResult is a successful tool call's result.
type ExecuteToolResult struct {
	Tool   string `json:"tool"`
	Output any    `json:"output"`
	// Redacted is true when sensitive fields were masked because the caller may not see them.
	Redacted   bool  `json:"redacted,omitempty"`
	DurationMS int64 `json:"duration_ms"`
}

// ToolErrorDetails travel with a failed tool activity so callers can show what went wrong.
type ToolErrorDetails struct {
	Problems []domains.Problem `json:"problems,omitempty"`
}

// ExecuteTool authorizes, validates, audits and executes one tool call: the pipeline of
// DESIGN section 3. Denied, invalid and not-found calls fail with non-retryable application
// errors of the matching type; backend failures fail with retryable ones.
func (x *ToolExecutor) ExecuteTool(ctx context.Context, in ExecuteToolInput) (ExecuteToolResult, error) {
	start := time.Now()
	info := activity.GetInfo(ctx)
	entry := audit.Entry{
		UserID:     in.Principal.Subject,
		Roles:      in.Principal.Roles,
		Tool:       in.Tool,
		Domain:     x.Domain.Name,
		Params:     in.Args,
		WorkflowID: info.WorkflowExecution.ID,
		RunID:      info.WorkflowExecution.RunID,
		ToolCallID: in.ToolCallID,
		Approver:   in.Approver,
	}
	tool := x.Domain.Tool(in.Tool)
	if tool != nil {
		entry.Sensitive = x.Domain.Sensitive(tool)
	}
	finish := func(outcome audit.Outcome, msg string, result any) {
		entry.Outcome, entry.Error, entry.Result, entry.Duration = outcome, msg, result, time.Since(start)
		// The audit row must not be lost to a cancelled activity context.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, err := x.Audit.Record(actx, entry); err != nil {
			x.Logger.Error("audit write failed", "tool", in.Tool, "error", err)
		}
	}

	if in.Principal.Subject == "" {
		finish(audit.OutcomeDenied, "no authenticated principal", nil)
		return ExecuteToolResult{}, temporal.NewNonRetryableApplicationError("no authenticated principal", ErrTypeDenied, nil)
	}
	if tool == nil {
		msg := fmt.Sprintf("unknown tool %q in domain %s", in.Tool, x.Domain.Name)
		finish(audit.OutcomeInvalid, msg, nil)
		return ExecuteToolResult{}, temporal.NewNonRetryableApplicationError(msg, ErrTypeNotFound, nil)
	}
	if !x.Authz.Can(in.Principal, domains.ActionExecute, tool.Name) {
		msg := fmt.Sprintf("%s may not use %s", in.Principal.Subject, tool.Name)
		finish(audit.OutcomeDenied, msg, nil)
		return ExecuteToolResult{}, temporal.NewNonRetryableApplicationError(msg, ErrTypeDenied, nil)
	}
	if err := policy.ValidateArgs(tool, in.Args); err != nil {
		var ve *domains.ValidationError
		details := ToolErrorDetails{}
		if errors.As(err, &ve) {
			details.Problems = ve.Problems
		}
		finish(audit.OutcomeInvalid, err.Error(), nil)
		return ExecuteToolResult{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeInvalid, nil, details)
	}

	stop := keepAlive(ctx)
	out, err := x.Adapter.Call(ctx, domains.Call{
		Tool:           tool.Name,
		Args:           in.Args,
		IdempotencyKey: IdempotencyKey(info.WorkflowExecution.ID, in.ToolCallID, info.ActivityID),
		Subject:        in.Principal.Subject,
	})
	stop()
	if err != nil {
		return ExecuteToolResult{}, x.failure(err, finish)
	}
	finish(audit.OutcomeSucceeded, "", out)

	res := ExecuteToolResult{Tool: tool.Name, Output: out, DurationMS: time.Since(start).Milliseconds()}
	if !x.Authz.Can(in.Principal, domains.ActionReadSensitive, tool.Name) {
		res.Output = redact.Value(out, x.Domain.Sensitive(tool)...)
		res.Redacted = true
	}
	return res, nil
}

// failure audits an adapter error and turns it into the activity error of the right type.
func (x *ToolExecutor) failure(err error, finish func(audit.Outcome, string, any)) error {
	var de *domains.Error
	if !errors.As(err, &de) {
		x.Logger.Warn("tool backend failed; will retry", "domain", x.Domain.Name, "error", redact.String(err.Error()))
		finish(audit.OutcomeFailed, "backend error", nil)
		return temporal.NewApplicationError("the "+x.Domain.Name+" backend failed", ErrTypeUnavailable)
	}
	finish(audit.OutcomeFailed, de.Message, nil)
	switch de.Code {
	case domains.CodeNotFound:
		return temporal.NewNonRetryableApplicationError(de.Message, ErrTypeNotFound, nil)
	case domains.CodeInvalid:
		return temporal.NewNonRetryableApplicationError(de.Message, ErrTypeInvalid, nil)
	case domains.CodeConflict:
		return temporal.NewNonRetryableApplicationError(de.Message, ErrTypeConflict, nil)
	case domains.CodeDenied:
		return temporal.NewNonRetryableApplicationError(de.Message, ErrTypeDenied, nil)
	default:
		if de.Err != nil {
			x.Logger.Warn("tool backend failed; will retry", "domain", x.Domain.Name, "error", redact.String(de.Err.Error()))
		}
		return temporal.NewApplicationError(de.Message, ErrTypeUnavailable)
	}
}

// IdempotencyKey is the key adapters use to recognise a retried call: the workflow ID and the
// tool call ID (or, lacking one, the activity ID), both stable across retries.
func IdempotencyKey(workflowID, toolCallID, activityID string) string {
	if toolCallID == "" {
		toolCallID = activityID
	}
	return workflowID + "/" + toolCallID
}

// ToolPolicy is how the activity of one tool is scheduled: its task queue, timeout and retry
// policy, from the domain configuration. Workflows receive it in their input (they may not read
// configuration themselves).
type ToolPolicy struct {
	TaskQueue       string        `json:"task_queue"`
	Timeout         time.Duration `json:"timeout"`
	MaxAttempts     int32         `json:"max_attempts"`
	InitialInterval time.Duration `json:"initial_interval"`
	MaxInterval     time.Duration `json:"max_interval"`
	Backoff         float64       `json:"backoff"`
}

// PolicyFor derives a tool's activity policy from its domain's configuration.
func PolicyFor(cfg *domains.Config, t *domains.Tool) ToolPolicy {
	return ToolPolicy{
		TaskQueue:       cfg.TaskQueue,
		Timeout:         cfg.ToolTimeout(t),
		MaxAttempts:     int32(cfg.Retry.MaxAttempts),
		InitialInterval: cfg.Retry.InitialInterval.Std(),
		MaxInterval:     cfg.Retry.MaxInterval.Std(),
		Backoff:         cfg.Retry.BackoffFactor,
	}
}

// RetryPolicy is the Temporal retry policy of the tool's activity.
func (p ToolPolicy) RetryPolicy() *temporal.RetryPolicy {
	return &temporal.RetryPolicy{
		InitialInterval:        p.InitialInterval,
		BackoffCoefficient:     p.Backoff,
		MaximumInterval:        p.MaxInterval,
		MaximumAttempts:        p.MaxAttempts,
		NonRetryableErrorTypes: NonRetryableErrorTypes,
	}
}
