package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"mcp-platform/authz"
	"mcp-platform/domains"
	"mcp-platform/internal/audit"
	"mcp-platform/internal/conversations"
	"mcp-platform/internal/events"
	"mcp-platform/internal/llm"
	"mcp-platform/internal/redact"
	"mcp-platform/internal/store"
	"mcp-platform/internal/telemetry"
	"mcp-platform/internal/usage"
	"mcp-platform/toolcall"
)

// Error types of the chat activities that must not be retried.
const (
	ErrTypeLLMAuth          = "llm_auth"
	ErrTypeLLMBadRequest    = "llm_bad_request"
	ErrTypeConversationGone = "conversation_gone"
	ErrTypeLLMUnavailable   = "llm_unavailable"
)

// systemPrompt frames every conversation for the LLM.
const systemPrompt = "You are the MCP Platform assistant. You help employees with HR, ERP, DevOps and other " +
	"business systems by calling the tools you are given; you can only use those tools. Call a tool when " +
	"the user asks for data or an action; never invent data. If a tool returns an error, explain it " +
	"plainly or correct the arguments and try again. Some actions need a person's approval before they run."

// ChatActivities are the orchestrator's activities for chat turns: they load and save the
// conversation in Postgres, call the LLM, and publish events. Workflows pass IDs, never history.
type ChatActivities struct {
	Conversations *conversations.Store
	Events        *events.Store
	LLM           llm.Provider
	// Usage records each LLM call's tokens and refuses the calls of a user whose daily budget
	// is spent; nil records nothing and refuses nothing.
	Usage *usage.Meter
	// Tools plans the LLM's calls and lists the tools offered to it.
	Tools *toolcall.Planner
	// Trust verifies the API's signed statement of the caller; nil only in unit tests.
	Trust *authz.Keyring
	// MaxCallsPerStep and MaxCallsPerTurn bound the tool calls that run (0: the defaults).
	MaxCallsPerStep int
	MaxCallsPerTurn int
	Logger          *slog.Logger
}

// Default bounds of the tool calls of a turn.
const (
	DefaultMaxCallsPerStep = 16
	DefaultMaxCallsPerTurn = 64
)

// CompleteInput asks for the LLM's next step in a turn.
type CompleteInput struct {
	ConversationID string          `json:"conversation_id"`
	Turn           int             `json:"turn"`
	Step           int             `json:"step"`
	Principal      authz.Principal `json:"principal"`
	// Assertion is the API's signed statement of Principal (see ChatTurnInput).
	Assertion string `json:"assertion,omitempty"`
	// StepBookkeeping asks the step to record, in the write that saves its message, what
	// follows from its answer: tool_started for each planned call that runs at once (neither
	// refused nor waiting for approval) and, when it answers without calls, the turn's end
	// (completed). Workflows older than workflows.VersionStepBookkeeping record these
	// themselves and leave it unset.
	StepBookkeeping bool `json:"step_bookkeeping,omitempty"`
	// Results are tool results of the previous step that the workflow left for this step to
	// save (workflows.VersionFoldedToolResults), in the round trip that reads the history, so
	// the LLM reads them: as SaveToolResult saves them, for this step's caller.
	Results []ToolResult `json:"results,omitempty"`
}

// CompleteResult is the LLM's step: text and the tool calls to run.
type CompleteResult struct {
	Content string                 `json:"content"`
	Calls   []toolcall.PlannedCall `json:"calls"`
}

// MessageSeq is the position of a step's assistant message within its turn; tool results of
// the step follow it. The user message is seq 0.
func MessageSeq(step, index int) int { return step*100 + index }

