package activities_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"mcp-platform/activities"
	"mcp-platform/authz"
	"mcp-platform/domains"
	"mcp-platform/internal/audit"
	"mcp-platform/internal/redact"
	"mcp-platform/toolcall"
)

// executeTool runs ExecuteTool on a fresh executor of the shop with adapter.
func executeTool(t *testing.T, f *fixture, adapter domains.Adapter, in activities.ExecuteToolInput) (activities.ExecuteToolResult, error) {
	t.Helper()
	x := f.executor(t, adapter)
	val, err := newEnv(x).ExecuteActivity(x.ExecuteTool, in)
	if err != nil {
		return activities.ExecuteToolResult{}, err
	}
	var res activities.ExecuteToolResult
	require.NoError(t, val.Get(&res))
	return res, nil
}

func TestExecuteTool(t *testing.T) {
	f := newFixture(t)
	customer := map[string]any{"id": "C1", "name": "Ann Lee", "phone": "555-0100", "iban": "DE89370400440532013000"}
	masked := map[string]any{"id": "C1", "name": "Ann Lee", "phone": redact.Mask, "iban": redact.Mask}

	ok := []struct {
		name       string
		p          authz.Principal
		tool       string
		args       map[string]any
		out        any
		wantOut    any
		redacted   bool
		wantParams map[string]any
	}{
		{"OKSensitiveOutputRedacted", clerk, "shop.get_customer", map[string]any{"customer_id": "C1"}, customer, masked, true,
			map[string]any{"customer_id": "C1"}},
		{"OKReadSensitiveSeesAll", manager, "shop.get_customer", map[string]any{"customer_id": "C1"}, customer, customer, false,
			map[string]any{"customer_id": "C1"}},
		{"OKNothingToRedact", manager, "shop.order", map[string]any{"sku": "ABC-123", "card_number": "4111111111111111"},
			map[string]any{"order_id": "O1", "items": []any{"ABC-123"}}, map[string]any{"order_id": "O1", "items": []any{"ABC-123"}}, false,
			map[string]any{"sku": "ABC-123", "card_number": redact.Mask}},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			adapter := &fakeAdapter{out: tc.out}
			callID := "call-" + tc.name
			res, err := executeTool(t, f, adapter, activities.ExecuteToolInput{Principal: tc.p, Tool: tc.tool, Args: tc.args,
				ToolCallID: callID, Approver: boss.Subject})
			require.NoError(t, err)
			require.Equal(t, tc.tool, res.Tool)
			require.Equal(t, tc.wantOut, res.Output)
			require.Equal(t, tc.redacted, res.Redacted)

			calls := adapter.Calls()
			require.Len(t, calls, 1)
			require.Equal(t, domains.Call{Tool: tc.tool, Args: tc.args, IdempotencyKey: testWorkflowID + "/" + callID, Subject: tc.p.Subject}, calls[0])

			rows := f.auditOf(t, callID)
			require.Len(t, rows, 1, "exactly one audit row per execution")
			got := rows[0]
			require.Equal(t, audit.OutcomeSucceeded, got.Outcome)
			require.Equal(t, tc.p.Subject, got.UserID)
			require.Equal(t, tc.p.Roles, got.Roles)
			require.Equal(t, tc.tool, got.Tool)
			require.Equal(t, "shop", got.Domain)
			require.Equal(t, tc.wantParams, got.Params)
			require.Equal(t, testWorkflowID, got.WorkflowID)
			require.Equal(t, testRunID, got.RunID)
			require.Equal(t, boss.Subject, got.Approver)
			require.Empty(t, got.Error)
			require.NotNil(t, got.Result)
			require.NotContains(t, jsonText(t, got.Result), "555-0100", "the audit never holds a sensitive value, whoever called")
			require.NotContains(t, jsonText(t, got.Result), "DE89370400440532013000")
		})
	}

	t.Run("OKIdempotencyKeyStable", func(t *testing.T) {
		adapter := &fakeAdapter{out: map[string]any{"order_id": "O1"}}
		in := activities.ExecuteToolInput{Principal: manager, Tool: "shop.order", Args: map[string]any{"sku": "ABC-123"}, ToolCallID: "step1-c1"}
		for range 2 {
			_, err := executeTool(t, f, adapter, in)
			require.NoError(t, err)
		}
		in.ToolCallID = "step1-c2"
		_, err := executeTool(t, f, adapter, in)
		require.NoError(t, err)

		calls := adapter.Calls()
		require.Len(t, calls, 3)
		require.Equal(t, testWorkflowID+"/step1-c1", calls[0].IdempotencyKey)
		require.Equal(t, calls[0].IdempotencyKey, calls[1].IdempotencyKey, "a retried call has the same key")
		require.Equal(t, testWorkflowID+"/step1-c2", calls[2].IdempotencyKey, "another call has another key")
	})

	refusals := []struct {
		name    string
		in      activities.ExecuteToolInput
		code    toolcall.Code
		outcome audit.Outcome
		message string
	}{
		{"ErrNoPrincipal", activities.ExecuteToolInput{Tool: "shop.get_item", Args: map[string]any{"sku": "ABC-123"}},
			toolcall.Denied, audit.OutcomeDenied, "no authenticated principal"},
		{"ErrUnknownTool", activities.ExecuteToolInput{Principal: manager, Tool: "shop.fire_everyone"},
			toolcall.NotFound, audit.OutcomeInvalid, `unknown tool "shop.fire_everyone" in domain shop`},
		{"ErrOtherDomainsTool", activities.ExecuteToolInput{Principal: manager, Tool: "lab.run"},
			toolcall.NotFound, audit.OutcomeInvalid, `unknown tool "lab.run" in domain shop`},
		{"ErrDenied", activities.ExecuteToolInput{Principal: clerk, Tool: "shop.order", Args: map[string]any{"sku": "ABC-123", "card_number": "4111111111111111"}},
			toolcall.Denied, audit.OutcomeDenied, "you are not allowed to use shop.order (your roles: clerk)"},
		{"ErrInvalidArgs", activities.ExecuteToolInput{Principal: clerk, Tool: "shop.get_item", Args: map[string]any{"sku": "abc"}},
			toolcall.Invalid, audit.OutcomeInvalid, "sku"},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			adapter := &fakeAdapter{out: map[string]any{"ok": true}}
			tc.in.ToolCallID = "call-" + tc.name
			_, err := executeTool(t, f, adapter, tc.in)
			appErr := requireAppError(t, err, string(tc.code), false)
			require.Contains(t, appErr.Message(), tc.message)
			require.Empty(t, adapter.Calls(), "a refused call never reaches the backend")

			rows := f.auditOf(t, tc.in.ToolCallID)
			require.Len(t, rows, 1, "a refusal is audited once")
			require.Equal(t, tc.outcome, rows[0].Outcome)
			require.Equal(t, tc.in.Tool, rows[0].Tool)
			require.Equal(t, tc.in.Principal.Subject, rows[0].UserID)
			require.Contains(t, rows[0].Error, tc.message)
			require.NotContains(t, jsonText(t, rows[0].Params), "4111111111111111")
			if tc.code == toolcall.Invalid {
				var d toolcall.ErrorDetails
				require.NoError(t, appErr.Details(&d))
				require.NotEmpty(t, d.Problems)
				require.Equal(t, "sku", d.Problems[0].Field, "the caller learns which argument is wrong")
			}
		})
	}

	const internal = "dial tcp 10.0.0.7:5432: password authentication failed for user shop_admin"
	failures := []struct {
		name      string
		err       error
		code      toolcall.Code
		retryable bool
		message   string
	}{
		{"ErrNotFound", &domains.Error{Code: domains.CodeNotFound, Message: "no item ABC-123"}, toolcall.NotFound, false, "no item ABC-123"},
		{"ErrInvalid", &domains.Error{Code: domains.CodeInvalid, Message: "sku is discontinued"}, toolcall.Invalid, false, "sku is discontinued"},
		{"ErrConflict", &domains.Error{Code: domains.CodeConflict, Message: "out of stock"}, toolcall.Conflict, false, "out of stock"},
		{"ErrBackendDenied", &domains.Error{Code: domains.CodeDenied, Message: "the shop refuses"}, toolcall.Denied, false, "the shop refuses"},
		{"ErrUnavailable", &domains.Error{Code: domains.CodeUnavailable, Message: "the shop is down", Err: errors.New(internal)},
			toolcall.Unavailable, true, "the shop is down"},
		{"ErrInternal", &domains.Error{Code: domains.CodeInternal, Message: "the shop failed", Err: errors.New(internal)},
			toolcall.Unavailable, true, "the shop failed"},
		{"ErrPlain", errors.New(internal), toolcall.Unavailable, true, "the shop backend failed"},
	}
	for _, tc := range failures {
		t.Run(tc.name, func(t *testing.T) {
			adapter := &fakeAdapter{err: tc.err}
			callID := "call-" + tc.name
			_, err := executeTool(t, f, adapter, activities.ExecuteToolInput{Principal: clerk, Tool: "shop.get_item",
				Args: map[string]any{"sku": "ABC-123"}, ToolCallID: callID})
			appErr := requireAppError(t, err, string(tc.code), tc.retryable)
			require.Equal(t, tc.message, appErr.Message())
			require.NotContains(t, err.Error(), "10.0.0.7", "backend internals never reach the caller")
			require.Len(t, adapter.Calls(), 1)

			rows := f.auditOf(t, callID)
			require.Len(t, rows, 1, "a failure is audited once")
			require.Equal(t, audit.OutcomeFailed, rows[0].Outcome)
			require.NotContains(t, rows[0].Error, "10.0.0.7")
			require.Nil(t, rows[0].Result)
		})
	}
}
