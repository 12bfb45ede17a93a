package activities_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"mcp-platform/activities"
	"mcp-platform/internal/approvals"
	"mcp-platform/internal/audit"
	"mcp-platform/internal/conversations"
	"mcp-platform/internal/events"
	"mcp-platform/internal/redact"
	"mcp-platform/toolcall"
)

// requestedAt is when the tests' approvals were requested (the workflow's clock).
var requestedAt = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// orderApproval plans manager's order (card number included) as call callID of the turn, and
// is the request for its approval the chat workflow makes.
func orderApproval(t *testing.T, f *fixture, tr turn, callID string) activities.RequestApprovalInput {
	t.Helper()
	call := f.plan(t, manager, tr, callID, "shop.order", map[string]any{"sku": "ABC-123", "card_number": card})
	require.NotNil(t, call.Approval)
	return activities.RequestApprovalInput{Plan: *call.Approval, WorkflowID: tr.WorkflowID, ConversationID: tr.ConversationID,
		Turn: tr.Turn, ToolCallID: toolcall.CallKey(1, callID), Call: call, Requester: manager, RequestedAt: requestedAt}
}

// decision is how req ended, as the chat workflow records it.
func decision(req activities.RequestApprovalInput, status, approver, comment string) activities.RecordDecisionInput {
	return activities.RecordDecisionInput{Plan: req.Plan, WorkflowID: req.WorkflowID, ConversationID: req.ConversationID,
		Turn: req.Turn, Call: req.Call, Requester: req.Requester, Status: status, Approver: approver, Comment: comment}
}

func TestRequestApproval(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	acts := f.approvals()

	t.Run("OK", func(t *testing.T) {
		tr := f.startTurn(t, manager, "order ABC-123")
		req := orderApproval(t, f, tr, "req-ok")
		require.NoError(t, run(acts, acts.RequestApproval, req))

		got, err := f.Approvals.Get(ctx, req.Plan.ID)
		require.NoError(t, err)
		require.Equal(t, approvals.StatusPending, got.Status)
		require.Equal(t, tr.WorkflowID, got.WorkflowID)
		require.Equal(t, tr.ConversationID, got.ConversationID)
		require.Equal(t, tr.Turn, got.Turn)
		require.Equal(t, req.ToolCallID, got.ToolCallID)
		require.Equal(t, "shop.order", got.Tool)
		require.Equal(t, "shop", got.Domain)
		require.Equal(t, map[string]any{"sku": "ABC-123", "card_number": redact.Mask}, got.Arguments, "approvers see the arguments redacted")
		require.Equal(t, req.Plan.ArgsHash, got.ArgsHash)
		require.Equal(t, manager.Subject, got.Requester)
		require.Equal(t, []string{"admin", "boss"}, got.ApproverRoles)
		require.False(t, got.AllowSelf)
		require.Equal(t, req.Plan.Reason, got.Reason)
		require.True(t, requestedAt.Add(req.Plan.Timeout).Equal(got.ExpiresAt), "expires %s after the request", req.Plan.Timeout)

		require.Equal(t, conversations.StatusAwaitingApproval, f.turnRow(t, tr).Status)
		require.Equal(t, []event{{Turn: tr.Turn, Type: events.TypeApprovalRequested, Data: map[string]any{
			"approval_id": req.Plan.ID, "tool": "shop.order", "domain": "shop", "tool_call_id": "req-ok",
			"arguments": map[string]any{"sku": "ABC-123", "card_number": redact.Mask}, "args_hash": req.Plan.ArgsHash,
			"reason": req.Plan.Reason, "approver_roles": []any{"admin", "boss"}, "allow_self_approval": false,
			"requester": manager.Subject, "expires_at": requestedAt.Add(req.Plan.Timeout).Format(time.RFC3339Nano),
		}}}, f.events(t, tr))
	})

	t.Run("OKRetryKeepsOneRequest", func(t *testing.T) {
		tr := f.startTurn(t, manager, "order ABC-123")
		req := orderApproval(t, f, tr, "req-retry")
		for range 2 {
			require.NoError(t, run(acts, acts.RequestApproval, req))
		}
		list, err := f.Approvals.ForConversation(ctx, tr.ConversationID)
		require.NoError(t, err)
		require.Len(t, list, 1)
	})

	t.Run("OKOutsideConversation", func(t *testing.T) {
		// A tool run from POST /execute or MCP: the domain worker's activities have no
		// conversation or event stores.
		domainActs := &activities.ApprovalActivities{Approvals: f.Approvals, Audit: f.Audit, Logger: f.Logger}
		req := orderApproval(t, f, turn{WorkflowID: "tool-req-outside"}, "req-outside")
		require.NoError(t, run(domainActs, domainActs.RequestApproval, req))

		got, err := f.Approvals.Get(ctx, req.Plan.ID)
		require.NoError(t, err)
		require.Equal(t, approvals.StatusPending, got.Status)
		require.Equal(t, "tool-req-outside", got.WorkflowID)
		require.Empty(t, got.ConversationID)
	})
}

