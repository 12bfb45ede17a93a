// Package activities holds the platform's Temporal activities: tool execution (on each
// domain's task queue), and the LLM and history activities of chat turns (on the orchestrator
// queue). Activities are methods of structs with injected dependencies.
package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.temporal.io/sdk/activity"

	"mcp-platform/authz"
	"mcp-platform/domains"
	"mcp-platform/internal/audit"
	"mcp-platform/internal/progress"
	"mcp-platform/internal/redact"
	"mcp-platform/toolcall"
)

// ToolExecutor runs the tools of one domain. It is the only way a tool runs: chat turns,
// POST /execute and MCP tools/call all reach it through Temporal on the domain's task queue.
type ToolExecutor struct {
	Domain  *domains.Config
	Adapter domains.Adapter
	Authz   *authz.Enforcer
	Audit   *audit.Log
	// Trust verifies the front ends' signed statements of the caller and of approvals; nil
	// only in unit tests.
	Trust *authz.Keyring
	// Progress records the progress of calls whose caller follows it (ExecuteToolInput.Progress);
	// nil: no progress is recorded.
	Progress *progress.Store
	Logger   *slog.Logger
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
	// Assertion is the front end's signed statement of Principal for this workflow, and
	// Decision the signed approval of a call that needed one: the worker acts on these, never
	// on Principal and Approver alone.
	Assertion string `json:"assertion,omitempty"`
	Decision  string `json:"decision,omitempty"`
	// Progress asks for the call's progress to be recorded under progress.Key(workflow ID,
	// ToolCallID), for a caller that follows it (an MCP client with a progress token).
	Progress bool `json:"progress,omitempty"`
}

// ExecuteToolResult is a successful tool call's result.
type ExecuteToolResult struct {
	Tool string `json:"tool"`
	// Output is the structured result (a domain of kind mcp: its structuredContent, or nil).
	Output any `json:"output"`
	// Content are the MCP content blocks of a tool of a domain of kind mcp, in their wire
	// form, redacted like Output; IsError is the tool's own report that it failed.
	Content []domains.Content `json:"content,omitempty"`
	IsError bool              `json:"is_error,omitempty"`
	// Redacted is true when sensitive fields were masked because the caller may not see them.
	Redacted   bool  `json:"redacted,omitempty"`
	DurationMS int64 `json:"duration_ms"`
}

