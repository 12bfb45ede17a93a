package activities

import (
	"context"
	"log/slog"
	"time"

	"mcp-platform/authz"
	"mcp-platform/internal/approvals"
	"mcp-platform/internal/audit"
	"mcp-platform/internal/conversations"
	"mcp-platform/internal/events"
	"mcp-platform/toolcall"
)

// ApprovalActivities record approval requests and decisions, on the orchestrator queue (chat
// turns) and on domain queues (tool runs from /execute and MCP).
type ApprovalActivities struct {
	Approvals *approvals.Store
	// Events and Conversations may be nil on domain workers; requests outside a conversation
	// publish no events.
	Events        *events.Store
	Conversations *conversations.Store
	Audit         *audit.Log
	Logger        *slog.Logger
}

// RequestApprovalInput is a call that waits for a person.
type RequestApprovalInput struct {
	Plan           toolcall.ApprovalPlan `json:"plan"`
	WorkflowID     string                `json:"workflow_id"`
	ConversationID string                `json:"conversation_id,omitempty"`
	Turn           int                   `json:"turn,omitempty"`
	ToolCallID     string                `json:"tool_call_id"`
	Call           toolcall.PlannedCall  `json:"call"`
	Requester      authz.Principal       `json:"requester"`
	RequestedAt    time.Time             `json:"requested_at"`
}

// RequestApproval records the request where approvers can find it, marks the turn as awaiting
// approval and publishes approval_requested with the arguments redacted.
func (a *ApprovalActivities) RequestApproval(ctx context.Context, in RequestApprovalInput) error {
	shown := in.Call.RedactedArgs()
	err := a.Approvals.Create(ctx, approvals.Request{
		ID: in.Plan.ID, WorkflowID: in.WorkflowID, ConversationID: in.ConversationID, Turn: in.Turn,
		ToolCallID: in.ToolCallID, Tool: in.Call.Tool, Domain: in.Call.Domain, Arguments: shown, ArgsHash: in.Plan.ArgsHash,
		Requester: in.Requester.Subject, ApproverRoles: in.Plan.Approvers, AllowSelf: in.Plan.AllowSelf,
		Reason: in.Plan.Reason, ExpiresAt: in.RequestedAt.Add(in.Plan.Timeout),
	})
	if err != nil || in.ConversationID == "" || a.Events == nil {
		return err
	}
	if err := a.Conversations.SetTurnStatus(ctx, in.ConversationID, in.Turn, conversations.StatusAwaitingApproval, ""); err != nil {
		return err
	}
	_, err = a.Events.PublishOnce(ctx, in.ConversationID, in.Turn, events.ApprovalRequestedData{
		ApprovalID: in.Plan.ID, Tool: in.Call.Tool, Domain: in.Call.Domain, ToolCallID: in.Call.ID,
		Arguments: shown, ArgsHash: in.Plan.ArgsHash, Reason: in.Plan.Reason, ApproverRoles: in.Plan.Approvers,
		AllowSelfApproval: in.Plan.AllowSelf, Requester: in.Requester.Subject,
		ExpiresAt: in.RequestedAt.Add(in.Plan.Timeout),
	})
	return err
}

// RecordDecisionInput is how an approval ended.
type RecordDecisionInput struct {
	Plan           toolcall.ApprovalPlan `json:"plan"`
	WorkflowID     string                `json:"workflow_id"`
	ConversationID string                `json:"conversation_id,omitempty"`
	Turn           int                   `json:"turn,omitempty"`
	Call           toolcall.PlannedCall  `json:"call"`
	Requester      authz.Principal       `json:"requester"`
	// Status is approvals.StatusApproved, StatusRejected, StatusExpired or StatusCancelled.
	Status   string `json:"status"`
	Approver string `json:"approver,omitempty"`
	Comment  string `json:"comment,omitempty"`
}

// RecordDecision records the outcome, audits rejections and expiries (an approved call is
// audited with its approver when it runs), and publishes approval_decided.
func (a *ApprovalActivities) RecordDecision(ctx context.Context, in RecordDecisionInput) error {
	if err := a.Approvals.Decide(ctx, in.Plan.ID, in.Status, in.Approver, in.Comment); err != nil {
		return err
	}
	if in.Status == approvals.StatusRejected || in.Status == approvals.StatusExpired {
		outcome := audit.OutcomeRejected
		if in.Status == approvals.StatusExpired {
			outcome = audit.OutcomeExpired
		}
		msg := in.Status
		if in.Comment != "" {
			msg += ": " + in.Comment
		}
		if _, err := a.Audit.RecordOnce(ctx, audit.Entry{UserID: in.Requester.Subject, Roles: in.Requester.Roles, Tool: in.Call.Tool,
			Domain: in.Call.Domain, Params: in.Call.Args, Sensitive: in.Call.Sensitive, Outcome: outcome, Error: msg,
			WorkflowID: in.WorkflowID, ToolCallID: in.Call.ID, Approver: in.Approver}); err != nil {
			return err
		}
	}
	if in.ConversationID == "" || a.Events == nil {
		return nil
	}
	if ok, err := a.Conversations.Exists(ctx, in.ConversationID); err != nil || !ok {
		return err // a deleted conversation has no turn or stream left to update
	}
	if n, err := a.Approvals.PendingCount(ctx, in.WorkflowID); err != nil {
		return err
	} else if n == 0 {
		if err := a.Conversations.SetTurnStatus(ctx, in.ConversationID, in.Turn, conversations.StatusRunning, ""); err != nil {
			return err
		}
	}
	_, err := a.Events.PublishOnce(ctx, in.ConversationID, in.Turn, events.ApprovalDecidedData{
		ApprovalID: in.Plan.ID, Tool: in.Call.Tool, ToolCallID: in.Call.ID, Status: in.Status,
		Approver: in.Approver, Comment: in.Comment,
	})
	return err
}