// Complete loads the conversation, offers the LLM exactly the tools this user may call, streams
// its answer as delta events (coalesced: a few per second, each up to deltaMaxBytes), saves the assistant message and returns its tool calls, each
// checked: a tool the user may not call, or that does not exist, is refused and audited here.
func (a *ChatActivities) Complete(ctx context.Context, in CompleteInput) (CompleteResult, error) {
	p, err := a.caller(ctx, in)
	if err != nil {
		return CompleteResult{}, err
	}
	in.Principal = p
	// The history is read once per step, with the tool results left to save first: the limits,
	// the LLM's messages and the check that the conversation still exists (it holds at least
	// the user's message) all use this read.
	saveResults, err := a.toolResultOps(ctx, in, p, in.Results)
	if err != nil {
		return CompleteResult{}, err
	}
	history, err := a.Conversations.Messages(ctx, in.ConversationID, saveResults...)
	if err != nil {
		return CompleteResult{}, err
	}
	if len(history) == 0 {
		ok, err := a.Conversations.Exists(ctx, in.ConversationID)
		if err != nil {
			return CompleteResult{}, err
		}
		if !ok {
			return CompleteResult{}, temporal.NewNonRetryableApplicationError("the conversation was deleted", ErrTypeConversationGone, nil)
		}
	}
	// The tools offered must be exactly those this user may call at this moment, including a
	// domain that registered a second ago: the catalog re-reads the registry when it announced
	// a change (or when the catalog does not follow its announcements), not on every step.
	if err := a.Tools.Catalog.Sync(ctx); err != nil {
		a.Logger.Warn("tool registry refresh failed; using the previous view", "error", err)
	}
	req := llm.Request{Messages: []llm.Message{{Role: llm.RoleSystem, Content: systemPrompt}}}
	for _, m := range history {
		if m.Turn > in.Turn || (m.Turn == in.Turn && m.Seq >= MessageSeq(in.Step, 0)) {
			continue // written by a later step or a previous attempt of this one
		}
		req.Messages = append(req.Messages, llmMessage(m))
	}
	// The tools this user may call now: all of them, or past the cap the most relevant and
	// search_tools, whose calls the offer serves within this step.
	offer := a.Tools.Offer(in.Principal, req.Messages)

	attempt := activity.GetInfo(ctx).Attempt
	// Heartbeats let Temporal notice within seconds that a worker died mid-call, and retry
	// the step on another worker.
	stop := keepAlive(ctx)
	defer stop()
	// The streamed text goes out coalesced (deltaBuffer), and all of it before the message:
	// what is still waiting when the answer is complete goes out with the message.
	delta := func(text string) events.Payload {
		return events.DeltaData{Step: in.Step, Attempt: int(attempt), Text: text}
	}
	deltas := newDeltaBuffer(func(text string) {
		if _, err := a.Events.Publish(ctx, in.ConversationID, in.Turn, delta(text)); err != nil {
			a.Logger.WarnContext(ctx, "publish delta failed", "error", err)
		}
	})
	resp, used, err := a.callLLM(ctx, in, req, offer, deltas.Add)
	if err != nil {
		deltas.Flush()
		return CompleteResult{}, err
	}
	rest := deltas.Close()

	calls := a.bound(ctx, in, history, &resp)
	res := CompleteResult{Content: resp.Content}
	msg := conversations.Message{Turn: in.Turn, Seq: MessageSeq(in.Step, 0), Role: conversations.RoleAssistant, Content: resp.Content}
	for _, tc := range calls {
		call := a.plan(ctx, in, tc)
		res.Calls = append(res.Calls, call)
		msg.ToolCalls = append(msg.ToolCalls, conversations.ToolCall{ID: call.ID, Tool: call.Tool,
			Arguments: call.RedactedArgs()})
	}
	// The step's writes are one round trip and one transaction: the last of the streamed text,
	// the message, its event and the tokens used.
	var ops []store.Op
	if rest != "" {
		ops = append(ops, a.Events.PublishOp(ctx, in.ConversationID, in.Turn, delta(rest), nil))
	}
	ops = append(ops, a.Events.PublishOp(ctx, in.ConversationID, in.Turn, events.AssistantMessageData{
		Step: in.Step, Role: conversations.RoleAssistant, Content: resp.Content, ToolCalls: msg.ToolCalls,
	}, nil))
	if in.StepBookkeeping {
		ops = append(ops, a.stepBookkeeping(ctx, in, res)...)
	}
	var usageOp store.Op
	if used != nil {
		*used, usageOp = a.Usage.RecordOp(*used)
		ops = append(ops, usageOp)
	}
	if err := a.Conversations.SaveMessage(ctx, in.ConversationID, msg, ops...); err != nil {
		if usageOp != nil {
			a.Usage.Record(ctx, *used) // the tokens were spent, whether or not the step is saved
		}
		return CompleteResult{}, err
	}
	return res, nil
}

