package workflows_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"mcp-platform/activities"
	"mcp-platform/authz"
	"mcp-platform/internal/approvals"
	"mcp-platform/internal/conversations"
	"mcp-platform/internal/events"
	"mcp-platform/internal/temporalx"
	"mcp-platform/toolcall"
	"mcp-platform/workflows"
)

// Alice asks; Bob may approve HR tool calls.
var (
	alice = authz.Principal{Subject: "alice", Roles: []string{"employee"}}
	bob   = authz.Principal{Subject: "bob", Roles: []string{"hr_manager"}}
)

// hrPolicy schedules HR tools on their domain's queue.
var hrPolicy = toolcall.Policy{TaskQueue: "domain-hr", Timeout: 30 * time.Second, MaxAttempts: 3,
	InitialInterval: time.Second, MaxInterval: 10 * time.Second, Backoff: 2}

// approvalTimeout is how long the tests' requests for approval wait.
const approvalTimeout = time.Hour

// turnInput is the turn every ChatTurn test runs, as today's API starts it.
var turnInput = workflows.ChatTurnInput{ConversationID: "conv-1", Turn: 3, Principal: alice, Version: workflows.CurrentVersion}

// plannedCall is an HR call the LLM asked for, allowed for the user.
func plannedCall(id, tool string) toolcall.PlannedCall {
	return toolcall.PlannedCall{ID: id, Tool: tool, Domain: "hr", Args: map[string]any{"employee_id": "E1"},
		Policy: hrPolicy, Summary: tool + "(employee_id=E1)"}
}

// needingApproval is c when an HR manager must approve it first.
func needingApproval(c toolcall.PlannedCall, approvalID string) toolcall.PlannedCall {
	c.Approval = &toolcall.ApprovalPlan{ID: approvalID, Reason: c.Tool + " changes a business system",
		Approvers: []string{"hr_manager"}, Timeout: approvalTimeout, ArgsHash: "hash-" + c.ID}
	return c
}

// decision is by's answer to the approval of c, quoting the arguments shown.
func decision(c toolcall.PlannedCall, approve bool, by authz.Principal) workflows.Decision {
	return workflows.Decision{ApprovalID: c.Approval.ID, Approve: approve, ArgsHash: c.Approval.ArgsHash, Decider: by}
}

// steps answers LLM step n with results[n-1], and repeats the last result after that.
func steps(results ...activities.CompleteResult) func(int) (activities.CompleteResult, error) {
	return func(step int) (activities.CompleteResult, error) {
		return results[min(step, len(results))-1], nil
	}
}

// toolOutput is what the HR tool returns when it runs.
var toolOutput = map[string]any{"name": "Ann"}

// toolOK is a tool that succeeds.
func toolOK(activities.ExecuteToolInput) (activities.ExecuteToolResult, error) {
	return activities.ExecuteToolResult{Tool: "hr.get_employee", Output: toolOutput}, nil
}

// fakes stand in for the turn's activities: the LLM and the tool answer as the test says, and
// every call is recorded.
type fakes struct {
	llm  func(step int) (activities.CompleteResult, error)
	tool func(activities.ExecuteToolInput) (activities.ExecuteToolResult, error)

	mu        sync.Mutex
	completes []activities.CompleteInput
	executed  []activities.ExecuteToolInput
	queues    []string
	saved     []activities.SaveToolResultInput
	requested []activities.RequestApprovalInput
	recorded  []activities.RecordDecisionInput
	finished  []activities.FinishTurnInput
	published []activities.PublishInput
	status    []string
	// tools are the Tools search attribute as each upsert that set it wrote it.
	tools [][]string
}

// record appends v to *s under the lock: activities of one step run concurrently.
func record[T any](f *fakes, s *[]T, v T) {
	f.mu.Lock()
	defer f.mu.Unlock()
	*s = append(*s, v)
}

// snapshot copies *s under the lock.
func snapshot[T any](f *fakes, s *[]T) []T {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(*s)
}

// lastStatus is the TurnStatus search attribute as last set ("" before it is).
func (f *fakes) lastStatus() string {
	s := snapshot(f, &f.status)
	if len(s) == 0 {
		return ""
	}
	return s[len(s)-1]
}

