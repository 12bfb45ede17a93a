package workflows_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/encoding/protojson"

	"mcp-platform/activities"
	"mcp-platform/internal/approvals"
	"mcp-platform/internal/conversations"
	"mcp-platform/internal/events"
	"mcp-platform/internal/testutil/temporaltest"
	"mcp-platform/toolcall"
	"mcp-platform/workflows"
)

// A recorded history and what it must cover, so that a history recorded again cannot quietly
// lose the paths it is there to protect.
type recordedHistory struct {
	file string
	// activities must each be scheduled at least once.
	activities []string
	// only, when set, are exactly the activities the history schedules, in order.
	only []string
	// local must each be recorded as a local activity at least once.
	local []string
	// update is true when the history must hold an accepted decide-approval Update.
	update bool
}

// histories are the committed histories in testdata/. Those named *_local.json are written by
// TestRecordHistories (bookkeeping in local activities, workflows.LocalBookkeepingChange); the
// others were recorded by the workflows before that change, which scheduled every bookkeeping
// activity, and are kept so that workflows started then still replay.
var histories = []recordedHistory{
	{file: "chatturn_tool.json", activities: []string{"Complete", "Publish", "ExecuteTool", "SaveToolResult", "FinishTurn"}},
	{file: "chatturn_approval.json", update: true, activities: []string{"Complete", "RequestApproval", "RecordDecision",
		"Publish", "ExecuteTool", "SaveToolResult", "FinishTurn"}},
	{file: "toolrun_approval.json", update: true, activities: []string{"RequestApproval", "RecordDecision", "ExecuteTool"}},
	{file: "chatturn_tool_local.json", only: oneToolTurn, local: []string{"Publish", "SaveToolResult", "FinishTurn"}},
	{file: "chatturn_tool_v2.json", only: oneToolTurn, local: []string{"Publish", "SaveToolResult", "FinishTurn"}},
	{file: "chatturn_tool_v3.json", only: oneToolTurn, local: []string{"SaveToolResult"}},
	{file: "chatturn_approval_v3.json", update: true, only: oneToolTurn,
		local: []string{"RequestApproval", "RecordDecision", "Publish", "SaveToolResult"}},
	{file: "chatturn_tool_v4.json", only: oneToolTurn},
	{file: "chatturn_approval_v4.json", update: true, only: oneToolTurn, local: []string{"RequestApproval", "RecordDecision", "Publish"}},
	{file: "chatturn_approval_local.json", update: true, only: oneToolTurn,
		local: []string{"RequestApproval", "RecordDecision", "Publish", "SaveToolResult", "FinishTurn"}},
	{file: "toolrun_approval_local.json", update: true, only: []string{"ExecuteTool"}, local: []string{"RequestApproval", "RecordDecision"}},
}

// oneToolTurn are the activity tasks a chat turn with one tool call schedules: the LLM, the
// tool on its domain's queue, the LLM again. Everything else is bookkeeping in local activities.
var oneToolTurn = []string{"Complete", "ExecuteTool", "Complete"}

// TestReplay replays the committed histories against today's ChatTurn and ToolRun: a change
// that would break running workflows (a reordered or removed activity, a new one not guarded by
// workflow.GetVersion) fails it with a nondeterminism error.
func TestReplay(t *testing.T) {
	for _, h := range histories {
		t.Run(h.file, func(t *testing.T) {
			path := filepath.Join("testdata", h.file)
			requireCovers(t, path, h)

			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflow(workflows.ChatTurn)
			r.RegisterWorkflow(workflows.ToolRun)
			require.NoError(t, r.ReplayWorkflowHistoryFromJSONFile(testLogger(t), path))
		})
	}
}

// requireCovers fails unless the history at path holds what h says it covers.
func requireCovers(t *testing.T, path string, h recordedHistory) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err, "record it with UPDATE_HISTORIES=1 go test ./workflows -run TestRecordHistories")
	hist, err := client.HistoryFromJSON(bytes.NewReader(b), client.HistoryJSONOptions{})
	require.NoError(t, err)
	scheduled, local, updated := historyActivities(t, hist)
	for _, name := range h.activities {
		require.Contains(t, scheduled, name)
	}
	if h.only != nil {
		require.Equal(t, h.only, scheduled, "activity tasks scheduled")
	}
	for _, name := range h.local {
		require.Contains(t, local, name, "local activities recorded")
	}
	require.Equal(t, h.update, updated, "accepted decide-approval Update")
	require.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, hist.GetEvents()[len(hist.GetEvents())-1].GetEventType())
}