// stepBookkeeping is what follows from the step's answer (CompleteInput.StepBookkeeping): the
// start of each call that runs at once, or the turn's end when there are no calls. Both are
// published once: a step run again publishes them again only if its answer changed.
func (a *ChatActivities) stepBookkeeping(ctx context.Context, in CompleteInput, res CompleteResult) []store.Op {
	if len(res.Calls) == 0 {
		end := FinishTurnInput{ConversationID: in.ConversationID, Turn: in.Turn, Status: conversations.StatusCompleted,
			Answer: res.Content, Step: in.Step}
		return []store.Op{
			a.Conversations.SetTurnStatusOp(in.ConversationID, in.Turn, conversations.StatusCompleted, ""),
			a.Events.PublishOnceOp(ctx, in.ConversationID, in.Turn, turnEndEvents[end.Status](end), nil),
		}
	}
	var ops []store.Op
	for _, call := range res.Calls {
		if call.Refused != "" || call.Approval != nil {
			continue // refused calls do not start; the workflow publishes approved ones
		}
		ops = append(ops, a.Events.PublishOnceOp(ctx, in.ConversationID, in.Turn, events.ToolStartedData{
			ToolCallRef: events.ToolCallRef{Tool: call.Tool, ToolCallID: call.ID, Step: in.Step, Domain: call.Domain},
			Summary:     call.Summary,
		}, nil))
	}
	return ops
}

// callLLM asks the LLM for the step, within the user's daily token budget: when it is spent the
// step's answer is the budget's notice and nothing is called (so the turn ends there and no
// tool runs); otherwise it returns the call's usage, for the caller to record.
func (a *ChatActivities) callLLM(ctx context.Context, in CompleteInput, req llm.Request, offer *toolcall.Offer, onDelta func(string)) (llm.Response, *usage.Entry, error) {
	refusal, err := a.Usage.Refusal(ctx, in.Principal.Subject)
	if err != nil {
		return llm.Response{}, nil, err
	}
	if refusal != "" {
		return llm.Response{Content: refusal, FinishReason: "stop"}, nil, nil
	}
	resp, err := offer.Complete(ctx, a.LLM, req, onDelta)
	if err != nil {
		return llm.Response{}, nil, llmFailure(err)
	}
	return resp, &usage.Entry{UserID: in.Principal.Subject, ConversationID: in.ConversationID, Turn: in.Turn,
		Step: in.Step, Attempt: int(activity.GetInfo(ctx).Attempt), Model: resp.Model,
		PromptTokens: resp.Usage.PromptTokens, CompletionTokens: resp.Usage.CompletionTokens}, nil
}

// caller is the principal the API signed for this turn. A missing, forged, expired or copied
// assertion fails the step without retry, audited once: whoever can reach Temporal cannot act
// as anyone by naming them.
func (a *ChatActivities) caller(ctx context.Context, in CompleteInput) (authz.Principal, error) {
	if a.Trust == nil {
		return in.Principal, nil
	}
	info := activity.GetInfo(ctx)
	p, err := a.Trust.VerifyPrincipal(in.Assertion, info.WorkflowExecution.ID, time.Now())
	if err == nil {
		return p, nil
	}
	msg := "the caller's identity is not signed by the platform (" + err.Error() + ")"
	if _, aerr := a.Tools.Audit.RecordOnce(context.WithoutCancel(ctx), audit.Entry{UserID: in.Principal.Subject, Roles: in.Principal.Roles,
		Tool: "chat.(turn)", Outcome: audit.OutcomeDenied, Error: msg, WorkflowID: info.WorkflowExecution.ID,
		RunID: info.WorkflowExecution.RunID, ToolCallID: "identity"}); aerr != nil {
		a.Logger.ErrorContext(ctx, "audit write failed", "error", aerr)
	}
	a.Logger.WarnContext(ctx, "refused a turn with an unsigned identity", "workflow_id", info.WorkflowExecution.ID, "error", err)
	return authz.Principal{}, temporal.NewNonRetryableApplicationError(msg, string(toolcall.Denied), nil)
}