// outcome is what the conversation records about one tool call.
type outcome struct {
	Step, Index int
	CallID      string
	Status      string
	Error       string
	Approver    string
	Output      any
}

// outcomes are the saved tool results in step and call order: saved by SaveToolResult or left
// for the next LLM step to save.
func (f *fakes) outcomes() []outcome {
	results := f.leftToSteps()
	for _, s := range snapshot(f, &f.saved) {
		results = append(results, activities.ToolResult{Step: s.Step, Index: s.Index, Outcome: s.Outcome})
	}
	var out []outcome
	for _, r := range results {
		out = append(out, outcome{Step: r.Step, Index: r.Index, CallID: r.Outcome.Call.ID, Status: r.Outcome.Status,
			Error: r.Outcome.Error, Approver: r.Outcome.Approver, Output: r.Outcome.Output})
	}
	slices.SortFunc(out, func(a, b outcome) int { return cmp.Or(cmp.Compare(a.Step, b.Step), cmp.Compare(a.Index, b.Index)) })
	return out
}

// leftToSteps are the tool results the workflow left for its LLM steps to save.
func (f *fakes) leftToSteps() []activities.ToolResult {
	var out []activities.ToolResult
	for _, c := range snapshot(f, &f.completes) {
		out = append(out, c.Results...)
	}
	return out
}

// newEnv is a test environment whose activities are f. Logs go to the test's output.
func newEnv(t *testing.T, f *fakes) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))))
	env := s.NewTestWorkflowEnvironment()
	// The first workflow of a test process pages in and initialises the SDK's code paths while
	// its goroutine holds control, which takes over the default second on a loaded machine;
	// a workflow that really does not yield is still caught.
	env.SetWorkerOptions(worker.Options{DeadlockDetectionTimeout: 15 * time.Second})

	chat, approval, tools := &activities.ChatActivities{}, &activities.ApprovalActivities{}, &activities.ToolExecutor{}
	env.RegisterActivity(chat)
	env.RegisterActivity(approval)
	env.RegisterActivity(tools)

	env.OnActivity(chat.Complete, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.CompleteInput) (activities.CompleteResult, error) {
			record(f, &f.completes, in)
			return f.llm(in.Step)
		})
	env.OnActivity(chat.SaveToolResult, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.SaveToolResultInput) error {
			record(f, &f.saved, in)
			return nil
		})
	env.OnActivity(chat.Publish, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.PublishInput) error {
			record(f, &f.published, in)
			return nil
		})
	env.OnActivity(chat.FinishTurn, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.FinishTurnInput) error {
			record(f, &f.finished, in)
			return nil
		})
	env.OnActivity(approval.RequestApproval, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.RequestApprovalInput) error {
			record(f, &f.requested, in)
			return nil
		})
	env.OnActivity(approval.RecordDecision, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.RecordDecisionInput) error {
			record(f, &f.recorded, in)
			return nil
		})
	env.OnActivity(tools.ExecuteTool, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.ExecuteToolInput) (activities.ExecuteToolResult, error) {
			record(f, &f.executed, in)
			record(f, &f.queues, activity.GetInfo(ctx).TaskQueue)
			return f.tool(in)
		})
	env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		sa := args.Get(0).(temporal.SearchAttributes)
		if s, ok := sa.GetKeyword(temporalx.TurnStatus); ok {
			record(f, &f.status, s)
		}
		if tools, ok := sa.GetKeywordList(temporalx.Tools); ok {
			record(f, &f.tools, tools)
		}
	}).Return(nil)
	return env
}

// reply is how the workflow answered one decision.
type reply struct {
	accepted bool
	rejected error
	result   any
	err      error
}

// decide sends d to the workflow as the decide-approval Update with ID id.
func decide(env *testsuite.TestWorkflowEnvironment, id string, d workflows.Decision) *reply {
	r := &reply{}
	env.UpdateWorkflow(workflows.UpdateDecideApproval, id, &testsuite.TestUpdateCallback{
		OnAccept:   func() { r.accepted = true },
		OnReject:   func(err error) { r.rejected = err },
		OnComplete: func(res any, err error) { r.result, r.err = res, err },
	}, d)
	return r
}

// errType is the type of the application error in err's chain ("" if none).
func errType(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Type()
	}
	return ""
}