// historyActivities lists the activity tasks a history scheduled and the local activities it
// recorded, in order, and whether it accepted an Update.
func historyActivities(t *testing.T, hist *historypb.History) (scheduled, local []string, updated bool) {
	t.Helper()
	for _, e := range hist.GetEvents() {
		switch e.GetEventType() {
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			scheduled = append(scheduled, e.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName())
		case enumspb.EVENT_TYPE_MARKER_RECORDED:
			m := e.GetMarkerRecordedEventAttributes()
			if m.GetMarkerName() != "LocalActivity" {
				continue
			}
			var data struct{ ActivityType string }
			require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(m.GetDetails()["data"], &data))
			local = append(local, data.ActivityType)
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
			updated = true
		}
	}
	return scheduled, local, updated
}

// TestOneToolTurnSchedulesThreeActivityTasks runs a chat turn with one tool call on the
// embedded Temporal server and counts what its history scheduled: Complete, ExecuteTool on the
// domain's queue and Complete, with the events, the tool result and the turn's end recorded
// by local activities. A turn whose starter asks for local bookkeeping (as the API does) gets
// there without a version marker or a TemporalChangeVersion upsert; one started without
// (by an older API) decides by its version marker.
func TestOneToolTurnSchedulesThreeActivityTasks(t *testing.T) {
	c, ctx := serverClient(t)
	fake := &scriptedActivities{calls: map[string][]toolcall.PlannedCall{},
		requested: make(chan activities.RequestApprovalInput, 4)}
	startWorkers(t, c, fake)

	for _, tc := range []struct {
		name    string
		version int
		marker  bool
		upserts int
		local   []string
	}{
		// One upsert: the turn's end, with the domains and tools. The LLM steps announce the
		// call and record the turn's end.
		// The next LLM step saves the tool's result too.
		{"OK started by today's API: no version marker, one upsert, no local activity", workflows.CurrentVersion, false, 1, nil},
		{"OK started by an API of VersionStepBookkeeping", workflows.VersionStepBookkeeping, false, 1,
			[]string{"SaveToolResult"}},
		{"OK started by an API of VersionFoldedSearchAttributes", workflows.VersionFoldedSearchAttributes, false, 1,
			[]string{"Publish", "SaveToolResult", "FinishTurn"}},
		// The change version, the domains and tools, the turn's end.
		{"OK started by an older API: decided by the version marker", 0, true, 3,
			[]string{"Publish", "SaveToolResult", "FinishTurn"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conv := fmt.Sprintf("count-%d", time.Now().UnixNano()) // a workflow ID of its own on the shared server
			fake.script(conv, plannedCall("call-1", "hr.get_employee"))
			in := workflows.ChatTurnInput{ConversationID: conv, Turn: 1, Principal: alice, Version: tc.version}
			run := runToolTurn(ctx, t, c, in)

			hist := fetchHistory(ctx, t, c, run)
			scheduled, local, _ := historyActivities(t, hist)
			require.Equal(t, oneToolTurn, scheduled)
			require.Equal(t, tc.local, local)
			require.Equal(t, tc.marker, hasVersionMarker(hist), "version marker and TemporalChangeVersion upsert")
			require.Equal(t, tc.upserts, countEvents(hist, enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES), "search attribute upserts")
			desc, err := c.DescribeWorkflowExecution(ctx, run.GetID(), run.GetRunID())
			require.NoError(t, err)
			sa := desc.GetWorkflowExecutionInfo().GetSearchAttributes().GetIndexedFields()
			for name, want := range map[string]any{"TurnStatus": conversations.StatusCompleted, "Tools": []any{"hr.get_employee"}, "Domains": []any{"hr"}} {
				var got any
				require.NoError(t, converter.GetDefaultDataConverter().FromPayload(sa[name], &got), name)
				require.Equal(t, want, got, name)
			}
		})
	}
	require.Len(t, fake.savedCalls(), 4, "each turn's tool result was saved, by SaveToolResult or the next LLM step")
	require.Equal(t, []string{conversations.StatusCompleted, conversations.StatusCompleted, conversations.StatusCompleted,
		conversations.StatusCompleted}, fake.finishedStatuses(), "the turns were finished, by their last LLM step or by FinishTurn")
}

