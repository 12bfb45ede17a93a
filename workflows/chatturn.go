package workflows

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"mcp-platform/activities"
	"mcp-platform/authz"
	"mcp-platform/internal/approvals"
	"mcp-platform/internal/conversations"
	"mcp-platform/internal/events"
	"mcp-platform/internal/redact"
	"mcp-platform/internal/temporalx"
	"mcp-platform/toolcall"
)

// OrchestratorQueue is the task queue of ChatTurn workflows and their LLM/history activities.
const OrchestratorQueue = "orchestrator"

// DefaultMaxSteps bounds the LLM ↔ tools loop of one turn when the input does not say.
const DefaultMaxSteps = 8

// ChatTurnWorkflowID is the ID of a turn's workflow: chat-<conversation>-<turn>.
func ChatTurnWorkflowID(conversationID string, turn int) string {
	return fmt.Sprintf("chat-%s-%d", conversationID, turn)
}

// ChatTurnSummary is the static summary of a turn's workflow, which names it in the Temporal
// UI's workflow list: "Chat: <conversation title>", with "· turn N" from the second turn on so
// that the turns of a conversation tell apart. The title is the user's first message, so it is
// redacted like any text written outside Postgres.
func ChatTurnSummary(title string, turn int) string {
	s := "Chat: " + redact.String(title)
	if turn > 1 {
		s += fmt.Sprintf(" · turn %d", turn)
	}
	return s
}

// ChatTurnInput names the turn; the conversation itself stays in Postgres.
type ChatTurnInput struct {
	ConversationID string          `json:"conversation_id"`
	Turn           int             `json:"turn"`
	Principal      authz.Principal `json:"principal"`
	MaxSteps       int             `json:"max_steps"`
	// Assertion is the API's signed statement of Principal for this workflow; the workers act
	// on what it says, never on Principal alone.
	Assertion string `json:"assertion,omitempty"`
	// Version is the workflow code version the starter asked for (CurrentVersion for today's
	// API; 0 for turns started before versions were given).
	Version int `json:"version,omitempty"`
}

// ChatTurnResult is how the turn ended.
type ChatTurnResult struct {
	Status string `json:"status"`
	Answer string `json:"answer"`
	Steps  int    `json:"steps"`
}

// ChatTurn runs one chat turn: ask the LLM, run the tool calls it suggests on their domains'
// queues (each authorized, validated and audited there), give it the results, and repeat until
// it answers or the step limit is reached.
func ChatTurn(ctx workflow.Context, in ChatTurnInput) (ChatTurnResult, error) {
	if in.MaxSteps <= 0 {
		in.MaxSteps = DefaultMaxSteps
	}
	local := localBookkeeping(ctx, in.Version)
	book, err := newApprovalBook(ctx, local)
	if err != nil {
		return ChatTurnResult{}, err
	}
	t := &chatTurn{in: in, logger: workflow.GetLogger(ctx), approvals: book, status: conversations.StatusRunning, doing: "starting",
		local: local}
	book.changed = t.show
	if err := workflow.SetQueryHandlerWithOptions(ctx, QueryTurnState, t.state, workflow.QueryHandlerOptions{
		Description: "Where the turn stands: step, status, running calls and calls waiting for approval",
	}); err != nil {
		return ChatTurnResult{}, err
	}
	t.show(ctx)
	return t.run(ctx)
}

// chatTurn is the state of one turn.
type chatTurn struct {
	in        ChatTurnInput
	logger    interface{ Info(string, ...any) }
	domains   []string
	tools     []string
	answer    string
	step      int
	approvals *approvalBook
	// waiting counts calls waiting for approval, for the TurnStatus search attribute.
	waiting int
	// status, doing, running and failure say what the turn does now, for the turn-state
	// query and the current details (show).
	status  string
	doing   string
	running []string
	failure string
	// local is true when the bookkeeping runs as local activities (localBookkeeping).
	local bool
	// toolsUnsaved is set when domains or tools changed since the search attributes were last
	// written (VersionFoldedSearchAttributes).
	toolsUnsaved bool
	// unsaved are tool results left for the next LLM step to save (VersionFoldedToolResults).
	unsaved []activities.ToolResult
}

// state is where the turn stands now (the turn-state query).
func (t *chatTurn) state() (TurnState, error) {
	status := t.status
	if status == conversations.StatusRunning && t.waiting > 0 {
		status = conversations.StatusAwaitingApproval
	}
	return TurnState{
		ConversationID: t.in.ConversationID, Turn: t.in.Turn, Status: status, Step: t.step, MaxSteps: t.in.MaxSteps,
		Doing: t.doing, Running: slices.Clone(t.running), Waiting: t.approvals.waiting(), Tools: slices.Clone(t.tools),
		Error: t.failure,
	}, nil
}