func TestChatTurn(t *testing.T) {
	lookup := plannedCall("call-1", "hr.get_employee")
	refused := toolcall.PlannedCall{ID: "call-1", Tool: "hr.fire_everyone", Args: map[string]any{},
		Refused: `there is no tool named "hr.fire_everyone"`, RefusedType: string(toolcall.NotFound)}
	wantExecuted := []activities.ExecuteToolInput{{Principal: alice, Tool: "hr.get_employee",
		Args: map[string]any{"employee_id": "E1"}, ToolCallID: "step1-call-1"}}

	tests := []struct {
		name     string
		maxSteps int
		llm      func(int) (activities.CompleteResult, error)
		tool     func(activities.ExecuteToolInput) (activities.ExecuteToolResult, error)

		want         workflows.ChatTurnResult
		wantErrType  string
		wantErr      string
		wantSteps    int
		wantExecuted []activities.ExecuteToolInput
		wantOutcomes []outcome
		wantFinish   activities.FinishTurnInput
	}{{
		name:       "OK",
		llm:        steps(activities.CompleteResult{Content: "Hello, Alice."}),
		want:       workflows.ChatTurnResult{Status: conversations.StatusCompleted, Answer: "Hello, Alice.", Steps: 1},
		wantSteps:  1,
		wantFinish: activities.FinishTurnInput{Status: conversations.StatusCompleted, Answer: "Hello, Alice.", Step: 1},
	}, {
		name: "OKToolCall",
		llm: steps(activities.CompleteResult{Content: "Let me look.", Calls: []toolcall.PlannedCall{lookup}},
			activities.CompleteResult{Content: "Ann works in HR."}),
		tool:         toolOK,
		want:         workflows.ChatTurnResult{Status: conversations.StatusCompleted, Answer: "Ann works in HR.", Steps: 2},
		wantSteps:    2,
		wantExecuted: wantExecuted,
		wantOutcomes: []outcome{{Step: 1, Index: 0, CallID: "call-1", Status: "ok", Output: toolOutput}},
		wantFinish:   activities.FinishTurnInput{Status: conversations.StatusCompleted, Answer: "Ann works in HR.", Step: 2},
	}, {
		name: "OKRefusedCall",
		llm: steps(activities.CompleteResult{Calls: []toolcall.PlannedCall{refused}},
			activities.CompleteResult{Content: "There is no such tool."}),
		want:      workflows.ChatTurnResult{Status: conversations.StatusCompleted, Answer: "There is no such tool.", Steps: 2},
		wantSteps: 2,
		wantOutcomes: []outcome{{Step: 1, Index: 0, CallID: "call-1", Status: string(toolcall.NotFound),
			Error: `there is no tool named "hr.fire_everyone"`}},
		wantFinish: activities.FinishTurnInput{Status: conversations.StatusCompleted, Answer: "There is no such tool.", Step: 2},
	}, {
		name: "OKToolDenied",
		llm: steps(activities.CompleteResult{Calls: []toolcall.PlannedCall{lookup}},
			activities.CompleteResult{Content: "You may not see that."}),
		tool: func(activities.ExecuteToolInput) (activities.ExecuteToolResult, error) {
			return activities.ExecuteToolResult{}, temporal.NewNonRetryableApplicationError(
				"alice may not use hr.get_employee", string(toolcall.Denied), nil)
		},
		want:         workflows.ChatTurnResult{Status: conversations.StatusCompleted, Answer: "You may not see that.", Steps: 2},
		wantSteps:    2,
		wantExecuted: wantExecuted,
		wantOutcomes: []outcome{{Step: 1, Index: 0, CallID: "call-1", Status: string(toolcall.Denied),
			Error: "alice may not use hr.get_employee"}},
		wantFinish: activities.FinishTurnInput{Status: conversations.StatusCompleted, Answer: "You may not see that.", Step: 2},
	}, {
		name:        "ErrStepLimit",
		maxSteps:    2,
		llm:         steps(activities.CompleteResult{Content: "Once more.", Calls: []toolcall.PlannedCall{lookup}}),
		tool:        toolOK,
		wantErrType: "step_limit",
		wantErr:     "the assistant did not finish within 2 steps",
		wantSteps:   2,
		wantExecuted: append(wantExecuted, activities.ExecuteToolInput{Principal: alice, Tool: "hr.get_employee",
			Args: map[string]any{"employee_id": "E1"}, ToolCallID: "step2-call-1"}),
		wantOutcomes: []outcome{{Step: 1, Index: 0, CallID: "call-1", Status: "ok", Output: toolOutput},
			{Step: 2, Index: 0, CallID: "call-1", Status: "ok", Output: toolOutput}},
		wantFinish: activities.FinishTurnInput{Status: conversations.StatusFailed, Answer: "Once more.",
			Error: "the assistant did not finish within 2 steps", Step: 2},
	}, {
		name: "ErrLLMAuth",
		llm: func(int) (activities.CompleteResult, error) {
			return activities.CompleteResult{}, temporal.NewNonRetryableApplicationError(
				"the LLM provider refused the API key", activities.ErrTypeLLMAuth, nil)
		},
		wantErrType: activities.ErrTypeLLMAuth,
		wantErr:     "the LLM provider refused the API key",
		wantSteps:   1,
		wantFinish: activities.FinishTurnInput{Status: conversations.StatusFailed,
			Error: "the LLM provider refused the API key", Step: 1},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakes{llm: tt.llm, tool: tt.tool}
			env := newEnv(t, f)
			in := turnInput
			in.MaxSteps = tt.maxSteps
			env.ExecuteWorkflow(workflows.ChatTurn, in)
			require.True(t, env.IsWorkflowCompleted())

			if tt.wantErr != "" {
				err := env.GetWorkflowError()
				require.Error(t, err)
				require.Equal(t, tt.wantErrType, errType(err))
				require.ErrorContains(t, err, tt.wantErr)
			} else {
				require.NoError(t, env.GetWorkflowError())
				var got workflows.ChatTurnResult
				require.NoError(t, env.GetWorkflowResult(&got))
				require.Equal(t, tt.want, got)
			}
			require.Len(t, snapshot(f, &f.completes), tt.wantSteps, "LLM steps")
			require.Equal(t, tt.wantExecuted, snapshot(f, &f.executed))
			for _, q := range snapshot(f, &f.queues) {
				require.Equal(t, hrPolicy.TaskQueue, q, "tools run on their domain's queue")
			}
			require.Equal(t, tt.wantOutcomes, f.outcomes())
			completes := snapshot(f, &f.completes)
			for _, c := range completes {
				require.True(t, c.StepBookkeeping, "each LLM step records what follows from its answer")
			}
			wantFinish := tt.wantFinish
			if wantFinish.Status == conversations.StatusCompleted {
				// The step that answered recorded the end, with its answer.
				require.Empty(t, snapshot(f, &f.finished), "no FinishTurn for a completed turn")
				require.Equal(t, wantFinish.Step, completes[len(completes)-1].Step)
			} else {
				wantFinish.ConversationID, wantFinish.Turn = turnInput.ConversationID, turnInput.Turn
				require.Equal(t, []activities.FinishTurnInput{wantFinish}, snapshot(f, &f.finished))
			}
			require.Empty(t, snapshot(f, &f.published), "calls that ran at once were announced by their step")
			wantStatus := conversations.StatusCompleted
			if tt.wantErr != "" {
				wantStatus = conversations.StatusFailed
			}
			require.Equal(t, wantStatus, f.lastStatus())
		})
	}
}