// serverClient is a client of the embedded Temporal server, without the payload codec (as
// TestRecordHistories records: the markers stay readable), closed after the test's workers
// stop, and a context that bounds the test.
func serverClient(t *testing.T) (client.Client, context.Context) {
	t.Helper()
	c, err := client.NewClientFromExisting(temporaltest.Client(t), client.Options{
		Namespace: temporaltest.Server(t).Namespace(), Logger: testLogger(t)})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return c, ctx
}

// runToolTurn runs the chat turn in, whose LLM asks for one tool call, until it completes with
// the scripted answer.
func runToolTurn(ctx context.Context, t *testing.T, c client.Client, in workflows.ChatTurnInput) client.WorkflowRun {
	t.Helper()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.ChatTurnWorkflowID(in.ConversationID, in.Turn),
		TaskQueue: workflows.OrchestratorQueue}, workflows.ChatTurn, in)
	require.NoError(t, err)
	var res workflows.ChatTurnResult
	require.NoError(t, run.Get(ctx, &res))
	require.Equal(t, workflows.ChatTurnResult{Status: conversations.StatusCompleted, Answer: "Done.", Steps: 2}, res)
	return run
}

// countEvents counts a history's events of type typ.
func countEvents(hist *historypb.History, typ enumspb.EventType) int {
	n := 0
	for _, e := range hist.GetEvents() {
		if e.GetEventType() == typ {
			n++
		}
	}
	return n
}

// hasVersionMarker reports whether a history recorded a GetVersion marker or upserted the
// TemporalChangeVersion search attribute.
func hasVersionMarker(hist *historypb.History) bool {
	for _, e := range hist.GetEvents() {
		if e.GetMarkerRecordedEventAttributes().GetMarkerName() == "Version" {
			return true
		}
		if _, ok := e.GetUpsertWorkflowSearchAttributesEventAttributes().GetSearchAttributes().GetIndexedFields()["TemporalChangeVersion"]; ok {
			return true
		}
	}
	return false
}

// TestRecordedPublishInputs reads the Publish inputs of the committed histories as today's
// workers do: a workflow that scheduled one before the payloads were typed still publishes it,
// and today's workflows schedule the same JSON.
func TestRecordedPublishInputs(t *testing.T) {
	n := 0
	for _, h := range histories {
		b, err := os.ReadFile(filepath.Join("testdata", h.file))
		require.NoError(t, err)
		hist, err := client.HistoryFromJSON(bytes.NewReader(b), client.HistoryJSONOptions{})
		require.NoError(t, err)
		for _, e := range hist.GetEvents() {
			a := e.GetActivityTaskScheduledEventAttributes()
			if a.GetActivityType().GetName() != "Publish" {
				continue
			}
			n++
			var in activities.PublishInput
			require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(a.GetInput(), &in), h.file)
			started, ok := in.Event.(events.ToolStartedData)
			require.True(t, ok, "%s: %T", h.file, in.Event)
			require.Equal(t, "call-1", started.ToolCallID)
			require.Equal(t, 1, started.Step)
			again, err := json.Marshal(in)
			require.NoError(t, err)
			require.JSONEq(t, string(a.GetInput().GetPayloads()[0].GetData()), string(again), h.file)
		}
	}
	require.Positive(t, n, "the histories hold Publish activities")
}

// testLogger writes warnings and errors to the test's output.
func testLogger(t *testing.T) log.Logger {
	return log.NewStructuredLogger(slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})))
}

