package events

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"mcp-platform/internal/conversations"
)

// Payload is the data of one event type. Each type has its own struct, so a publisher cannot
// send a key the stream's readers do not know, and the API documents every shape.
type Payload interface {
	// EventType is the type the payload is published as, one of the Type constants.
	EventType() string
}

// ErrUnknownType is returned by Decode for a type that has no payload.
var ErrUnknownType = errors.New("unknown event type")

// TurnStartedData is the payload of turn_started: the user's message was recorded and its
// workflow started.
type TurnStartedData struct {
	// WorkflowID is the turn's ChatTurn workflow.
	WorkflowID string `json:"workflow_id" doc:"The turn's workflow"`
	// Message is the user's message, redacted.
	Message string `json:"message" doc:"The user's message, redacted"`
}

// DeltaData is the payload of delta: a piece of an LLM step's streamed text.
type DeltaData struct {
	// Step is the LLM step of the turn (1, 2, ...).
	Step int `json:"step" doc:"LLM step of the turn"`
	// Attempt is the step's activity attempt: a retried step streams again from the start with
	// a higher attempt, so readers replace the text instead of appending to it.
	Attempt int `json:"attempt" doc:"Attempt of the step; a higher attempt restarts the step's text"`
	// Text is the piece, appended to the step's text so far.
	Text string `json:"text" doc:"Text to append to the step's text"`
}

// AssistantMessageData is the payload of message: the final text and tool calls of an LLM step, as
// saved in the conversation. (Not MessageData: generators name the inline data of the
// conversation's Message schema so, and two types of one name break their clients.)
type AssistantMessageData struct {
	// Step is the LLM step of the turn.
	Step int `json:"step" doc:"LLM step of the turn"`
	// Role is the message's role (assistant).
	Role string `json:"role" enum:"assistant" doc:"Role of the message (assistant)"`
	// Content is the step's whole text; it replaces the deltas streamed before it.
	Content string `json:"content" doc:"The step's whole text"`
	// ToolCalls are the calls the LLM asked for, with the arguments redacted.
	ToolCalls []conversations.ToolCall `json:"tool_calls" doc:"Tool calls the assistant asked for, arguments redacted"`
}

// ToolCallRef names a tool call of a turn; both tool events start with it.
type ToolCallRef struct {
	// Tool is the tool's full name (domain.tool).
	Tool string `json:"tool" doc:"Tool name"`
	// ToolCallID is the LLM's ID of the call, unique within its step.
	ToolCallID string `json:"tool_call_id" doc:"The LLM's ID of the call, unique within its step"`
	// Step is the LLM step that asked for the call.
	Step int `json:"step" doc:"LLM step that asked for the call"`
	// Domain is the domain the tool runs on (empty for a call to no known tool).
	Domain string `json:"domain" doc:"Domain of the tool"`
	// TraceID is the OpenTelemetry trace of the turn, filled by Store.Publish from the
	// publisher's context, so an operator finds the call's spans (and its audit rows) from the
	// tool card.
	TraceID string `json:"trace_id,omitempty" doc:"OpenTelemetry trace ID of the turn (absent when it was not traced)"`
}

// ToolStartedData is the payload of tool_started: a call is running on its domain (after its
// approval, when it needed one).
type ToolStartedData struct {
	ToolCallRef
	// Summary is a one-line description of the call, with sensitive arguments left out.
	Summary string `json:"summary" doc:"One-line description of the call"`
	// Approver is who approved the call; empty when it needed no approval.
	Approver string `json:"approver" doc:"Who approved the call; empty when it needed no approval"`
}