// finishesLast is toolOK, except that the call whose ToolCallID is last answers only after
// another call answered: the test environment runs a step's calls concurrently, in no set order.
func finishesLast(last string) func(activities.ExecuteToolInput) (activities.ExecuteToolResult, error) {
	other := make(chan struct{})
	var once sync.Once
	return func(in activities.ExecuteToolInput) (activities.ExecuteToolResult, error) {
		if in.ToolCallID != last {
			defer once.Do(func() { close(other) })
			return toolOK(in)
		}
		select {
		case <-other:
		case <-time.After(10 * time.Second): // the assertion then says which finished last
		}
		return toolOK(in)
	}
}

// TestChatTurnLeavesResultsToTheNextStep checks where a step's tool results are saved in
// today's turns: the last to finish by the next LLM step, the others (and those of a step no
// LLM step follows) by SaveToolResult.
func TestChatTurnLeavesResultsToTheNextStep(t *testing.T) {
	lookup, other := plannedCall("call-1", "hr.get_employee"), plannedCall("call-2", "hr.get_employee")
	llmAuth := temporal.NewNonRetryableApplicationError("the LLM provider refused the API key", activities.ErrTypeLLMAuth, nil)
	tests := []struct {
		name      string
		llm       func(int) (activities.CompleteResult, error)
		tool      func(activities.ExecuteToolInput) (activities.ExecuteToolResult, error)
		maxSteps  int
		wantLeft  []string // step/call of the results the next step saved
		wantSaved []string // step/call of the results SaveToolResult saved
	}{{
		name: "OK one call: its result goes to the next step",
		llm: steps(activities.CompleteResult{Calls: []toolcall.PlannedCall{lookup}},
			activities.CompleteResult{Content: "Ann works in HR."}),
		wantLeft: []string{"1/call-1"},
	}, {
		name: "OK two calls: the last to finish goes to the next step",
		llm: steps(activities.CompleteResult{Calls: []toolcall.PlannedCall{lookup, other}},
			activities.CompleteResult{Content: "Both work in HR."}),
		tool:      finishesLast(toolcall.CallKey(1, "call-2")),
		wantLeft:  []string{"1/call-2"},
		wantSaved: []string{"1/call-1"},
	}, {
		name:     "OK the step limit: no step follows the last one",
		maxSteps: 2,
		llm:      steps(activities.CompleteResult{Calls: []toolcall.PlannedCall{lookup}}),
		wantLeft: []string{"1/call-1"}, wantSaved: []string{"2/call-1"},
	}, {
		name: "OK the next step fails: SaveToolResult saves what it was left",
		llm: func(step int) (activities.CompleteResult, error) {
			if step == 1 {
				return activities.CompleteResult{Calls: []toolcall.PlannedCall{lookup}}, nil
			}
			return activities.CompleteResult{}, llmAuth
		},
		wantLeft: []string{"1/call-1"}, wantSaved: []string{"1/call-1"},
	}}
	keys := func(rs []activities.ToolResult) []string {
		var out []string
		for _, r := range rs {
			out = append(out, fmt.Sprintf("%d/%s", r.Step, r.Outcome.Call.ID))
		}
		return out
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakes{llm: tt.llm, tool: toolOK}
			if tt.tool != nil {
				f.tool = tt.tool
			}
			env := newEnv(t, f)
			in := turnInput
			in.MaxSteps = tt.maxSteps
			env.ExecuteWorkflow(workflows.ChatTurn, in)
			require.True(t, env.IsWorkflowCompleted())
			require.Equal(t, tt.wantLeft, keys(f.leftToSteps()))
			var saved []activities.ToolResult
			for _, s := range snapshot(f, &f.saved) {
				saved = append(saved, activities.ToolResult{Step: s.Step, Outcome: s.Outcome})
			}
			require.Equal(t, tt.wantSaved, keys(saved))
		})
	}
}

