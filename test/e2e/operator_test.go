package e2e_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	sdkpb "go.temporal.io/api/sdk/v1"
	"go.temporal.io/sdk/client"

	"mcp-platform/domains/devops"
	"mcp-platform/domains/hr"
	"mcp-platform/domains/kit"
	"mcp-platform/internal/llm/mock"
	"mcp-platform/internal/testutil/temporaltest"
	"mcp-platform/platform/platformtest"
	"mcp-platform/workflows"
)

// text decodes a user-metadata payload (a summary or details); "" when there is none.
func text(t *testing.T, p *commonpb.Payload) string {
	t.Helper()
	if p == nil {
		return ""
	}
	var s string
	require.NoError(t, temporaltest.Codec(t).DataConverter().FromPayload(p, &s), "summaries are encrypted like every payload")
	return s
}

// summaries are the summaries of a workflow's activities (by activity type, in order: the
// scheduled ones, and the local ones keyed "local:<type>") and of its timers, as the Temporal
// UI shows them.
func summaries(ctx context.Context, t *testing.T, c client.Client, workflowID string) (map[string][]string, []string) {
	t.Helper()
	acts := map[string][]string{}
	var timers []string
	dc := temporaltest.Codec(t).DataConverter()
	iter := c.GetWorkflowHistory(ctx, workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		e, err := iter.Next()
		require.NoError(t, err)
		switch e.GetEventType() {
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			name := e.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName()
			acts[name] = append(acts[name], text(t, e.GetUserMetadata().GetSummary()))
		case enumspb.EVENT_TYPE_MARKER_RECORDED:
			m := e.GetMarkerRecordedEventAttributes()
			if m.GetMarkerName() != "LocalActivity" {
				continue
			}
			var data struct{ ActivityType string }
			require.NoError(t, dc.FromPayloads(m.GetDetails()["data"], &data))
			acts["local:"+data.ActivityType] = append(acts["local:"+data.ActivityType], text(t, e.GetUserMetadata().GetSummary()))
		case enumspb.EVENT_TYPE_TIMER_STARTED:
			timers = append(timers, text(t, e.GetUserMetadata().GetSummary()))
		}
	}
	return acts, timers
}

// logLines are the lines of the stack's log at level ("ERROR", "WARN").
func logLines(s *platformtest.Stack, level string) []string {
	var out []string
	for _, l := range strings.Split(s.Logs.String(), "\n") {
		if strings.Contains(l, " level="+level+" ") {
			out = append(out, l)
		}
	}
	return out
}