// TestRecordHistories runs real workflows on the embedded Temporal server and writes their
// histories to testdata/. Run it only when a workflow change is meant to be incompatible (and
// is released so that old workflows have drained):
//
//	UPDATE_HISTORIES=1 go test ./workflows -run TestRecordHistories
func TestRecordHistories(t *testing.T) {
	if os.Getenv("UPDATE_HISTORIES") == "" {
		t.Skip("set UPDATE_HISTORIES=1 to record the histories in testdata/ again")
	}
	// A fixed identity keeps the host name and process ID out of the committed histories. The
	// client has no payload codec, so they stay readable test data, as the replayer reads them.
	c, err := client.NewClientFromExisting(temporaltest.Client(t), client.Options{
		Namespace: temporaltest.Server(t).Namespace(), Identity: "history-recorder", Logger: testLogger(t)})
	require.NoError(t, err)
	t.Cleanup(c.Close) // after the workers stop
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	lookup := plannedCall("call-1", "hr.get_employee")
	raise := needingApproval(plannedCall("call-1", "hr.update_salary"), toolcall.ApprovalID("chat-rec-approval-1", "step1-call-1"))
	fake := &scriptedActivities{calls: map[string][]toolcall.PlannedCall{
		"rec-tool": {lookup}, "rec-tool-v2": {lookup}, "rec-tool-v3": {lookup}, "rec-tool-v4": {lookup}, "rec-approval": {raise},
		"rec-approval-v3": {needingApproval(lookup, toolcall.ApprovalID("chat-rec-approval-v3-1", "step1-call-1"))},
		"rec-approval-v4": {needingApproval(lookup, toolcall.ApprovalID("chat-rec-approval-v4-1", "step1-call-1"))},
	}, requested: make(chan activities.RequestApprovalInput, 4)}
	startWorkers(t, c, fake)

	// One-tool turns as each version of the API started them (0: before versions were given).
	for _, h := range []struct {
		file, conv string
		version    int
	}{
		{"chatturn_tool_local.json", "rec-tool", 0},
		{"chatturn_tool_v2.json", "rec-tool-v2", workflows.VersionFoldedSearchAttributes},
		{"chatturn_tool_v3.json", "rec-tool-v3", workflows.VersionStepBookkeeping},
		{"chatturn_tool_v4.json", "rec-tool-v4", workflows.VersionFoldedToolResults},
	} {
		t.Run(h.file, func(t *testing.T) {
			run := runToolTurn(ctx, t, c, workflows.ChatTurnInput{ConversationID: h.conv, Turn: 1, Principal: alice, Version: h.version})
			writeHistory(ctx, t, c, run, h.file)
		})
	}

	approvalTurn := func(t *testing.T, in workflows.ChatTurnInput, name string) {
		call := fake.calls[in.ConversationID][0]
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.ChatTurnWorkflowID(in.ConversationID, in.Turn),
			TaskQueue: workflows.OrchestratorQueue}, workflows.ChatTurn, in)
		require.NoError(t, err)
		awaitRequest(ctx, t, fake.requested)
		// A refused decision leaves the call waiting (and, refused by the validator, no trace).
		requireRefused(ctx, t, c, run.GetID(), decision(call, true, alice), string(toolcall.OwnRequest))
		requireDecided(ctx, t, c, run.GetID(), decision(call, true, bob), approvals.StatusApproved)
		var res workflows.ChatTurnResult
		require.NoError(t, run.Get(ctx, &res))
		require.Equal(t, conversations.StatusCompleted, res.Status)
		writeHistory(ctx, t, c, run, name)
	}
	t.Run("chatturn_approval_local.json", func(t *testing.T) {
		approvalTurn(t, workflows.ChatTurnInput{ConversationID: "rec-approval", Turn: 1, Principal: alice}, "chatturn_approval_local.json")
	})
	t.Run("chatturn_approval_v3.json", func(t *testing.T) {
		approvalTurn(t, workflows.ChatTurnInput{ConversationID: "rec-approval-v3", Turn: 1, Principal: alice,
			Version: workflows.VersionStepBookkeeping}, "chatturn_approval_v3.json")
	})
	t.Run("chatturn_approval_v4.json", func(t *testing.T) {
		approvalTurn(t, workflows.ChatTurnInput{ConversationID: "rec-approval-v4", Turn: 1, Principal: alice,
			Version: workflows.VersionFoldedToolResults}, "chatturn_approval_v4.json")
	})

	t.Run("toolrun_approval_local.json", func(t *testing.T) {
		plan := *raise.Approval
		plan.ID = toolcall.ApprovalID("tool-rec-1", "req-1")
		in := workflows.ToolRunInput{Call: activities.ExecuteToolInput{Principal: alice, Tool: raise.Tool, Args: raise.Args,
			ToolCallID: "req-1"}, Policy: hrPolicy, Summary: raise.Summary, Approval: &plan, Domain: raise.Domain}
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.ToolRunWorkflowID("rec-1"),
			TaskQueue: hrPolicy.TaskQueue}, workflows.ToolRun, in)
		require.NoError(t, err)
		awaitRequest(ctx, t, fake.requested)
		requireDecided(ctx, t, c, run.GetID(), workflows.Decision{ApprovalID: plan.ID, Approve: true, ArgsHash: plan.ArgsHash,
			Decider: bob}, approvals.StatusApproved)
		var res workflows.ToolRunResult
		require.NoError(t, run.Get(ctx, &res))
		require.Equal(t, "ok", res.Status)
		require.Equal(t, "bob", res.Approver)
		writeHistory(ctx, t, c, run, "toolrun_approval_local.json")
	})
}