// TestChatTurnBookkeepingByVersion runs a one-tool turn as today's API starts it and as an
// API before VersionStepBookkeeping did: the older turn publishes tool_started and records its
// end itself, the newer leaves both to its LLM steps.
func TestChatTurnBookkeepingByVersion(t *testing.T) {
	lookup := plannedCall("call-1", "hr.get_employee")
	for _, tc := range []struct {
		name      string
		version   int
		step      bool
		published int
		finished  int
	}{
		{"OK today's turn: the LLM steps record it", workflows.CurrentVersion, true, 0, 0},
		{"OK an older turn records it itself", workflows.VersionFoldedSearchAttributes, false, 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakes{tool: toolOK, llm: steps(activities.CompleteResult{Content: "Let me look.", Calls: []toolcall.PlannedCall{lookup}},
				activities.CompleteResult{Content: "Ann works in HR."})}
			env := newEnv(t, f)
			in := turnInput
			in.Version = tc.version
			env.ExecuteWorkflow(workflows.ChatTurn, in)
			require.True(t, env.IsWorkflowCompleted())
			require.NoError(t, env.GetWorkflowError())
			for _, c := range snapshot(f, &f.completes) {
				require.Equal(t, tc.step, c.StepBookkeeping)
			}
			require.Len(t, snapshot(f, &f.published), tc.published, "tool_started published by the workflow")
			require.Len(t, snapshot(f, &f.finished), tc.finished, "FinishTurn")
			require.Equal(t, conversations.StatusCompleted, f.lastStatus())
		})
	}
}