// ToolFinishedData is the payload of tool_finished: how a call ended, with its output redacted.
type ToolFinishedData struct {
	ToolCallRef
	// Status is "ok" or the error type (a toolcall.Code): denied, invalid, not_found,
	// conflict, unavailable, timeout, audit_unavailable, rejected, expired, outcome_unknown, failed.
	Status string `json:"status" enum:"ok,denied,invalid,not_found,conflict,unavailable,timeout,audit_unavailable,rejected,expired,outcome_unknown,failed" doc:"ok, or the error type"`
	// DurationMS is how long the call ran.
	DurationMS int64 `json:"duration_ms" doc:"How long the call ran, in milliseconds"`
	// Arguments are the call's arguments, redacted; null when they were not a JSON object.
	Arguments map[string]any `json:"arguments" nullable:"true" doc:"Arguments of the call, redacted"`
	// Output is the tool's result as the caller may see it: its sensitive fields masked unless
	// the caller's role may read them (read_sensitive); null when the call failed.
	Output any `json:"output" doc:"Result of the tool as the caller may see it: sensitive fields masked unless the caller may read them"`
	// Content are the MCP content blocks of a tool of a domain of kind mcp (text, image, audio,
	// resource_link, resource), redacted like Output; IsError is that tool's own report that
	// it failed.
	Content []map[string]any `json:"content,omitempty" doc:"MCP content blocks of a tool of a domain of kind mcp, as the upstream server returned them (redacted like output)"`
	IsError bool             `json:"is_error,omitempty" doc:"The upstream MCP tool reported that it failed; content says why"`
	// Redacted is true when sensitive values of Output were masked because the caller may not see them.
	Redacted bool `json:"redacted,omitempty" doc:"True when sensitive values of the output were masked because the caller may not see them"`
	// Error says why the call failed; empty when it succeeded.
	Error string `json:"error" doc:"Why the call failed; empty when it succeeded"`
	// Approver is who approved the call; empty when it needed no approval.
	Approver string `json:"approver" doc:"Who approved the call; empty when it needed no approval"`
}

// ApprovalRequestedData is the payload of approval_requested: a call waits for a person.
type ApprovalRequestedData struct {
	// ApprovalID names the request in the approvals API.
	ApprovalID string `json:"approval_id" doc:"ID of the approval request"`
	// Tool is the tool's full name (domain.tool).
	Tool string `json:"tool" doc:"Tool name"`
	// Domain is the domain the tool runs on.
	Domain string `json:"domain" doc:"Domain of the tool"`
	// ToolCallID is the LLM's ID of the call, unique within its step.
	ToolCallID string `json:"tool_call_id" doc:"The LLM's ID of the call, unique within its step"`
	// Arguments are the arguments to approve, redacted.
	Arguments map[string]any `json:"arguments" nullable:"true" doc:"Arguments to approve, redacted"`
	// ArgsHash binds a decision to exactly these arguments.
	ArgsHash string `json:"args_hash" doc:"Hash of the arguments a decision applies to"`
	// Reason is why the call needs approval.
	Reason string `json:"reason" doc:"Why the call needs approval"`
	// ApproverRoles are the roles that may decide.
	ApproverRoles []string `json:"approver_roles" doc:"Roles that may decide"`
	// AllowSelfApproval says whether the requester may decide their own request.
	AllowSelfApproval bool `json:"allow_self_approval" doc:"Whether the requester may decide it"`
	// Requester is the user whose turn made the call.
	Requester string `json:"requester" doc:"User whose turn made the call"`
	// ExpiresAt is when the request expires undecided.
	ExpiresAt time.Time `json:"expires_at" doc:"When the request expires undecided"`
}

// ApprovalDecidedData is the payload of approval_decided: how an approval request ended.
type ApprovalDecidedData struct {
	// ApprovalID names the request in the approvals API.
	ApprovalID string `json:"approval_id" doc:"ID of the approval request"`
	// Tool is the tool's full name (domain.tool).
	Tool string `json:"tool" doc:"Tool name"`
	// ToolCallID is the LLM's ID of the call, unique within its step.
	ToolCallID string `json:"tool_call_id" doc:"The LLM's ID of the call, unique within its step"`
	// Status is approved, rejected, expired or cancelled.
	Status string `json:"status" enum:"approved,rejected,expired,cancelled" doc:"How the request ended"`
	// Approver is who decided; empty when the request expired or was cancelled.
	Approver string `json:"approver" doc:"Who decided; empty when it expired or was cancelled"`
	// Comment is the approver's comment.
	Comment string `json:"comment" doc:"The approver's comment"`
}