// bound keeps the tool calls of a step within the limits per step and per turn (counting the
// calls of the turn's earlier steps). The excess does not run: it is audited once, left out of
// the assistant's message and told to the LLM in that message's content.
func (a *ChatActivities) bound(ctx context.Context, in CompleteInput, history []conversations.Message, resp *llm.Response) []llm.ToolCall {
	perStep, perTurn := a.MaxCallsPerStep, a.MaxCallsPerTurn
	if perStep <= 0 {
		perStep = DefaultMaxCallsPerStep
	}
	if perTurn <= 0 {
		perTurn = DefaultMaxCallsPerTurn
	}
	used := 0
	for _, m := range history {
		if m.Turn == in.Turn && m.Seq < MessageSeq(in.Step, 0) {
			used += len(m.ToolCalls)
		}
	}
	allowed := max(min(perStep, perTurn-used), 0)
	if len(resp.ToolCalls) <= allowed {
		return resp.ToolCalls
	}
	excess := resp.ToolCalls[allowed:]
	note := fmt.Sprintf("%d tool calls were not run: at most %d run in one step and %d in one turn", len(excess), perStep, perTurn)
	info := activity.GetInfo(ctx)
	if _, err := a.Tools.Audit.RecordOnce(context.WithoutCancel(ctx), audit.Entry{UserID: in.Principal.Subject, Roles: in.Principal.Roles,
		Tool: excess[0].Name, Outcome: audit.OutcomeDenied, Error: note, WorkflowID: info.WorkflowExecution.ID,
		RunID: info.WorkflowExecution.RunID, ToolCallID: toolcall.CallKey(in.Step, "excess")}); err != nil {
		a.Logger.ErrorContext(ctx, "audit write failed", "error", err)
	}
	a.Logger.InfoContext(ctx, "tool calls over the limit refused", "conversation_id", in.ConversationID, "turn", in.Turn, "refused", len(excess))
	resp.Content = strings.TrimSpace(resp.Content + "\n\n(" + note + ".)")
	return resp.ToolCalls[:allowed]
}

// HeartbeatEvery is how often a long activity tells Temporal it is alive (and hears whether its
// run was cancelled).
const HeartbeatEvery = 2 * time.Second

// keepAlive heartbeats every HeartbeatEvery until the returned function is called or the
// worker stops (then the step is retried on another worker once the heartbeat times out).
//
// The first heartbeat waits a full interval, so a quick activity sends none, and stopping
// waits for a heartbeat in flight: the SDK cancels the activity's context as soon as the
// activity returns, and a heartbeat cut off that way is only a "context canceled" warning in
// the log.
func keepAlive(ctx context.Context) (stop func()) {
	done, exited := make(chan struct{}), make(chan struct{})
	stopping := activity.GetWorkerStopChannel(ctx)
	go func() {
		defer close(exited)
		t := time.NewTicker(HeartbeatEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-stopping:
				return
			case <-t.C:
			}
			select {
			case <-done: // stopped as the tick came: select picks either at random
				return
			default:
			}
			activity.RecordHeartbeat(ctx)
		}
	}()
	return func() {
		close(done)
		<-exited
	}
}

// plan checks one tool call of the LLM through the pipeline; refusals are audited there and go
// back to the LLM as tool errors: the LLM only suggests.
func (a *ChatActivities) plan(ctx context.Context, in CompleteInput, tc llm.ToolCall) toolcall.PlannedCall {
	info := activity.GetInfo(ctx)
	call, _ := a.Tools.Plan(ctx, toolcall.Request{
		Principal: in.Principal, Tool: tc.Name, RawArgs: tc.Arguments,
		WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID,
		CallKey: toolcall.CallKey(in.Step, tc.ID), ToolCallID: toolcall.CallKey(in.Step, tc.ID),
	})
	call.ID = tc.ID
	return call
}