func TestChatTurnApproval(t *testing.T) {
	raise := needingApproval(plannedCall("call-1", "hr.update_salary"), "apr-1")
	rejected := decision(raise, false, bob)
	rejected.Comment = "not this year"

	tests := []struct {
		name string
		// decision is sent a minute after the request; nil lets the request expire.
		decision *workflows.Decision

		wantExecuted []activities.ExecuteToolInput
		wantOutcome  outcome
		wantRecorded string
	}{{
		name:     "OKApproved",
		decision: new(decision(raise, true, bob)),
		wantExecuted: []activities.ExecuteToolInput{{Principal: alice, Tool: "hr.update_salary",
			Args: map[string]any{"employee_id": "E1"}, ToolCallID: "step1-call-1", Approver: "bob"}},
		wantOutcome:  outcome{Step: 1, CallID: "call-1", Status: "ok", Approver: "bob", Output: toolOutput},
		wantRecorded: approvals.StatusApproved,
	}, {
		name:     "OKRejected",
		decision: &rejected,
		wantOutcome: outcome{Step: 1, CallID: "call-1", Status: approvals.StatusRejected, Approver: "bob",
			Error: "the request was rejected by bob; hr.update_salary was not run (comment: not this year)"},
		wantRecorded: approvals.StatusRejected,
	}, {
		name: "OKExpired",
		wantOutcome: outcome{Step: 1, CallID: "call-1", Status: approvals.StatusExpired,
			Error: "the request for approval expired before anyone decided; hr.update_salary was not run"},
		wantRecorded: approvals.StatusExpired,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakes{tool: toolOK, llm: steps(activities.CompleteResult{Calls: []toolcall.PlannedCall{raise}},
				activities.CompleteResult{Content: "Done."})}
			env := newEnv(t, f)
			var waiting string
			var r *reply
			env.RegisterDelayedCallback(func() {
				waiting = f.lastStatus()
				// The status change to waiting wrote the tool along with it.
				require.Equal(t, [][]string{{"hr.update_salary"}}, snapshot(f, &f.tools))
				require.Empty(t, snapshot(f, &f.executed), "the call waits for a decision")
				if tt.decision != nil {
					r = decide(env, "decision-1", *tt.decision)
				}
			}, time.Minute)
			start := env.Now()
			env.ExecuteWorkflow(workflows.ChatTurn, turnInput)
			require.True(t, env.IsWorkflowCompleted())
			require.NoError(t, env.GetWorkflowError())

			require.Equal(t, conversations.StatusAwaitingApproval, waiting)
			require.Equal(t, conversations.StatusCompleted, f.lastStatus())
			if tt.decision != nil {
				require.True(t, r.accepted)
				require.NoError(t, r.err)
				require.Equal(t, workflows.DecisionResult{ApprovalID: "apr-1", Status: tt.wantRecorded}, r.result)
			} else {
				require.GreaterOrEqual(t, env.Now().Sub(start), approvalTimeout, "expires only after the plan's timeout")
			}

			requested := snapshot(f, &f.requested)
			require.Len(t, requested, 1)
			require.Equal(t, *raise.Approval, requested[0].Plan)
			require.Equal(t, "step1-call-1", requested[0].ToolCallID)
			require.Equal(t, alice, requested[0].Requester)
			require.Equal(t, turnInput.ConversationID, requested[0].ConversationID)
			recorded := snapshot(f, &f.recorded)
			require.Len(t, recorded, 1)
			require.Equal(t, tt.wantRecorded, recorded[0].Status)
			require.Equal(t, tt.wantOutcome.Approver, recorded[0].Approver)

			require.Equal(t, tt.wantExecuted, snapshot(f, &f.executed))
			require.Equal(t, []outcome{tt.wantOutcome}, f.outcomes())
			require.Len(t, snapshot(f, &f.completes), 2, "the LLM reads the outcome")
			// A call that waited for a person starts when approved, announced by the workflow
			// with its approver; its LLM step could not announce it.
			var started []string
			for _, p := range snapshot(f, &f.published) {
				if d, ok := p.Event.(events.ToolStartedData); ok {
					started = append(started, d.ToolCallID+" approved by "+d.Approver)
				}
			}
			if tt.wantExecuted != nil {
				require.Equal(t, []string{"call-1 approved by bob"}, started)
			} else {
				require.Empty(t, started)
			}
		})
	}
}