// ExecuteTool re-checks (toolcall.Check), audits and executes one tool call on the domain's
// own worker: the authoritative step of the pipeline of DESIGN section 3. Denied, invalid and
// not-found calls fail with non-retryable application errors of their toolcall.Code; backend
// failures fail with retryable ones.
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
	var attempt int64 // the "started" row of a call that runs
	finish := func(outcome audit.Outcome, msg string, result any) {
		entry.Outcome, entry.Error, entry.Result, entry.Duration = outcome, msg, result, time.Since(start)
		// The audit row must not be lost to a cancelled activity context.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		var err error
		if attempt != 0 {
			err = x.Audit.Finish(actx, attempt, entry)
		} else {
			_, err = x.Audit.Record(actx, entry)
		}
		if err != nil {
			x.Logger.ErrorContext(ctx, "audit write failed", "tool", in.Tool, "error", err)
		}
	}

	if x.Trust != nil {
		p, err := x.Trust.VerifyPrincipal(in.Assertion, info.WorkflowExecution.ID, time.Now())
		if err != nil {
			msg := "the caller's identity is not signed by the platform (" + err.Error() + ")"
			x.Logger.WarnContext(ctx, "refused a call with an unsigned identity", "tool", in.Tool, "workflow_id", info.WorkflowExecution.ID, "error", err)
			finish(audit.OutcomeDenied, msg, nil)
			return ExecuteToolResult{}, toolcall.Errorf(toolcall.Denied, "%s", msg).Temporal()
		}
		// Act on what the front end signed, never on what the payload merely says.
		in.Principal = p
		entry.UserID, entry.Roles = p.Subject, p.Roles
	}
	checked, cerr := toolcall.Check(x.Domain, x.Authz, in.Principal, in.Tool, in.Args)
	if cerr == nil {
		cerr = x.checkApproval(info.WorkflowExecution.ID, checked, in, &entry)
	}
	if cerr != nil {
		outcome := audit.OutcomeInvalid
		if cerr.Code == toolcall.Denied {
			outcome = audit.OutcomeDenied
			if in.Approver != "" {
				cerr.Message = "approved by " + in.Approver + ", but not run: " + cerr.Message
			}
		}
		finish(outcome, cerr.Message, nil)
		x.logResult(ctx, in.Tool, info.WorkflowExecution.ID, cerr)
		return ExecuteToolResult{}, cerr.Temporal()
	}
	tool = checked
	if x.Domain.AtMostOnce(tool) {
		if refused := x.unfinished(ctx, info.WorkflowExecution.ID, in.ToolCallID, tool.Name, finish); refused != nil {
			return ExecuteToolResult{}, refused
		}
	}
	// The audit log fails closed: no attempt record, no execution.
	id, err := x.Audit.Begin(ctx, entry)
	if err != nil {
		x.Logger.ErrorContext(ctx, "audit write failed; the call does not run", "tool", tool.Name, "error", err)
		return ExecuteToolResult{}, toolcall.Errorf(toolcall.AuditUnavailable,
			"the audit log is unavailable, so %s did not run; try again shortly", tool.Name).Temporal()
	}
	attempt = id

	call := domains.Call{
		Tool:           tool.Name,
		Args:           in.Args,
		IdempotencyKey: toolcall.IdempotencyKey(info.WorkflowExecution.ID, in.ToolCallID, info.ActivityID),
		Subject:        in.Principal.Subject,
	}
	reporter := x.reporter(ctx, in, &call)
	stop := keepAlive(ctx)
	out, err := x.Adapter.Call(ctx, call)
	stop()
	// The last progress is recorded before the result: a caller never hears of it after.
	reporter.Close()
	if err != nil {
		return ExecuteToolResult{}, x.failure(ctx, err, tool.Name, info.WorkflowExecution.ID, finish)
	}
	res := ExecuteToolResult{Tool: tool.Name, Output: out}
	if r, ok := out.(*domains.Result); ok {
		res.Output, res.Content, res.IsError = r.Structured, r.Content, r.IsError
	}
	if res.IsError {
		// The tool's own report of a failure is its result, which the caller reads.
		finish(audit.OutcomeFailed, clip(ContentText(res.Content)), auditView(out))
	} else {
		finish(audit.OutcomeSucceeded, "", auditView(out))
	}
	res.DurationMS = time.Since(start).Milliseconds()
	if !x.Authz.Can(in.Principal, domains.ActionReadSensitive, tool.Name) {
		sensitive := x.Domain.Sensitive(tool)
		shownOut, shownContent := redact.Value(res.Output, sensitive...), RedactContent(res.Content, sensitive...)
		res.Redacted = masked(res.Output, shownOut) || masked(res.Content, shownContent)
		res.Output, res.Content = shownOut, shownContent
	}
	return res, nil
}

// reporter returns the progress reporter of a call whose caller follows its progress, and
// hands it to the adapter in call; nil when nobody follows it.
func (x *ToolExecutor) reporter(ctx context.Context, in ExecuteToolInput, call *domains.Call) *progress.Reporter {
	if !in.Progress || x.Progress == nil {
		return nil
	}
	r := x.Progress.Reporter(ctx, progress.Key(activity.GetInfo(ctx).WorkflowExecution.ID, in.ToolCallID), x.Logger)
	call.OnProgress = func(p domains.Progress) { r.Report(p.Progress, p.Total, p.Message) }
	return r
}

// unfinished refuses, as OutcomeUnknown, a call that must be sent at most once when an earlier
// attempt of it may have reached the third party: one that began and never finished (its worker
// stopped during the call, or Temporal gave up waiting for it) or that ended as unknown (it timed
// out). Sending the call again could repeat its side effect. The earlier unfinished attempts and
// this one are audited as unknown. A failed audit read refuses the call too (fail closed).
func (x *ToolExecutor) unfinished(ctx context.Context, workflowID, toolCallID, tool string, finish func(audit.Outcome, string, any)) error {
	earlier, ids, err := x.Audit.MayHaveRun(ctx, workflowID, toolCallID, tool)
	if err != nil {
		x.Logger.Error("audit read failed; the call does not run", "tool", tool, "error", err)
		return toolcall.Errorf(toolcall.AuditUnavailable,
			"the audit log is unavailable, so %s did not run; try again shortly", tool).Temporal()
	}
	if earlier == 0 {
		return nil
	}
	msg := fmt.Sprintf("an earlier attempt of this call of %s stopped before it answered and may have reached the %s service; "+
		"it is not sent again because the tool may not be safe to repeat: check in %s whether it took effect", tool, x.Domain.Name, x.Domain.Name)
	for _, id := range ids {
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		err := x.Audit.Finish(actx, id, audit.Entry{Tool: tool, Outcome: audit.OutcomeUnknown,
			Error: "the worker stopped during the call; whether it took effect is unknown"})
		cancel()
		if err != nil {
			x.Logger.Error("audit write failed", "tool", tool, "error", err)
		}
	}
	x.Logger.Warn("not repeating a call that may have reached the backend", "tool", tool, "workflow_id", workflowID)
	finish(audit.OutcomeUnknown, msg, nil)
	return toolcall.Errorf(toolcall.OutcomeUnknown, "%s", msg).Temporal()
}