// TestOperatorView follows chat turns as an operator sees them in the Temporal UI and the logs:
// a summary on the workflow and on every activity, a named approval wait, the turn's state in
// its current details and the turn-state query, and no error lines for ordinary tool results.
func TestOperatorView(t *testing.T) {
	s := platformtest.Start(t, platformtest.Options{LLM: mock.New(hr.MockDemo(), devops.MockDemo()),
		Domains: map[string]kit.Factory{"hr": hr.New, "devops": devops.New}})
	c := s.Env.Temporal
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	carol, dan, alice := s.DemoToken(t, "carol"), s.DemoToken(t, "dan"), s.DemoToken(t, "alice")
	const scale = "devops.scale_deployment deployment_name=api-server replicas=4"

	code, _, turn := platformtest.Do(t, s.API.URL, http.MethodPost, "/chat", carol,
		map[string]any{"message": "scale api-server to 4 replicas", "wait": true, "timeout_seconds": 3})
	require.Contains(t, []int{http.StatusOK, http.StatusAccepted}, code, turn)
	require.Equal(t, "awaiting_approval", turn["status"], turn)
	wf := turn["workflow_id"].(string)

	t.Run("OK an awaiting turn says what it waits for", func(t *testing.T) {
		v, err := c.QueryWorkflow(ctx, wf, "", workflows.QueryTurnState)
		require.NoError(t, err)
		var st workflows.TurnState
		require.NoError(t, v.Get(&st))
		require.Equal(t, "awaiting_approval", st.Status)
		require.Equal(t, 1, st.Step)
		require.Len(t, st.Waiting, 1)
		require.Equal(t, scale, st.Waiting[0].Summary)
		require.Equal(t, []string{"sre_lead"}, st.Waiting[0].Approvers)

		v, err = c.QueryWorkflow(ctx, wf, "", "__temporal_workflow_metadata")
		require.NoError(t, err)
		var md sdkpb.WorkflowMetadata
		require.NoError(t, v.Get(&md))
		require.Contains(t, md.GetCurrentDetails(), "**awaiting approval** · step 1 of ")
		require.Contains(t, md.GetCurrentDetails(), "- "+scale+" (sre_lead, expires ")

		_, timers := summaries(ctx, t, c, wf)
		require.Equal(t, []string{"waiting for sre_lead: " + scale}, timers)
	})

	var pending map[string]any
	require.Eventually(t, func() bool {
		_, _, body := platformtest.Do(t, s.API.URL, http.MethodGet, "/approvals", dan, nil)
		list, _ := body["approvals"].([]any)
		if len(list) != 1 {
			return false
		}
		pending = list[0].(map[string]any)
		return true
	}, 20*time.Second, 100*time.Millisecond)
	code, _, body := platformtest.Do(t, s.API.URL, http.MethodPost, "/approvals/"+pending["id"].(string)+"/decision", dan,
		map[string]any{"decision": "approve", "args_hash": pending["args_hash"]})
	require.Equal(t, http.StatusOK, code, body)
	require.NoError(t, c.GetWorkflow(ctx, wf, "").Get(ctx, nil))

	t.Run("OK the workflow and every activity say what they do", func(t *testing.T) {
		desc, err := c.DescribeWorkflowExecution(ctx, wf, "")
		require.NoError(t, err)
		require.Equal(t, "Chat: scale api-server to 4 replicas", text(t, desc.GetExecutionConfig().GetUserMetadata().GetSummary()))

		acts, _ := summaries(ctx, t, c, wf)
		// The bookkeeping runs in local activities, which the UI lists with their summaries too;
		// the next LLM step saves the tool's result, and the step that answers records the
		// turn's end.
		require.Equal(t, map[string][]string{
			"Complete":              {"LLM step 1", "LLM step 2"},
			"local:RequestApproval": {"ask sre_lead to approve " + scale},
			"local:RecordDecision":  {"record approved by dan: " + scale},
			"local:Publish":         {"publish tool_started: devops.scale_deployment"},
			"ExecuteTool":           {scale},
		}, acts)

		v, err := c.QueryWorkflow(ctx, wf, "", workflows.QueryTurnState)
		require.NoError(t, err)
		var st workflows.TurnState
		require.NoError(t, v.Get(&st))
		require.Equal(t, "completed", st.Status)
		require.Empty(t, st.Waiting)
		require.Equal(t, []string{"devops.scale_deployment"}, st.Tools)
	})

	t.Run("OK a not-found tool result is logged at info, not as an error", func(t *testing.T) {
		answer := chat(t, s, alice, "Get employee E999")
		require.Equal(t, "completed", answer["status"], answer)
		require.Eventually(t, func() bool {
			for _, l := range logLines(s, "INFO") {
				if strings.Contains(l, `msg="tool call ended without a result"`) && strings.Contains(l, "tool=hr.get_employee code=not_found") {
					return true
				}
			}
			return false
		}, 10*time.Second, 50*time.Millisecond, "logged at info")
	})

	t.Run("OK no error lines and no heartbeat warnings", func(t *testing.T) {
		require.Empty(t, logLines(s, "ERROR"))
		for _, l := range logLines(s, "WARN") {
			require.NotContains(t, l, "RecordActivityHeartbeat")
		}
	})
}