// TurnEnd is how a turn ended, the payload shared by turn_completed, turn_failed and
// turn_cancelled (each its own type, embedding it).
type TurnEnd struct {
	// Status is completed, failed or cancelled, as the event type says.
	Status string `json:"status" enum:"completed,failed,cancelled" doc:"How the turn ended, as the event type says"`
	// Answer is the assistant's last text of the turn.
	Answer string `json:"answer" doc:"The assistant's last text of the turn"`
	// Error is what the user is told when the turn failed or was cancelled.
	Error string `json:"error" doc:"Why the turn did not complete"`
}

// TurnCompletedData is the payload of turn_completed: the assistant answered.
type TurnCompletedData struct{ TurnEnd }

// TurnFailedData is the payload of turn_failed.
type TurnFailedData struct{ TurnEnd }

// TurnCancelledData is the payload of turn_cancelled.
type TurnCancelledData struct{ TurnEnd }

// EventType implements Payload.
func (TurnStartedData) EventType() string { return TypeTurnStarted }

// EventType implements Payload.
func (DeltaData) EventType() string { return TypeDelta }

// EventType implements Payload.
func (AssistantMessageData) EventType() string { return TypeMessage }

// EventType implements Payload.
func (ToolStartedData) EventType() string { return TypeToolStarted }

// EventType implements Payload.
func (ToolFinishedData) EventType() string { return TypeToolFinished }

// EventType implements Payload.
func (ApprovalRequestedData) EventType() string { return TypeApprovalRequested }

// EventType implements Payload.
func (ApprovalDecidedData) EventType() string { return TypeApprovalDecided }

// EventType implements Payload.
func (TurnCompletedData) EventType() string { return TypeTurnCompleted }

// EventType implements Payload.
func (TurnFailedData) EventType() string { return TypeTurnFailed }

// EventType implements Payload.
func (TurnCancelledData) EventType() string { return TypeTurnCancelled }

// kind is one event type: its payload's zero value and how to read it back.
type kind struct {
	zero   Payload
	decode func(data []byte) (Payload, error)
}

func kindOf[P Payload]() kind {
	var zero P
	return kind{zero: zero, decode: func(data []byte) (Payload, error) {
		var p P
		err := json.Unmarshal(data, &p)
		return p, err
	}}
}

// kinds has every event type, in the order a turn publishes them.
var kinds = []kind{
	kindOf[TurnStartedData](),
	kindOf[DeltaData](),
	kindOf[AssistantMessageData](),
	kindOf[ToolStartedData](),
	kindOf[ToolFinishedData](),
	kindOf[ApprovalRequestedData](),
	kindOf[ApprovalDecidedData](),
	kindOf[TurnCompletedData](),
	kindOf[TurnFailedData](),
	kindOf[TurnCancelledData](),
}

// Payloads returns the zero value of every event type's payload, in the order a turn publishes
// them, so the API can document the stream from the same list the store accepts.
func Payloads() []Payload {
	out := make([]Payload, len(kinds))
	for i, k := range kinds {
		out[i] = k.zero
	}
	return out
}

// Decode reads the JSON of a payload published as typ, for callers that carry events as JSON
// (the workflows' Publish activity). It returns ErrUnknownType for a type with no payload.
func Decode(typ string, data []byte) (Payload, error) {
	for _, k := range kinds {
		if k.zero.EventType() != typ {
			continue
		}
		p, err := k.decode(data)
		if err != nil {
			return nil, fmt.Errorf("decode %s event: %w", typ, err)
		}
		return p, nil
	}
	return nil, fmt.Errorf("decode %q event: %w", typ, ErrUnknownType)
}