// masked reports whether redaction changed what a caller of the tool sees: out and shown
// compared in their JSON forms, keys sorted and numbers exact, so that Redacted tells the
// truth for an output without sensitive values.
func masked(out, shown any) bool {
	raw, err := json.Marshal(out)
	if err != nil {
		return true
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var plain any
	if err := dec.Decode(&plain); err != nil {
		return true
	}
	a, errA := json.Marshal(plain)
	b, errB := json.Marshal(shown)
	return errA != nil || errB != nil || !bytes.Equal(a, b)
}

// checkApproval refuses a call that needs a person's approval without a signed decision that
// approves exactly this call (its approval ID and arguments) by someone who may decide it, so
// that starting a workflow directly cannot skip the approval. The audit names the approver
// from the signed decision.
func (x *ToolExecutor) checkApproval(workflowID string, tool *domains.Tool, in ExecuteToolInput, entry *audit.Entry) *toolcall.Error {
	plan := toolcall.PlanApproval(x.Authz, tool, in.Args, in.Principal, workflowID, in.ToolCallID)
	if plan == nil || x.Trust == nil {
		return nil
	}
	decider, d, err := x.Trust.VerifyDecisionSignature(in.Decision, workflowID)
	switch {
	case err != nil:
		return toolcall.Errorf(toolcall.Denied, "%s needs an approval signed by the platform (%v)", tool.Name, err)
	case !d.Approve || d.ApprovalID != plan.ID || d.ArgsHash != plan.ArgsHash:
		return toolcall.Errorf(toolcall.Denied, "the signed approval is not an approval of this call of %s", tool.Name)
	}
	if err := toolcall.MayDecide(decider, tool.Name, in.Principal.Subject, plan.Approvers, plan.AllowSelf); err != nil {
		return toolcall.Errorf(toolcall.Denied, "the approver %s may not approve %s: %s", decider.Subject, tool.Name, err.Message)
	}
	entry.Approver = decider.Subject
	return nil
}

// failure audits an adapter error and turns it into the activity error of its code.
func (x *ToolExecutor) failure(ctx context.Context, err error, tool, workflowID string, finish func(audit.Outcome, string, any)) error {
	e := toolcall.FromDomain(x.Domain.Name, err)
	var de *domains.Error
	switch {
	case !errors.As(err, &de):
		x.Logger.WarnContext(ctx, "tool backend failed; will retry", "domain", x.Domain.Name, "error", redact.String(err.Error()))
		finish(audit.OutcomeFailed, "backend error", nil)
		return e.Temporal()
	case e.Code == toolcall.Unavailable && de.Err != nil:
		x.Logger.WarnContext(ctx, "tool backend failed; will retry", "domain", x.Domain.Name, "error", redact.String(de.Err.Error()))
	case e.Code != toolcall.Unavailable:
		x.logResult(ctx, tool, workflowID, e)
	}
	outcome := audit.OutcomeFailed
	if e.Code == toolcall.OutcomeUnknown {
		outcome = audit.OutcomeUnknown
		x.Logger.Warn("a call that may have reached the backend got no answer; not repeating it", "domain", x.Domain.Name, "tool", tool, "workflow_id", workflowID)
	}
	finish(outcome, de.Message, nil)
	return e.Temporal()
}

// logResult logs, at info, a call that ended with one of the caller's mistakes (not found,
// denied, invalid, conflict): an ordinary result the caller or the LLM acts on, and no fault
// of the platform's.
func (x *ToolExecutor) logResult(ctx context.Context, tool, workflowID string, e *toolcall.Error) {
	x.Logger.InfoContext(ctx, "tool call ended without a result", "tool", tool, "code", e.Code, "workflow_id", workflowID,
		"message", redact.String(e.Message))
}
