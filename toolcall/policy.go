package toolcall

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"mcp-platform/authz"
	"mcp-platform/domains"
	"mcp-platform/domains/policy"
	"mcp-platform/internal/redact"
)

// Policy is how the activity of one tool is scheduled: its task queue, timeout and retry
// policy, from the domain configuration. Workflows receive it in their input (they may not read
// configuration themselves).
type Policy struct {
	TaskQueue       string        `json:"task_queue"`
	Timeout         time.Duration `json:"timeout"`
	MaxAttempts     int32         `json:"max_attempts"`
	InitialInterval time.Duration `json:"initial_interval"`
	MaxInterval     time.Duration `json:"max_interval"`
	Backoff         float64       `json:"backoff"`
}

// PolicyFor derives a tool's activity policy from its domain's configuration.
func PolicyFor(cfg *domains.Config, t *domains.Tool) Policy {
	return Policy{
		TaskQueue:       cfg.TaskQueue,
		Timeout:         cfg.ToolTimeout(t),
		MaxAttempts:     int32(cfg.Retry.MaxAttempts),
		InitialInterval: cfg.Retry.InitialInterval.Std(),
		MaxInterval:     cfg.Retry.MaxInterval.Std(),
		Backoff:         cfg.Retry.BackoffFactor,
	}
}

// RetryPolicy is the Temporal retry policy of the tool's activity.
func (p Policy) RetryPolicy() *temporal.RetryPolicy {
	return &temporal.RetryPolicy{
		InitialInterval:        p.InitialInterval,
		BackoffCoefficient:     p.Backoff,
		MaximumInterval:        p.MaxInterval,
		MaximumAttempts:        p.MaxAttempts,
		NonRetryableErrorTypes: NonRetryable,
	}
}

// ApprovalPlan is the approval a planned call needs before it runs.
type ApprovalPlan struct {
	ID        string        `json:"id"`
	Reason    string        `json:"reason"`
	Approvers []string      `json:"approvers"`
	AllowSelf bool          `json:"allow_self"`
	Timeout   time.Duration `json:"timeout"`
	// ArgsHash binds the decision to exactly the arguments shown.
	ArgsHash string `json:"args_hash"`
}

// ApprovalID names the approval of one tool call of a workflow; it is stable across retries
// and replays.
func ApprovalID(workflowID, callKey string) string {
	sum := sha256.Sum256([]byte(workflowID + "/" + callKey))
	return "apr-" + hex.EncodeToString(sum[:8])
}

// PlanApproval decides whether a call of tool needs approval and on what terms: the tool's
// policy (domains/policy), with approvers defaulting to the roles the domain grants "approve"
// on the tool. Nil means the call runs without one.
func PlanApproval(enf *authz.Enforcer, tool *domains.Tool, args map[string]any, p authz.Principal, workflowID, callKey string) *ApprovalPlan {
	d := policy.NeedsApproval(tool, args, p.Subject, p.Roles)
	if !d.Required {
		return nil
	}
	approvers := d.Approvers
	if len(approvers) == 0 {
		approvers = enf.Approvers(tool.Name)
	}
	return &ApprovalPlan{
		ID: ApprovalID(workflowID, callKey), Reason: d.Reason, Approvers: approvers,
		AllowSelf: d.AllowSelfApproval, Timeout: d.Timeout, ArgsHash: policy.ArgsHash(args),
	}
}

// CheckDecider says whether someone with subject and roles may decide a request made by
// requester: they need one of the approver roles (admins always may), and another person must
// decide unless self-approval is allowed (four eyes). The error's code is OwnRequest or
// NotApprover. It is pure, so workflows use it in their Update validators.
func CheckDecider(subject string, roles []string, requester string, approverRoles []string, allowSelf bool) *Error {
	if subject == requester && !allowSelf {
		return Errorf(OwnRequest, "four eyes: you cannot decide your own request")
	}
	if slices.Contains(roles, "admin") {
		return nil
	}
	for _, role := range roles {
		if slices.Contains(approverRoles, role) {
			return nil
		}
	}
	return Errorf(NotApprover, "you do not hold a role that may decide this request")
}

// MayDecide says whether p may decide a request for approval of a call of tool made by
// requester: CheckDecider on p's roles, and p's token scopes must cover the tool, as they must
// to call it. The API filters the pending list with it and the workflows' Update validators
// refuse with it.
func MayDecide(p authz.Principal, tool, requester string, approverRoles []string, allowSelf bool) *Error {
	if err := CheckDecider(p.Subject, p.Roles, requester, approverRoles, allowSelf); err != nil {
		return err
	}
	if !p.ScopesAllow(tool) {
		return Errorf(NotApprover, "your token's scopes do not cover %s", tool)
	}
	return nil
}

// maxSummary bounds activity summaries shown in the Temporal UI.
const maxSummary = 200

// Summary describes a tool call in one line for the Temporal UI, such as
// "hr.get_employee employee_id=E001", with sensitive arguments redacted.
func Summary(tool string, args map[string]any, sensitive []string) string {
	red, _ := redact.Value(args, sensitive...).(map[string]any)
	keys := make([]string, 0, len(red))
	for k := range red {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(tool)
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%v", k, red[k])
	}
	s := b.String()
	if len(s) > maxSummary {
		s = s[:maxSummary-1] + "…"
	}
	return s
}
