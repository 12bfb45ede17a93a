package e2e_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"mcp-platform/activities"
	"mcp-platform/authz"
	"mcp-platform/domains/devops"
	"mcp-platform/domains/hr"
	"mcp-platform/domains/kit"
	"mcp-platform/internal/llm/mock"
	"mcp-platform/internal/testutil/temporaltest"
	"mcp-platform/platform/platformtest"
	"mcp-platform/toolcall"
	"mcp-platform/workflows"
)

// TestForgeryThroughTemporal: whoever can reach Temporal cannot act as anyone. A tool run
// started directly with a principal the platform did not sign, a signed identity copied from
// another workflow, a run that skips its approval, and an approval Update naming a decider
// are all refused by the workers, audited, and change nothing.
func TestForgeryThroughTemporal(t *testing.T) {
	s := platformtest.Start(t, platformtest.Options{LLM: mock.New(devops.MockDemo()),
		Domains: map[string]kit.Factory{"hr": hr.New, "devops": devops.New}})
	tc := temporaltest.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	signer, _ := platformtest.Keys()
	admin := authz.Principal{Subject: "nobody", Roles: []string{"admin"}}

	// run starts a ToolRun as an attacker with SDK access would, and returns how it ended.
	run := func(t *testing.T, tool string, args map[string]any, assertion func(id string) string) error {
		t.Helper()
		e, ok := s.Services.Catalog.Lookup(tool)
		require.True(t, ok)
		id := workflows.ToolRunWorkflowID(uuid.NewString())
		wr, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: e.Domain.Config.TaskQueue},
			workflows.ToolRun, workflows.ToolRunInput{
				Call:   activities.ExecuteToolInput{Principal: admin, Tool: tool, Args: args, ToolCallID: "call-1", Assertion: assertion(id)},
				Policy: toolcall.PolicyFor(e.Domain.Config, e.Tool), Domain: e.Domain.Config.Name,
			})
		require.NoError(t, err)
		var res workflows.ToolRunResult
		err = wr.Get(ctx, &res)
		require.Error(t, err, "the forged run must not produce a result: %+v", res)
		return err
	}
	requireDenied := func(t *testing.T, err error, want string) {
		t.Helper()
		var appErr *temporal.ApplicationError
		require.True(t, errors.As(err, &appErr), "%v", err)
		require.Equal(t, string(toolcall.Denied), appErr.Type())
		require.Contains(t, appErr.Message(), want)
	}
	deniedRows := func(t *testing.T, like string) int {
		t.Helper()
		var n int
		require.NoError(t, s.Env.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE outcome = 'denied' AND error LIKE $1`, like).Scan(&n))
		return n
	}

	t.Run("ErrUnsignedPrincipal", func(t *testing.T) {
		err := run(t, "hr.get_employee", map[string]any{"employee_id": "E001"}, func(string) string { return "" })
		requireDenied(t, err, "not signed by the platform")
		require.Equal(t, 1, deniedRows(t, "%not signed by the platform (invalid assertion: missing)%"))
	})

	t.Run("ErrForgedKey", func(t *testing.T) {
		rogue, _, err := authz.NewKeyPair("test") // the same key ID, another key
		require.NoError(t, err)
		err = run(t, "hr.get_employee", map[string]any{"employee_id": "E001"}, func(id string) string {
			tok, _ := rogue.SignPrincipal(admin, id, time.Hour)
			return tok
		})
		requireDenied(t, err, "bad signature")
	})

	t.Run("ErrCopiedFromAnotherWorkflow", func(t *testing.T) {
		copied, err := signer.SignPrincipal(admin, "tool-some-other-run", time.Hour)
		require.NoError(t, err)
		err = run(t, "hr.get_employee", map[string]any{"employee_id": "E001"}, func(string) string { return copied })
		requireDenied(t, err, "another workflow")
	})

	t.Run("ErrSkippedApproval", func(t *testing.T) {
		carol := authz.Principal{Subject: "carol", Roles: []string{"sre", "employee"}}
		before := s.Replicas(t, s.DemoToken(t, "carol"), "api-server")
		err := run(t, "devops.scale_deployment", map[string]any{"deployment_name": "api-server", "replicas": 7, "namespace": "production"},
			func(id string) string {
				tok, _ := signer.SignPrincipal(carol, id, time.Hour) // even a genuine caller cannot skip the approval
				return tok
			})
		requireDenied(t, err, "needs an approval signed by the platform")
		require.Equal(t, before, s.Replicas(t, s.DemoToken(t, "carol"), "api-server"), "nothing was scaled")
	})

	t.Run("ErrForgedDecision", func(t *testing.T) {
		carol := s.DemoToken(t, "carol")
		code, _, body := platformtest.Do(t, s.API.URL, http.MethodPost, "/chat", carol,
			map[string]any{"message": "scale api-server to 4 replicas", "wait": true, "timeout_seconds": 3})
		require.Contains(t, []int{http.StatusOK, http.StatusAccepted}, code, body)
		require.Equal(t, "awaiting_approval", body["status"])
		wf := body["workflow_id"].(string)
		var apr map[string]any
		require.Eventually(t, func() bool {
			_, _, c := platformtest.Do(t, s.API.URL, http.MethodGet, "/conversations/"+body["conversation_id"].(string), carol, nil)
			list, _ := c["approvals"].([]any)
			if len(list) == 1 {
				apr = list[0].(map[string]any)
			}
			return apr != nil
		}, 20*time.Second, 100*time.Millisecond)

		dan := authz.Principal{Subject: "dan", Roles: []string{"sre_lead"}}
		for _, assertion := range []string{"", mustSign(t, signer, dan, "chat-other-1", apr)} {
			h, err := tc.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: wf, UpdateName: workflows.UpdateDecideApproval,
				WaitForStage: client.WorkflowUpdateStageCompleted,
				Args: []any{workflows.Decision{ApprovalID: apr["id"].(string), Approve: true, ArgsHash: apr["args_hash"].(string),
					Decider: dan, Assertion: assertion}}})
			if err == nil {
				err = h.Get(ctx, nil)
			}
			require.ErrorContains(t, err, "not signed by the platform")
		}
		_, _, a := platformtest.Do(t, s.API.URL, http.MethodGet, "/approvals/"+apr["id"].(string), carol, nil)
		require.Equal(t, "pending", a["status"], "a forged decision changes nothing")
	})
}

func mustSign(t *testing.T, signer *authz.Signer, decider authz.Principal, workflowID string, apr map[string]any) string {
	t.Helper()
	tok, err := signer.SignDecision(decider, workflowID, authz.Decision{ApprovalID: apr["id"].(string), Approve: true,
		ArgsHash: apr["args_hash"].(string)}, time.Minute)
	require.NoError(t, err)
	return tok
}