// llmFailure maps a provider error to the activity error: retried unless the configuration
// is wrong.
func llmFailure(err error) error {
	var le *llm.Error
	if !errors.As(err, &le) {
		return temporal.NewApplicationError("the LLM call failed", ErrTypeLLMUnavailable)
	}
	switch {
	case le.Retryable():
		return temporal.NewApplicationError(le.Message, ErrTypeLLMUnavailable)
	case le.Kind == llm.KindAuth:
		return temporal.NewNonRetryableApplicationError(le.Message, ErrTypeLLMAuth, nil)
	default:
		return temporal.NewNonRetryableApplicationError(le.Message, ErrTypeLLMBadRequest, nil)
	}
}

// llmMessage turns a stored message into the LLM's form.
func llmMessage(m conversations.Message) llm.Message {
	out := llm.Message{Role: llm.Role(m.Role), Content: m.Content, ToolCallID: m.ToolCallID, Name: m.ToolName}
	if m.Role == conversations.RoleTool {
		out.Images = ContentImages(m.Data["content"])
	}
	for _, c := range m.ToolCalls {
		args, _ := json.Marshal(c.Arguments)
		out.ToolCalls = append(out.ToolCalls, llm.ToolCall{ID: c.ID, Name: c.Tool, Arguments: string(args)})
	}
	return out
}

// ToolOutcome is how a tool call of a turn ended.
type ToolOutcome struct {
	Call toolcall.PlannedCall `json:"call"`
	// Status is "ok" or the error type (denied, invalid, not_found, conflict, unavailable,
	// rejected, expired).
	Status     string `json:"status"`
	Output     any    `json:"output,omitempty"`
	Error      string `json:"error,omitempty"`
	DurationMS int64  `json:"duration_ms"`
	Approver   string `json:"approver,omitempty"`
	// Redacted is true when the domain's worker masked sensitive fields of Output because the
	// caller may not see them (ExecuteToolResult.Redacted).
	Redacted bool `json:"redacted,omitempty"`
	// Content and IsError are the MCP content blocks and isError of a tool of a domain of kind
	// mcp (ExecuteToolResult.Content, IsError).
	Content []domains.Content `json:"content,omitempty"`
	IsError bool              `json:"is_error,omitempty"`
}

// SaveToolResultInput records one tool call's outcome in the conversation.
type SaveToolResultInput struct {
	ConversationID string      `json:"conversation_id"`
	Turn           int         `json:"turn"`
	Step           int         `json:"step"`
	Index          int         `json:"index"`
	Outcome        ToolOutcome `json:"outcome"`
	// Principal and Assertion are the turn's caller, as in CompleteInput: the result is kept
	// and shown as this caller may see it. Without them (a turn started by an older workflow),
	// or when the assertion does not verify, sensitive fields are masked.
	Principal authz.Principal `json:"principal"`
	Assertion string          `json:"assertion,omitempty"`
}

// SaveToolResult saves the tool message the LLM reads next (the result, or the error it can act
// on) and publishes tool_finished with the same result. Both hold what the caller may see: the
// domain's worker already masked what a caller without read_sensitive may not see, and the
// result is masked again here unless the caller may read the tool's sensitive fields, so the
// tool card, the answer written from the message and the stored history agree, and nobody
// without the right sees a sensitive value.
func (a *ChatActivities) SaveToolResult(ctx context.Context, in SaveToolResultInput) error {
	p := in.Principal
	if a.Trust != nil {
		verified, err := a.Trust.VerifyPrincipal(in.Assertion, activity.GetInfo(ctx).WorkflowExecution.ID, time.Now())
		if err != nil {
			verified = authz.Principal{} // an unverified caller sees the masked result
		}
		p = verified
	}
	r := ToolResult{Step: in.Step, Index: in.Index, Outcome: in.Outcome}
	msg, finished, err := a.toolResult(ctx, in.Turn, r, a.maySeeSensitive(p, in.Outcome.Call.Tool))
	if err != nil {
		return err
	}
	return a.Conversations.SaveMessage(ctx, in.ConversationID, msg, a.Events.PublishOnceOp(ctx, in.ConversationID, in.Turn, finished, nil))
}

// ToolResult is the outcome of a call of step Step (its Index-th), for the next LLM step to save
// (CompleteInput.Results) as SaveToolResult would.
type ToolResult struct {
	Step    int         `json:"step"`
	Index   int         `json:"index"`
	Outcome ToolOutcome `json:"outcome"`
}