func TestChatTurnApprovalValidator(t *testing.T) {
	raise := needingApproval(plannedCall("call-1", "hr.update_salary"), "apr-1")
	wrongHash := decision(raise, true, bob)
	wrongHash.ArgsHash = "hash-of-other-arguments"
	unknown := decision(raise, true, bob)
	unknown.ApprovalID = "apr-unknown"

	tests := []struct {
		name string
		// decisions are sent in order a minute after the request; the last is refused.
		decisions []workflows.Decision
		wantType  string
	}{
		{"ErrOwnRequest", []workflows.Decision{decision(raise, true, authz.Principal{Subject: "alice", Roles: []string{"hr_manager"}})}, string(toolcall.OwnRequest)},
		{"ErrNotApprover", []workflows.Decision{decision(raise, true, authz.Principal{Subject: "carol", Roles: []string{"employee"}})}, string(toolcall.NotApprover)},
		{"ErrArgsMismatch", []workflows.Decision{wrongHash}, string(toolcall.ArgsMismatch)},
		{"ErrNotPendingUnknown", []workflows.Decision{unknown}, string(toolcall.NotPending)},
		{"ErrNotPendingDecided", []workflows.Decision{decision(raise, false, bob), decision(raise, true, bob)}, string(toolcall.NotPending)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakes{tool: toolOK, llm: steps(activities.CompleteResult{Calls: []toolcall.PlannedCall{raise}},
				activities.CompleteResult{Content: "Done."})}
			env := newEnv(t, f)
			var replies []*reply
			env.RegisterDelayedCallback(func() {
				for i, d := range tt.decisions {
					replies = append(replies, decide(env, fmt.Sprintf("decision-%d", i), d))
				}
			}, time.Minute)
			env.ExecuteWorkflow(workflows.ChatTurn, turnInput)
			require.True(t, env.IsWorkflowCompleted())
			require.NoError(t, env.GetWorkflowError())

			require.Len(t, replies, len(tt.decisions))
			refused := replies[len(replies)-1]
			require.False(t, refused.accepted)
			require.Error(t, refused.rejected)
			require.Equal(t, tt.wantType, errType(refused.rejected))

			// A refused decision changes nothing: the call is decided by the first accepted
			// decision, or else expires.
			want := approvals.StatusExpired
			if len(tt.decisions) > 1 {
				require.True(t, replies[0].accepted)
				want = approvals.StatusRejected
			}
			recorded := snapshot(f, &f.recorded)
			require.Len(t, recorded, 1)
			require.Equal(t, want, recorded[0].Status)
			require.Empty(t, snapshot(f, &f.executed))
		})
	}
}

func TestChatTurnTwoApprovals(t *testing.T) {
	raise := needingApproval(plannedCall("call-1", "hr.update_salary"), "apr-1")
	bonus := needingApproval(plannedCall("call-2", "hr.grant_bonus"), "apr-2")
	f := &fakes{tool: toolOK, llm: steps(activities.CompleteResult{Calls: []toolcall.PlannedCall{raise, bonus}},
		activities.CompleteResult{Content: "Raised; no bonus."})}
	env := newEnv(t, f)

	var rejectBonus, approveRaise *reply
	env.RegisterDelayedCallback(func() {
		requested := snapshot(f, &f.requested)
		ids := []string{}
		for _, r := range requested {
			ids = append(ids, r.Plan.ID)
		}
		slices.Sort(ids)
		require.Equal(t, []string{"apr-1", "apr-2"}, ids, "both calls wait at once")
		require.Equal(t, conversations.StatusAwaitingApproval, f.lastStatus())
		rejectBonus = decide(env, "decision-bonus", decision(bonus, false, bob))
	}, time.Minute)
	env.RegisterDelayedCallback(func() {
		require.Empty(t, snapshot(f, &f.executed), "the raise still waits")
		require.Equal(t, conversations.StatusAwaitingApproval, f.lastStatus(), "one call still waits")
		require.Len(t, snapshot(f, &f.recorded), 1)
		approveRaise = decide(env, "decision-raise", decision(raise, true, bob))
	}, 2*time.Minute)
	env.ExecuteWorkflow(workflows.ChatTurn, turnInput)
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())

	require.True(t, rejectBonus.accepted)
	require.True(t, approveRaise.accepted)
	require.Equal(t, []activities.ExecuteToolInput{{Principal: alice, Tool: "hr.update_salary",
		Args: map[string]any{"employee_id": "E1"}, ToolCallID: "step1-call-1", Approver: "bob"}}, snapshot(f, &f.executed))
	require.Equal(t, []outcome{
		{Step: 1, Index: 0, CallID: "call-1", Status: "ok", Approver: "bob", Output: toolOutput},
		{Step: 1, Index: 1, CallID: "call-2", Status: approvals.StatusRejected, Approver: "bob",
			Error: "the request was rejected by bob; hr.grant_bonus was not run"},
	}, f.outcomes())
	require.Equal(t, conversations.StatusCompleted, f.lastStatus())
}