// startWorkers runs the orchestrator worker (ChatTurn with the chat and approval activities)
// and an HR domain worker (ToolRun, ExecuteTool and the approval activities), with fake's
// activities registered under the names the workflows use.
func startWorkers(t *testing.T, c client.Client, fake *scriptedActivities) {
	t.Helper()
	orchestrator := worker.New(c, workflows.OrchestratorQueue, worker.Options{})
	orchestrator.RegisterWorkflow(workflows.ChatTurn)
	register(orchestrator, map[string]any{"Complete": fake.Complete, "SaveToolResult": fake.SaveToolResult,
		"Publish": fake.Publish, "FinishTurn": fake.FinishTurn, "RequestApproval": fake.RequestApproval,
		"RecordDecision": fake.RecordDecision})
	domain := worker.New(c, hrPolicy.TaskQueue, worker.Options{})
	domain.RegisterWorkflow(workflows.ToolRun)
	register(domain, map[string]any{"ExecuteTool": fake.ExecuteTool, "RequestApproval": fake.RequestApproval,
		"RecordDecision": fake.RecordDecision})
	for _, w := range []worker.Worker{orchestrator, domain} {
		require.NoError(t, w.Start())
		t.Cleanup(w.Stop)
	}
}

// register registers each activity function under its name.
func register(w worker.Worker, fns map[string]any) {
	for name, fn := range fns {
		w.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
}

// awaitRequest waits until a call asks for approval.
func awaitRequest(ctx context.Context, t *testing.T, requested <-chan activities.RequestApprovalInput) {
	t.Helper()
	select {
	case <-requested:
	case <-ctx.Done():
		t.Fatal("no request for approval")
	}
}

// requireDecided sends d and requires the workflow to accept it with status.
func requireDecided(ctx context.Context, t *testing.T, c client.Client, workflowID string, d workflows.Decision, status string) {
	t.Helper()
	var res workflows.DecisionResult
	require.NoError(t, sendDecision(ctx, c, workflowID, d, &res))
	require.Equal(t, workflows.DecisionResult{ApprovalID: d.ApprovalID, Status: status}, res)
}

// requireRefused sends d and requires the validator to refuse it with errType.
func requireRefused(ctx context.Context, t *testing.T, c client.Client, workflowID string, d workflows.Decision, wantType string) {
	t.Helper()
	err := sendDecision(ctx, c, workflowID, d, nil)
	require.Error(t, err)
	require.Equal(t, wantType, errType(err))
}

// sendDecision is the decide-approval Update as the approvals API sends it.
func sendDecision(ctx context.Context, c client.Client, workflowID string, d workflows.Decision, res *workflows.DecisionResult) error {
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: workflowID, UpdateName: workflows.UpdateDecideApproval,
		WaitForStage: client.WorkflowUpdateStageCompleted, Args: []any{d}})
	if err != nil {
		return err
	}
	return h.Get(ctx, res)
}

// fetchHistory reads the full history of run.
func fetchHistory(ctx context.Context, t *testing.T, c client.Client, run client.WorkflowRun) *historypb.History {
	t.Helper()
	hist := &historypb.History{}
	iter := c.GetWorkflowHistory(ctx, run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		e, err := iter.Next()
		require.NoError(t, err)
		hist.Events = append(hist.Events, e)
	}
	return hist
}

// writeHistory writes the full history of run to testdata/name as JSON.
func writeHistory(ctx context.Context, t *testing.T, c client.Client, run client.WorkflowRun, name string) {
	t.Helper()
	hist := fetchHistory(ctx, t, c, run)
	b, err := protojson.Marshal(hist)
	require.NoError(t, err)
	// protojson's spacing varies on purpose; json.Indent makes the file stable and diffable.
	var out bytes.Buffer
	require.NoError(t, json.Indent(&out, b, "", "  "))
	out.WriteByte('\n')
	require.NoError(t, os.MkdirAll("testdata", 0o755))
	require.NoError(t, os.WriteFile(filepath.Join("testdata", name), out.Bytes(), 0o644))
	t.Logf("wrote testdata/%s: %d events", name, len(hist.Events))
}

// scriptedActivities stand in for every activity of the recorded workflows: the LLM asks for
// the conversation's calls in step 1 and answers in step 2, the tool returns toolOutput, and the
// bookkeeping succeeds.
type scriptedActivities struct {
	// calls are the calls the LLM asks for, by conversation ID.
	calls map[string][]toolcall.PlannedCall
	// requested receives each request for approval.
	requested chan activities.RequestApprovalInput

	// slowStarted receives a signal when a call of slowTool starts; release ends those calls.
	slowStarted chan struct{}
	release     chan struct{}

	mu       sync.Mutex
	saved    []string // the IDs of the calls whose results were saved
	finished []string // the final statuses of the turns finished
}