// toolResultOps are the writes that save results as SaveToolResult does, for a caller p whose
// identity was verified (Complete's).
func (a *ChatActivities) toolResultOps(ctx context.Context, in CompleteInput, p authz.Principal, results []ToolResult) ([]store.Op, error) {
	var ops []store.Op
	for _, r := range results {
		msg, finished, err := a.toolResult(ctx, in.Turn, r, a.maySeeSensitive(p, r.Outcome.Call.Tool))
		if err != nil {
			return nil, err
		}
		ops = append(ops, a.Conversations.SaveMessageOp(in.ConversationID, msg),
			a.Events.PublishOnceOp(ctx, in.ConversationID, in.Turn, finished, nil))
	}
	return ops, nil
}

// toolResult is the tool message of r that the LLM reads next (the result, or the error it can
// act on) and its tool_finished event, with the same result, masked unless maySee: the
// domain's worker already masked what a caller without read_sensitive may not see, and this
// masks it again, so the tool card, the answer written from the message and the stored history
// agree.
func (a *ChatActivities) toolResult(ctx context.Context, turn int, r ToolResult, maySee bool) (conversations.Message, events.ToolFinishedData, error) {
	o := r.Outcome
	shown, blocks := o.Output, o.Content
	if !maySee {
		shown, blocks = redact.Value(o.Output, o.Call.Sensitive...), RedactContent(o.Content, o.Call.Sensitive...)
	}
	var text string
	switch {
	case o.Status != "ok":
		b, err := json.Marshal(map[string]any{"error": o.Error, "type": o.Status})
		if err != nil {
			return conversations.Message{}, events.ToolFinishedData{}, fmt.Errorf("encode tool result: %w", err)
		}
		text = string(b)
	case blocks != nil || o.IsError:
		// Content blocks are read as the upstream wrote them, not re-wrapped.
		t, err := ContentForLLM(blocks, shown, o.IsError)
		if err != nil {
			return conversations.Message{}, events.ToolFinishedData{}, fmt.Errorf("encode tool result: %w", err)
		}
		text = t
	default:
		b, err := json.Marshal(shown)
		if err != nil {
			return conversations.Message{}, events.ToolFinishedData{}, fmt.Errorf("encode tool result: %w", err)
		}
		text = string(b)
	}
	finished := events.ToolFinishedData{
		ToolCallRef: events.ToolCallRef{Tool: o.Call.Tool, ToolCallID: o.Call.ID, Step: r.Step, Domain: o.Call.Domain, TraceID: telemetry.TraceID(ctx)},
		Status:      o.Status,
		DurationMS:  o.DurationMS,
		Arguments:   o.Call.RedactedArgs(),
		Output:      shown,
		Content:     blocks,
		IsError:     o.IsError,
		Redacted:    o.Redacted,
		Error:       o.Error,
		Approver:    o.Approver,
	}
	data := map[string]any{"status": finished.Status, "duration_ms": finished.DurationMS, "domain": finished.Domain,
		"arguments": finished.Arguments, "output": finished.Output, "error": finished.Error, "approver": finished.Approver}
	if finished.TraceID != "" {
		data["trace_id"] = finished.TraceID
	}
	if finished.Redacted {
		data["redacted"] = true
	}
	if blocks != nil {
		data["content"] = blocks
	}
	if o.IsError {
		data["is_error"] = true
	}
	return conversations.Message{
		Turn: turn, Seq: MessageSeq(r.Step, r.Index+1), Role: conversations.RoleTool, Content: text,
		ToolCallID: o.Call.ID, ToolName: o.Call.Tool, ToolStatus: o.Status, Data: data,
	}, finished, nil
}

// maySeeSensitive reports whether p, the turn's caller as the API signed it (when the
// activities verify identities), may read the sensitive fields of tool's results.
func (a *ChatActivities) maySeeSensitive(p authz.Principal, tool string) bool {
	if a.Tools == nil || a.Tools.Authz == nil || p.Subject == "" {
		return false
	}
	return a.Tools.Authz.Can(p, domains.ActionReadSensitive, tool)
}

// PublishInput is an event of a turn. In histories it is {conversation_id, turn, type, data}
// whatever the event, as it always was, so running workflows and older workers read it.
type PublishInput struct {
	ConversationID string
	Turn           int
	// Event is the payload, already redacted.
	Event events.Payload
}