func TestToolRun(t *testing.T) {
	call := activities.ExecuteToolInput{Principal: alice, Tool: "hr.update_salary",
		Args: map[string]any{"employee_id": "E1"}, ToolCallID: "req-1"}
	plan := &toolcall.ApprovalPlan{ID: "apr-1", Reason: "hr.update_salary changes a business system",
		Approvers: []string{"hr_manager"}, Timeout: approvalTimeout, ArgsHash: "hash-req-1"}

	tests := []struct {
		name     string
		approval *toolcall.ApprovalPlan
		decision *workflows.Decision

		want         workflows.ToolRunResult
		wantExecuted []activities.ExecuteToolInput
	}{{
		name:         "OK",
		want:         workflows.ToolRunResult{Status: "ok", Result: activities.ExecuteToolResult{Tool: "hr.get_employee", Output: toolOutput}},
		wantExecuted: []activities.ExecuteToolInput{call},
	}, {
		name:     "OKApproved",
		approval: plan,
		decision: &workflows.Decision{ApprovalID: "apr-1", Approve: true, ArgsHash: "hash-req-1", Decider: bob},
		want: workflows.ToolRunResult{Status: "ok", Approver: "bob",
			Result: activities.ExecuteToolResult{Tool: "hr.get_employee", Output: toolOutput}},
		wantExecuted: []activities.ExecuteToolInput{{Principal: alice, Tool: "hr.update_salary",
			Args: map[string]any{"employee_id": "E1"}, ToolCallID: "req-1", Approver: "bob"}},
	}, {
		name:     "OKRejected",
		approval: plan,
		decision: &workflows.Decision{ApprovalID: "apr-1", ArgsHash: "hash-req-1", Decider: bob},
		want: workflows.ToolRunResult{Status: approvals.StatusRejected, Approver: "bob",
			Error: "the request was rejected by bob; hr.update_salary was not run"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakes{tool: toolOK}
			env := newEnv(t, f)
			if tt.decision != nil {
				env.RegisterDelayedCallback(func() { decide(env, "decision-1", *tt.decision) }, time.Minute)
			}
			env.ExecuteWorkflow(workflows.ToolRun, workflows.ToolRunInput{Call: call, Policy: hrPolicy,
				Summary: "hr.update_salary(employee_id=E1)", Approval: tt.approval, Domain: "hr"})
			require.True(t, env.IsWorkflowCompleted())
			require.NoError(t, env.GetWorkflowError())

			var got workflows.ToolRunResult
			require.NoError(t, env.GetWorkflowResult(&got))
			require.Equal(t, tt.want, got)
			require.Equal(t, tt.wantExecuted, snapshot(f, &f.executed))
			for _, q := range snapshot(f, &f.queues) {
				require.Equal(t, hrPolicy.TaskQueue, q, "the tool runs on its domain's queue")
			}
			if tt.approval != nil {
				requested := snapshot(f, &f.requested)
				require.Len(t, requested, 1)
				require.Equal(t, "req-1", requested[0].ToolCallID)
				require.Empty(t, requested[0].ConversationID)
			}
		})
	}
}