// show puts the turn's state in the workflow's current details, which the Temporal UI shows.
// It adds no command to the history.
func (t *chatTurn) show(ctx workflow.Context) {
	s, _ := t.state()
	workflow.SetCurrentDetails(ctx, s.Details())
}

// doingNow records what the turn does now and shows it.
func (t *chatTurn) doingNow(ctx workflow.Context, doing string) {
	t.doing = doing
	t.show(ctx)
}

// Typed nil pointers name the activities; the worker registers the real structs.
var (
	chatActivities *activities.ChatActivities
	toolExecutor   *activities.ToolExecutor
)

func (t *chatTurn) run(ctx workflow.Context) (ChatTurnResult, error) {
	err := t.loop(ctx)
	t.running = nil
	if err != nil {
		// The turn ends as err says; what its last results were is still recorded.
		if serr := t.saveUnsaved(ctx); serr != nil {
			t.logger.Info("tool results not recorded", "error", serr)
		}
	}
	switch {
	case err == nil:
		t.finish(ctx, conversations.StatusCompleted, "")
		return ChatTurnResult{Status: conversations.StatusCompleted, Answer: t.answer, Steps: t.step}, nil
	case temporal.IsCanceledError(err):
		t.finish(ctx, conversations.StatusCancelled, "the turn was cancelled")
		return ChatTurnResult{}, err
	default:
		t.finish(ctx, conversations.StatusFailed, failureMessage(err))
		return ChatTurnResult{}, err
	}
}

// loop alternates LLM steps and tool calls.
func (t *chatTurn) loop(ctx workflow.Context) error {
	for t.step = 1; t.step <= t.in.MaxSteps; t.step++ {
		res, err := t.complete(ctx)
		if err != nil {
			return err
		}
		t.answer = res.Content
		if len(res.Calls) == 0 {
			return nil
		}
		if err := t.runTools(ctx, res.Calls); err != nil {
			return err
		}
	}
	t.step = t.in.MaxSteps
	return temporal.NewNonRetryableApplicationError(
		fmt.Sprintf("the assistant did not finish within %d steps", t.in.MaxSteps), "step_limit", nil)
}

// complete asks the LLM for the next step.
func (t *chatTurn) complete(ctx workflow.Context) (activities.CompleteResult, error) {
	t.doingNow(ctx, "asking the LLM")
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 3 * time.Minute,
		HeartbeatTimeout:    10 * time.Second,
		Summary:             fmt.Sprintf("LLM step %d", t.step),
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        30 * time.Second,
			MaximumAttempts:        6,
			NonRetryableErrorTypes: []string{activities.ErrTypeLLMAuth, activities.ErrTypeLLMBadRequest, activities.ErrTypeConversationGone},
		},
	})
	var res activities.CompleteResult
	err := workflow.ExecuteActivity(ctx, chatActivities.Complete, activities.CompleteInput{
		ConversationID: t.in.ConversationID, Turn: t.in.Turn, Step: t.step, Principal: t.in.Principal, Assertion: t.in.Assertion,
		StepBookkeeping: t.stepBookkeeping(), Results: t.unsaved,
	}).Get(ctx, &res)
	if err == nil {
		t.unsaved = nil
	}
	return res, err
}