func TestRecordDecision(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	acts := f.approvals()

	tests := []struct {
		name     string
		status   string
		approver string
		comment  string
		outcome  audit.Outcome // empty: the decision itself is not audited
		auditErr string
	}{
		{"OKApproved", approvals.StatusApproved, boss.Subject, "looks right", "", ""},
		{"OKRejected", approvals.StatusRejected, boss.Subject, "wrong sku", audit.OutcomeRejected, "rejected: wrong sku"},
		{"OKExpired", approvals.StatusExpired, "", "", audit.OutcomeExpired, "expired"},
		{"OKCancelled", approvals.StatusCancelled, "", "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := f.startTurn(t, manager, "order ABC-123")
			callID := "dec-" + tc.name
			req := orderApproval(t, f, tr, callID)
			require.NoError(t, run(acts, acts.RequestApproval, req))
			require.NoError(t, run(acts, acts.RecordDecision, decision(req, tc.status, tc.approver, tc.comment)))

			got, err := f.Approvals.Get(ctx, req.Plan.ID)
			require.NoError(t, err)
			require.Equal(t, tc.status, got.Status)
			require.Equal(t, tc.approver, got.DecidedBy)
			require.Equal(t, tc.comment, got.Comment)
			require.NotNil(t, got.DecidedAt)

			require.Equal(t, conversations.StatusRunning, f.turnRow(t, tr).Status, "the turn runs on once nothing waits")
			decided := f.eventsOf(t, tr, events.TypeApprovalDecided)
			require.Len(t, decided, 1)
			require.Equal(t, map[string]any{"approval_id": req.Plan.ID, "tool": "shop.order", "tool_call_id": callID,
				"status": tc.status, "approver": tc.approver, "comment": tc.comment}, decided[0].Data)

			rows := f.auditOf(t, callID)
			if tc.outcome == "" {
				require.Empty(t, rows, "an approved call is audited when it runs; a cancelled one never ran")
				return
			}
			require.Len(t, rows, 1)
			require.Equal(t, tc.outcome, rows[0].Outcome)
			require.Equal(t, tc.auditErr, rows[0].Error)
			require.Equal(t, manager.Subject, rows[0].UserID)
			require.Equal(t, "shop.order", rows[0].Tool)
			require.Equal(t, tc.approver, rows[0].Approver)
			require.Equal(t, tr.WorkflowID, rows[0].WorkflowID)
			require.Equal(t, map[string]any{"sku": "ABC-123", "card_number": redact.Mask}, rows[0].Params)
		})
	}

	t.Run("OKTurnWaitsForEveryApproval", func(t *testing.T) {
		tr := f.startTurn(t, manager, "order ABC-123 twice")
		first, second := orderApproval(t, f, tr, "dec-first"), orderApproval(t, f, tr, "dec-second")
		require.NoError(t, run(acts, acts.RequestApproval, first))
		require.NoError(t, run(acts, acts.RequestApproval, second))

		require.NoError(t, run(acts, acts.RecordDecision, decision(first, approvals.StatusApproved, boss.Subject, "")))
		require.Equal(t, conversations.StatusAwaitingApproval, f.turnRow(t, tr).Status, "another call still waits")
		require.NoError(t, run(acts, acts.RecordDecision, decision(second, approvals.StatusRejected, boss.Subject, "")))
		require.Equal(t, conversations.StatusRunning, f.turnRow(t, tr).Status)
		require.Len(t, f.eventsOf(t, tr, events.TypeApprovalDecided), 2)
	})

	t.Run("OKConversationDeleted", func(t *testing.T) {
		tr := f.startTurn(t, manager, "order ABC-123")
		req := orderApproval(t, f, tr, "dec-deleted")
		require.NoError(t, run(acts, acts.RequestApproval, req))
		f.deleteConversation(t, manager, tr)

		require.NoError(t, run(acts, acts.RecordDecision, decision(req, approvals.StatusRejected, boss.Subject, "too late")))
		rows := f.auditOf(t, "dec-deleted")
		require.Len(t, rows, 1, "the rejection is audited even though the conversation is gone")
		require.Equal(t, audit.OutcomeRejected, rows[0].Outcome)
	})
}
