package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	sdkpb "go.temporal.io/api/sdk/v1"
	"go.temporal.io/sdk/testsuite"

	"mcp-platform/activities"
	"mcp-platform/internal/conversations"
	"mcp-platform/toolcall"
	"mcp-platform/workflows"
)

// turnState asks the workflow for its turn-state.
func turnState(t *testing.T, env *testsuite.TestWorkflowEnvironment) workflows.TurnState {
	t.Helper()
	v, err := env.QueryWorkflow(workflows.QueryTurnState)
	require.NoError(t, err)
	var s workflows.TurnState
	require.NoError(t, v.Get(&s))
	return s
}

// currentDetails is what the Temporal UI shows as the workflow's current details.
func currentDetails(t *testing.T, env *testsuite.TestWorkflowEnvironment) string {
	t.Helper()
	// The SDK answers this built-in query with the workflow's metadata and current details.
	v, err := env.QueryWorkflow("__temporal_workflow_metadata")
	require.NoError(t, err)
	var md sdkpb.WorkflowMetadata
	require.NoError(t, v.Get(&md))
	return md.GetCurrentDetails()
}

func TestChatTurnState(t *testing.T) {
	lookup := plannedCall("call-1", "hr.get_employee")
	raise := needingApproval(plannedCall("call-2", "hr.update_salary"), "apr-1")
	// The lookup runs at once; the raise waits for bob.
	f := &fakes{tool: toolOK, llm: steps(activities.CompleteResult{Calls: []toolcall.PlannedCall{lookup, raise}},
		activities.CompleteResult{Content: "Done."})}
	env := newEnv(t, f)

	start := env.Now().UTC()
	var waiting workflows.TurnState
	var details string
	env.RegisterDelayedCallback(func() {
		waiting = turnState(t, env)
		details = currentDetails(t, env)
		decide(env, "decision-1", decision(raise, true, bob))
	}, time.Minute)
	env.ExecuteWorkflow(workflows.ChatTurn, turnInput)
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())

	t.Run("OK at the approval wait", func(t *testing.T) {
		require.Len(t, waiting.Waiting, 1)
		require.WithinDuration(t, start, waiting.Waiting[0].Since, time.Second)
		since := waiting.Waiting[0].Since
		want := workflows.TurnState{
			ConversationID: "conv-1", Turn: 3, Status: conversations.StatusAwaitingApproval, Step: 1,
			MaxSteps: workflows.DefaultMaxSteps, Doing: "running 2 tool calls",
			Waiting: []workflows.WaitingApproval{{ApprovalID: "apr-1", Tool: "hr.update_salary",
				Summary: "hr.update_salary(employee_id=E1)", Approvers: []string{"hr_manager"},
				Since: since, Expires: since.Add(approvalTimeout)}},
			Tools: []string{"hr.get_employee", "hr.update_salary"},
		}
		require.Equal(t, want, waiting)
		require.Equal(t, "**awaiting approval** · step 1 of 8 · running 2 tool calls\n\n"+
			"Waiting for a decision:\n"+
			"- hr.update_salary(employee_id=E1) (hr_manager, expires "+since.Add(approvalTimeout).UTC().Format(time.RFC3339)+")",
			details)
	})

	t.Run("OK once completed", func(t *testing.T) {
		require.Equal(t, workflows.TurnState{ConversationID: "conv-1", Turn: 3, Status: conversations.StatusCompleted, Step: 2,
			MaxSteps: workflows.DefaultMaxSteps, Tools: []string{"hr.get_employee", "hr.update_salary"}}, turnState(t, env))
		require.Equal(t, "**completed** · step 2 of 8", currentDetails(t, env))
	})
}

func TestToolRunDetails(t *testing.T) {
	plan := &toolcall.ApprovalPlan{ID: "apr-1", Approvers: []string{"hr_manager"}, Timeout: approvalTimeout, ArgsHash: "hash-req-1"}
	f := &fakes{tool: toolOK}
	env := newEnv(t, f)
	start := env.Now().UTC()
	var waiting string
	env.RegisterDelayedCallback(func() {
		waiting = currentDetails(t, env)
		decide(env, "decision-1", workflows.Decision{ApprovalID: "apr-1", ArgsHash: "hash-req-1", Decider: bob})
	}, time.Minute)
	env.ExecuteWorkflow(workflows.ToolRun, workflows.ToolRunInput{Call: activities.ExecuteToolInput{Principal: alice,
		Tool: "hr.update_salary", Args: map[string]any{"employee_id": "E1"}, ToolCallID: "req-1"}, Policy: hrPolicy,
		Summary: "hr.update_salary employee_id=E1", Approval: plan, Domain: "hr"})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())

	require.Equal(t, "**awaiting approval**\n\nWaiting for a decision:\n- hr.update_salary employee_id=E1 (hr_manager, expires "+
		start.Add(approvalTimeout).Format(time.RFC3339)+")", waiting)
	require.Equal(t, "**rejected by bob** · hr.update_salary employee_id=E1", currentDetails(t, env))
}

func TestChatTurnSummary(t *testing.T) {
	tests := []struct {
		name  string
		title string
		turn  int
		want  string
	}{
		{"OK first turn", "Get employee E001", 1, "Chat: Get employee E001"},
		{"OK later turns are numbered", "Get employee E001", 3, "Chat: Get employee E001 · turn 3"},
		{"OK the title is redacted", "my password is hunter2, reset it", 1, "Chat: my password is [REDACTED], reset it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, workflows.ChatTurnSummary(tt.title, tt.turn))
		})
	}
}