// script sets the calls the LLM asks for in conversation conv.
func (a *scriptedActivities) script(conv string, calls ...toolcall.PlannedCall) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls[conv] = calls
}

// savedCalls are the IDs of the calls whose results were saved.
func (a *scriptedActivities) savedCalls() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.saved)
}

// finishedStatuses are the final statuses of the turns finished.
func (a *scriptedActivities) finishedStatuses() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.finished)
}

func (a *scriptedActivities) Complete(_ context.Context, in activities.CompleteInput) (activities.CompleteResult, error) {
	if in.Step == 1 {
		a.mu.Lock()
		calls := a.calls[in.ConversationID]
		a.mu.Unlock()
		return activities.CompleteResult{Content: "Let me check.", Calls: calls}, nil
	}
	a.mu.Lock()
	for _, r := range in.Results { // the results left to this step, saved as the real one does
		a.saved = append(a.saved, r.Outcome.Call.ID)
	}
	if in.StepBookkeeping { // the answering step records the turn's end, as the real one does
		a.finished = append(a.finished, conversations.StatusCompleted)
	}
	a.mu.Unlock()
	return activities.CompleteResult{Content: "Done."}, nil
}

func (a *scriptedActivities) SaveToolResult(_ context.Context, in activities.SaveToolResultInput) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.saved = append(a.saved, in.Outcome.Call.ID)
	return nil
}

func (a *scriptedActivities) Publish(context.Context, activities.PublishInput) error { return nil }

func (a *scriptedActivities) FinishTurn(_ context.Context, in activities.FinishTurnInput) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.finished = append(a.finished, in.Status)
	return nil
}

func (a *scriptedActivities) RequestApproval(_ context.Context, in activities.RequestApprovalInput) error {
	select {
	case a.requested <- in:
	default: // a retry; the test already knows
	}
	return nil
}

func (a *scriptedActivities) RecordDecision(context.Context, activities.RecordDecisionInput) error {
	return nil
}

func (a *scriptedActivities) ExecuteTool(ctx context.Context, in activities.ExecuteToolInput) (activities.ExecuteToolResult, error) {
	if in.Tool == slowTool { // runs until the test releases it
		a.slowStarted <- struct{}{}
		select {
		case <-a.release:
		case <-ctx.Done():
		}
		return activities.ExecuteToolResult{}, ctx.Err()
	}
	return activities.ExecuteToolResult{Tool: in.Tool, Output: toolOutput}, nil
}

// slowTool is a tool whose calls run until the test releases them (scriptedActivities).
const slowTool = "hr.slow_report"

// TestCancelledTurnRecordsToolResult cancels a turn while its tool runs: the call's outcome is
// still recorded (SaveToolResult, outside the cancelled context), and the turn ends cancelled.
func TestCancelledTurnRecordsToolResult(t *testing.T) {
	c, ctx := serverClient(t)
	fake := &scriptedActivities{calls: map[string][]toolcall.PlannedCall{}, requested: make(chan activities.RequestApprovalInput, 4),
		slowStarted: make(chan struct{}, 1), release: make(chan struct{})}
	defer close(fake.release)
	startWorkers(t, c, fake)

	conv := fmt.Sprintf("cancel-%d", time.Now().UnixNano())
	fake.script(conv, plannedCall("call-1", slowTool))
	in := workflows.ChatTurnInput{ConversationID: conv, Turn: 1, Principal: alice, Version: workflows.CurrentVersion}
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.ChatTurnWorkflowID(in.ConversationID, in.Turn),
		TaskQueue: workflows.OrchestratorQueue}, workflows.ChatTurn, in)
	require.NoError(t, err)
	select {
	case <-fake.slowStarted:
	case <-ctx.Done():
		t.Fatal("the tool never started")
	}
	require.NoError(t, c.CancelWorkflow(ctx, run.GetID(), run.GetRunID()))
	var canceled *temporal.CanceledError
	require.ErrorAs(t, run.Get(ctx, nil), &canceled)
	require.Equal(t, []string{"call-1"}, fake.savedCalls(), "the cancelled call's outcome was recorded")
	require.Equal(t, []string{conversations.StatusCancelled}, fake.finishedStatuses())
}