// runTools runs a step's calls concurrently, so that several calls waiting for approval are
// pending (and decided) independently, and returns the first failure to record one.
func (t *chatTurn) runTools(ctx workflow.Context, calls []toolcall.PlannedCall) error {
	t.doingNow(ctx, "running "+plural(len(calls), "tool call"))
	errs := make([]error, len(calls))
	wg := workflow.NewWaitGroup(ctx)
	left := len(calls)
	for i, call := range calls {
		wg.Add(1)
		workflow.Go(ctx, func(ctx workflow.Context) {
			defer wg.Done()
			errs[i] = t.runTool(ctx, i, call, &left)
		})
	}
	wg.Wait(ctx)
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// runTool runs one planned call and records its outcome; only a failure to record is an error.
// left counts the step's calls still running: the outcome of the last to finish is left for the
// next LLM step to save when one follows (VersionFoldedToolResults), since nothing else of the
// step is left to show by then. From that version on, the outcome of a call that ended because
// the turn was cancelled is left too, for saveUnsaved to record once the loop ends.
func (t *chatTurn) runTool(ctx workflow.Context, index int, call toolcall.PlannedCall, left *int) error {
	outcome, err := t.decideAndRun(ctx, call)
	if err != nil {
		return err
	}
	r := activities.ToolResult{Step: t.step, Index: index, Outcome: outcome}
	*left--
	if t.in.Version >= VersionFoldedToolResults && (ctx.Err() != nil || (*left == 0 && t.step < t.in.MaxSteps)) {
		t.unsaved = append(t.unsaved, r)
		return nil
	}
	return t.saveResult(ctx, r)
}

// saveUnsaved saves the results left for an LLM step that will not run (the loop ended), even
// when the turn was cancelled.
func (t *chatTurn) saveUnsaved(ctx workflow.Context) error {
	if len(t.unsaved) == 0 {
		return nil
	}
	ctx, _ = workflow.NewDisconnectedContext(ctx)
	var errs []error
	for _, r := range t.unsaved {
		errs = append(errs, t.saveResult(ctx, r))
	}
	t.unsaved = nil
	return errors.Join(errs...)
}

// saveResult records r with SaveToolResult.
func (t *chatTurn) saveResult(ctx workflow.Context, r activities.ToolResult) error {
	outcome, index := r.Outcome, r.Index
	summary := fmt.Sprintf("save result of %s: %s", outcome.Call.Tool, outcome.Status)
	return bookkeep(ctx, t.local, summary, chatActivities.SaveToolResult, activities.SaveToolResultInput{
		ConversationID: t.in.ConversationID, Turn: t.in.Turn, Step: r.Step, Index: index, Outcome: outcome,
		Principal: t.in.Principal, Assertion: t.in.Assertion,
	}).Get(ctx, nil)
}

// decideAndRun runs a call the user may make, after a person approved it when it needs
// approval; a refused, rejected or expired call becomes an outcome without running.
func (t *chatTurn) decideAndRun(ctx workflow.Context, call toolcall.PlannedCall) (activities.ToolOutcome, error) {
	if call.Refused != "" {
		return activities.ToolOutcome{Call: call, Status: call.RefusedType, Error: call.Refused}, nil
	}
	t.noteTool(ctx, call)
	approver, decided := "", ""
	if call.Approval != nil {
		t.waiting++
		t.setStatus(ctx, conversations.StatusAwaitingApproval)
		decision, err := t.approvals.await(ctx, activities.RequestApprovalInput{
			Plan: *call.Approval, WorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID, ConversationID: t.in.ConversationID,
			Turn: t.in.Turn, ToolCallID: toolcall.CallKey(t.step, call.ID), Call: call, Requester: t.in.Principal,
		})
		if err != nil {
			return activities.ToolOutcome{}, err
		}
		if t.waiting--; t.waiting == 0 {
			t.setStatus(ctx, conversations.StatusRunning)
		}
		if decision.status != approvals.StatusApproved {
			return decision.refusal(call), nil
		}
		approver, decided = decision.approver, decision.assertion
	}
	if call.Approval != nil || !t.stepBookkeeping() { // else the LLM step published it
		t.publish(ctx, events.ToolStartedData{
			ToolCallRef: events.ToolCallRef{Tool: call.Tool, ToolCallID: call.ID, Step: t.step, Domain: call.Domain},
			Summary:     call.Summary,
			Approver:    approver,
		}, call.Tool)
	}
	t.running = append(t.running, call.Summary)
	t.show(ctx)
	out := t.execute(ctx, call, approver, decided)
	if i := slices.Index(t.running, call.Summary); i >= 0 {
		t.running = slices.Delete(t.running, i, i+1)
	}
	t.show(ctx)
	return out, nil
}

// execute runs ExecuteTool on the tool's domain queue. Tool errors become outcomes the LLM
// reads and can correct; they do not fail the turn.
func (t *chatTurn) execute(ctx workflow.Context, call toolcall.PlannedCall, approver, decision string) activities.ToolOutcome {
	start := workflow.Now(ctx)
	actx := workflow.WithActivityOptions(ctx, ToolActivityOptions(call.Policy, call.Summary))
	var res activities.ExecuteToolResult
	err := workflow.ExecuteActivity(actx, toolExecutor.ExecuteTool, activities.ExecuteToolInput{
		Principal: t.in.Principal, Tool: call.Tool, Args: call.Args, Approver: approver,
		ToolCallID: toolcall.CallKey(t.step, call.ID), Assertion: t.in.Assertion, Decision: decision,
	}).Get(ctx, &res)
	out := activities.ToolOutcome{Call: call, Approver: approver, DurationMS: workflow.Now(ctx).Sub(start).Milliseconds()}
	if err != nil {
		out.Status, out.Error = toolErrorType(err), toolErrorMessage(err)
		return out
	}
	out.Status, out.Output, out.Redacted = "ok", res.Output, res.Redacted
	out.Content, out.IsError = res.Content, res.IsError
	return out
}

// noteTool records the domain and tool in the turn's search attributes: at once for a turn
// started before VersionFoldedSearchAttributes, else with the next status change.
func (t *chatTurn) noteTool(ctx workflow.Context, call toolcall.PlannedCall) {
	changed := false
	if !slices.Contains(t.domains, call.Domain) {
		t.domains, changed = append(t.domains, call.Domain), true
	}
	if !slices.Contains(t.tools, call.Tool) {
		t.tools, changed = append(t.tools, call.Tool), true
	}
	if !changed {
		return
	}
	if t.in.Version >= VersionFoldedSearchAttributes {
		t.toolsUnsaved = true
		return
	}
	_ = workflow.UpsertTypedSearchAttributes(ctx, t.toolAttributes()...)
}

// setStatus writes the TurnStatus search attribute, with the domains and tools noted since
// they were last written.
func (t *chatTurn) setStatus(ctx workflow.Context, status string) {
	updates := []temporal.SearchAttributeUpdate{temporalx.TurnStatus.ValueSet(status)}
	if t.toolsUnsaved {
		updates, t.toolsUnsaved = append(updates, t.toolAttributes()...), false
	}
	_ = workflow.UpsertTypedSearchAttributes(ctx, updates...)
}

// toolAttributes are the updates of the Domains and Tools search attributes.
func (t *chatTurn) toolAttributes() []temporal.SearchAttributeUpdate {
	return []temporal.SearchAttributeUpdate{temporalx.Domains.ValueSet(t.domains), temporalx.Tools.ValueSet(t.tools)}
}

// publish appends an event about subject (a tool); losing one is not worth failing the turn
// for.
func (t *chatTurn) publish(ctx workflow.Context, p events.Payload, subject string) {
	summary := fmt.Sprintf("publish %s: %s", p.EventType(), subject)
	err := bookkeep(ctx, t.local, summary, chatActivities.Publish, activities.PublishInput{
		ConversationID: t.in.ConversationID, Turn: t.in.Turn, Event: p,
	}).Get(ctx, nil)
	if err != nil {
		t.logger.Info("event not published", "type", p.EventType(), "error", err)
	}
}

// stepBookkeeping reports whether the LLM step records what follows from its answer
// (VersionStepBookkeeping).
func (t *chatTurn) stepBookkeeping() bool { return t.in.Version >= VersionStepBookkeeping }

// finish records the final status, even when the turn was cancelled. The LLM step that
// answered already recorded a completed turn's end (stepBookkeeping).
func (t *chatTurn) finish(ctx workflow.Context, status, errText string) {
	if status != conversations.StatusCompleted {
		ctx, _ = workflow.NewDisconnectedContext(ctx)
	}
	t.status, t.failure = status, errText
	t.doingNow(ctx, "")
	t.setStatus(ctx, status)
	if status == conversations.StatusCompleted && t.stepBookkeeping() {
		return
	}
	summary := fmt.Sprintf("finish turn: %s after %s", status, plural(t.step, "step"))
	err := bookkeep(ctx, t.local, summary, chatActivities.FinishTurn, activities.FinishTurnInput{
		ConversationID: t.in.ConversationID, Turn: t.in.Turn, Status: status, Answer: t.answer, Error: errText, Step: t.step,
	}).Get(ctx, nil)
	if err != nil {
		t.logger.Info("turn status not recorded", "error", err)
	}
}

// plural is "1 step", "2 steps".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// toolErrorType is the error type of a failed tool activity ("unavailable" after retries).
func toolErrorType(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && toolcall.Final(appErr.Type()) {
		return appErr.Type()
	}
	return string(toolcall.Unavailable)
}

func toolErrorMessage(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Message()
	}
	var timeoutErr *temporal.TimeoutError
	if errors.As(err, &timeoutErr) {
		return "the tool did not answer in time"
	}
	return "the tool failed"
}

// failureMessage is what the user is told when the turn fails.
func failureMessage(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Message()
	}
	return "the assistant is unavailable; try again later"
}