// publishWire is PublishInput as histories hold it.
type publishWire struct {
	ConversationID string          `json:"conversation_id"`
	Turn           int             `json:"turn"`
	Type           string          `json:"type"`
	Data           json.RawMessage `json:"data"`
}

// MarshalJSON writes the event's type beside its payload.
func (in PublishInput) MarshalJSON() ([]byte, error) {
	if in.Event == nil {
		return nil, errors.New("encode publish input: no event")
	}
	data, err := json.Marshal(in.Event)
	if err != nil {
		return nil, fmt.Errorf("encode publish input: %w", err)
	}
	return json.Marshal(publishWire{ConversationID: in.ConversationID, Turn: in.Turn, Type: in.Event.EventType(), Data: data})
}

// UnmarshalJSON reads the payload as the type it was published as.
func (in *PublishInput) UnmarshalJSON(b []byte) error {
	var w publishWire
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("decode publish input: %w", err)
	}
	p, err := events.Decode(w.Type, w.Data)
	if err != nil {
		return err
	}
	*in = PublishInput{ConversationID: w.ConversationID, Turn: w.Turn, Event: p}
	return nil
}

// Publish appends an event to the conversation's stream, once: run again (retried, or
// replayed as a local activity), it does not repeat the event.
func (a *ChatActivities) Publish(ctx context.Context, in PublishInput) error {
	_, err := a.Events.PublishOnce(ctx, in.ConversationID, in.Turn, in.Event)
	return err
}

// FinishTurnInput records how a turn ended.
type FinishTurnInput struct {
	ConversationID string `json:"conversation_id"`
	Turn           int    `json:"turn"`
	Status         string `json:"status"`
	Answer         string `json:"answer,omitempty"`
	Error          string `json:"error,omitempty"`
	Step           int    `json:"step"`
}

// turnEndEvents build the event of each final turn status.
var turnEndEvents = map[string]func(FinishTurnInput) events.Payload{
	conversations.StatusCompleted: func(in FinishTurnInput) events.Payload { return events.TurnCompletedData{TurnEnd: turnEnd(in)} },
	conversations.StatusFailed:    func(in FinishTurnInput) events.Payload { return events.TurnFailedData{TurnEnd: turnEnd(in)} },
	conversations.StatusCancelled: func(in FinishTurnInput) events.Payload { return events.TurnCancelledData{TurnEnd: turnEnd(in)} },
}

func turnEnd(in FinishTurnInput) events.TurnEnd {
	return events.TurnEnd{Status: in.Status, Answer: in.Answer, Error: in.Error}
}

// FinishTurn saves the turn's final status (and a final message when the turn ended without
// one) and publishes turn_completed, turn_failed or turn_cancelled.
func (a *ChatActivities) FinishTurn(ctx context.Context, in FinishTurnInput) error {
	// A status that is not final is a bug of the caller: refuse it before writing anything (the
	// turns table would refuse an unknown one with an error Temporal retries).
	if turnEndEvents[in.Status] == nil {
		return temporal.NewNonRetryableApplicationError("unknown final status "+in.Status, "bug", nil)
	}
	// One round trip and transaction: the final message, the status and the event.
	var also []store.Op
	if in.Status != conversations.StatusCompleted && in.Error != "" {
		msg := conversations.Message{Turn: in.Turn, Seq: MessageSeq(in.Step+1, 0), Role: conversations.RoleAssistant,
			Content: "Sorry, I could not finish: " + in.Error}
		if in.Status == conversations.StatusCancelled {
			msg.Content = "The request was cancelled."
		}
		also = append(also, a.Conversations.SaveMessageOp(in.ConversationID, msg))
	}
	also = append(also, a.Events.PublishOnceOp(ctx, in.ConversationID, in.Turn, turnEndEvents[in.Status](in), nil))
	err := a.Conversations.SetTurnStatus(ctx, in.ConversationID, in.Turn, in.Status, in.Error, also...)
	if store.ForeignKeyViolation(err) {
		return nil // the conversation was deleted: nothing is left to update
	}
	return err
}
