package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"mcp-platform/api/httpapi"
	"mcp-platform/authz"
	"mcp-platform/internal/conversations"
	"mcp-platform/internal/events"
	"mcp-platform/internal/redact"
	"mcp-platform/internal/store"
	"mcp-platform/internal/temporalx"
	"mcp-platform/workflows"
)

// ChatRequest starts a chat turn.
type ChatRequest struct {
	Body struct {
		ConversationID string `json:"conversation_id,omitempty" format:"uuid" doc:"Continue this conversation; omit to start a new one"`
		Message        string `json:"message" minLength:"1" maxLength:"8000" example:"Get employee E001" doc:"What the user says"`
		Wait           bool   `json:"wait,omitempty" doc:"Wait for the answer (up to timeout_seconds) instead of returning at once"`
		TimeoutSeconds int    `json:"timeout_seconds,omitempty" minimum:"1" maximum:"300" default:"60" doc:"How long wait=true waits"`
	}
}

// Resolve refuses a message Postgres cannot store (a NUL character, invalid UTF-8) with a 422
// that names the field, before anything is written.
func (r *ChatRequest) Resolve(huma.Context) []error {
	if !store.StorableText(r.Body.Message) {
		return []error{&huma.ErrorDetail{Location: "body.message", Message: "contains a NUL character or invalid UTF-8"}}
	}
	return nil
}

// TurnInfo identifies a turn and says where it stands.
type TurnInfo struct {
	ConversationID string `json:"conversation_id" format:"uuid"`
	Turn           int    `json:"turn" example:"1"`
	WorkflowID     string `json:"workflow_id" example:"chat-6f1c…-1" doc:"The Temporal workflow running the turn"`
	Status         string `json:"status" enum:"running,awaiting_approval,completed,failed,cancelled"`
	Answer         string `json:"answer,omitempty" doc:"The assistant's final answer, when the turn completed"`
	Error          string `json:"error,omitempty" doc:"Why the turn failed"`
	EventsURL      string `json:"events_url" doc:"Server-sent events of the conversation"`
	TemporalURL    string `json:"temporal_url,omitempty" doc:"The turn's run in the Temporal UI"`
}

// ChatResponse is a started (202) or finished (200) turn.
type ChatResponse struct {
	Status int
	Body   TurnInfo
}

// turnInput names one turn of a conversation.
type turnInput struct {
	ID   string `path:"id" format:"uuid"`
	Turn int    `path:"turn" minimum:"1"`
}

// chatHandlers serve the chat-turn operations.
type chatHandlers struct {
	conversations *conversations.Store
	events        *events.Store
	temporal      client.Client
	logger        *slog.Logger
	// maxSteps bounds the LLM ↔ tools loop of a turn.
	maxSteps int
	links    turnLinks
	// signer vouches for the caller to the workers.
	signer *authz.Signer
}

// TurnAssertionTTL is how long the signed identity of a turn's caller stays valid: long enough
// for the turn's approvals to be decided, bounded so that a copied assertion soon dies.
const TurnAssertionTTL = 72 * time.Hour

// addChatRoutes registers the operations that start and cancel chat turns.
func addChatRoutes(api huma.API, deps Deps) {
	h := &chatHandlers{conversations: deps.Conversations, events: deps.Events, temporal: deps.Temporal, signer: deps.Signer,
		logger: deps.Logger, maxSteps: deps.MaxSteps, links: deps.links()}
	huma.Register(api, huma.Operation{
		OperationID: "create-chat-turn",
		Method:      http.MethodPost,
		Path:        "/chat",
		Summary:     "Send a message",
		Description: "Records the message and starts a durable chat turn (Temporal workflow chat-<conversation>-<turn>). " +
			"By default answers 202 at once with the IDs; follow the turn on events_url. With wait=true it waits up " +
			"to timeout_seconds and answers 200 with the answer when the turn completed, or 202 when it is still " +
			"running or waiting for an approval; a turn that failed (for example a misconfigured LLM) answers 200 with " +
			"status failed and the reason. 409 when the conversation already has a turn in progress; 429 with Retry-After " +
			"when the caller sent more requests than the per-minute limit allows. A caller whose daily LLM token budget is " +
			"spent gets a turn that completes at once with an answer saying so and when it resets; nothing runs.",
		Tags:          []string{"Chat"},
		DefaultStatus: http.StatusAccepted,
		Responses: map[string]*huma.Response{
			"200": httpapi.JSONResponse[TurnInfo](api, "The turn finished (wait=true): completed with the answer, failed with the reason, or cancelled"),
			"202": httpapi.JSONResponse[TurnInfo](api, "The turn started (or, with wait=true, is still running or waits for an approval)"),
		},
		Errors: []int{http.StatusUnauthorized, http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity,
			http.StatusTooManyRequests, http.StatusServiceUnavailable},
	}, h.createTurn)

	huma.Register(api, huma.Operation{
		OperationID:   "cancel-chat-turn",
		Method:        http.MethodPost,
		Path:          "/conversations/{id}/turns/{turn}/cancel",
		Summary:       "Cancel a turn",
		Description:   "Asks a running turn to stop. It ends as cancelled; tool calls already made stay made.",
		Tags:          []string{"Chat"},
		DefaultStatus: http.StatusAccepted,
		Errors:        []int{http.StatusUnauthorized, http.StatusNotFound, http.StatusConflict},
	}, h.cancelTurn)
}

// createTurn records the message, starts the turn's workflow and, with wait=true, waits for
// its answer.
func (h *chatHandlers) createTurn(ctx context.Context, in *ChatRequest) (*ChatResponse, error) {
	p, err := httpapi.Principal(ctx)
	if err != nil {
		return nil, err
	}
	conv, turn, err := h.recordMessage(ctx, p, in)
	if err != nil {
		return nil, err
	}
	run, err := h.startWorkflow(ctx, p, conv, turn)
	if err != nil {
		return nil, err
	}
	out := &ChatResponse{Status: http.StatusAccepted, Body: h.links.turnInfo(conv.ID, turn.Turn, turn.WorkflowID, conversations.StatusRunning)}
	if !in.Body.Wait {
		return out, nil
	}
	return h.wait(ctx, run, out, time.Duration(in.Body.TimeoutSeconds)*time.Second)
}

// recordMessage stores the user's message as a new turn of the conversation (a new
// conversation when none is given), and tells the conversation's followers in the same
// transaction, so that turn_started comes before anything the turn's workflow publishes. Only
// one turn of a conversation runs at a time.
func (h *chatHandlers) recordMessage(ctx context.Context, p authz.Principal, in *ChatRequest) (conversations.Conversation, conversations.Turn, error) {
	started := func(c conversations.Conversation, t conversations.Turn) store.Op {
		return h.events.PublishOp(ctx, c.ID, t.Turn, events.TurnStartedData{WorkflowID: t.WorkflowID, Message: redact.String(in.Body.Message)}, nil)
	}
	conv, turn, err := h.conversations.StartTurn(ctx, p.Subject, in.Body.ConversationID, in.Body.Message, workflows.ChatTurnWorkflowID, started)
	switch {
	case errors.Is(err, conversations.ErrNotFound):
		return conv, turn, huma.Error404NotFound("no such conversation")
	case errors.Is(err, conversations.ErrTurnInProgress):
		return conv, turn, huma.Error409Conflict("this conversation already has a turn in progress; wait for it or cancel it")
	case err != nil:
		h.logger.ErrorContext(ctx, "start turn failed", "error", err)
		return conv, turn, huma.Error503ServiceUnavailable("could not record the message; try again")
	}
	return conv, turn, nil
}

// startWorkflow starts the turn's workflow. When Temporal refuses, the turn is marked failed so
// that the conversation is free for the next message.
func (h *chatHandlers) startWorkflow(ctx context.Context, p authz.Principal, conv conversations.Conversation, turn conversations.Turn) (client.WorkflowRun, error) {
	assertion, err := h.signer.SignPrincipal(p, turn.WorkflowID, TurnAssertionTTL)
	if err != nil {
		h.logger.ErrorContext(ctx, "sign the caller's identity failed", "error", err)
		h.failStart(ctx, conv.ID, turn.Turn, "the platform could not vouch for the caller")
		return nil, huma.Error503ServiceUnavailable("the platform could not start the turn; try again shortly")
	}
	run, err := h.temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                    turn.WorkflowID,
		TaskQueue:             workflows.OrchestratorQueue,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		// Where this client is also the orchestrator's worker (dev, one process), the first
		// workflow task comes back with the start instead of through matching; elsewhere the
		// SDK starts normally.
		EnableEagerStart: true,
		StaticSummary:    workflows.ChatTurnSummary(conv.Title, turn.Turn),
		TypedSearchAttributes: temporal.NewSearchAttributes(
			temporalx.ConversationID.ValueSet(conv.ID),
			temporalx.UserID.ValueSet(p.Subject),
			temporalx.TurnStatus.ValueSet(conversations.StatusRunning),
		),
	}, workflows.ChatTurn, workflows.ChatTurnInput{ConversationID: conv.ID, Turn: turn.Turn, Principal: p, MaxSteps: h.maxSteps, Assertion: assertion,
		Version: workflows.CurrentVersion})
	if err != nil {
		h.logger.ErrorContext(ctx, "start chat workflow failed", "workflow_id", turn.WorkflowID, "error", err)
		h.failStart(ctx, conv.ID, turn.Turn, "the workflow service was unavailable")
		return nil, huma.Error503ServiceUnavailable("the workflow service is unavailable; try again shortly")
	}
	return run, nil
}

// failStart marks a turn whose workflow could not start as failed, and tells the
// conversation's followers, who heard it started; a failure is only logged, the caller's answer
// says what happened.
func (h *chatHandlers) failStart(ctx context.Context, conv string, turn int, reason string) {
	ctx = context.WithoutCancel(ctx)
	ended := events.TurnFailedData{TurnEnd: events.TurnEnd{Status: conversations.StatusFailed, Error: reason}}
	if err := h.conversations.SetTurnStatus(ctx, conv, turn, conversations.StatusFailed, reason,
		h.events.PublishOp(ctx, conv, turn, ended, nil)); err != nil {
		h.logger.WarnContext(ctx, "record the failed start of a turn failed", "error", err)
	}
}

// cancelTurn asks the caller's running (or approval-waiting) turn to stop.
func (h *chatHandlers) cancelTurn(ctx context.Context, in *turnInput) (*ChatResponse, error) {
	if _, err := callersConversation(ctx, h.conversations, h.logger, in.ID); err != nil {
		return nil, err
	}
	t, err := h.findTurn(ctx, in)
	if err != nil {
		return nil, err
	}
	if t.Status != conversations.StatusRunning && t.Status != conversations.StatusAwaitingApproval {
		return nil, huma.Error409Conflict("the turn is already " + t.Status)
	}
	if err := h.temporal.CancelWorkflow(ctx, t.WorkflowID, ""); err != nil {
		h.logger.ErrorContext(ctx, "cancel turn failed", "workflow_id", t.WorkflowID, "error", err)
		return nil, huma.Error503ServiceUnavailable("could not cancel the turn; try again")
	}
	return &ChatResponse{Status: http.StatusAccepted, Body: h.links.turnInfo(in.ID, t.Turn, t.WorkflowID, t.Status)}, nil
}

// findTurn reads the turn in names from its conversation, which the caller has been checked to
// own.
func (h *chatHandlers) findTurn(ctx context.Context, in *turnInput) (conversations.Turn, error) {
	turns, err := h.conversations.Turns(ctx, in.ID)
	if err != nil {
		return conversations.Turn{}, huma.Error503ServiceUnavailable("could not read the conversation")
	}
	for _, t := range turns {
		if t.Turn == in.Turn {
			return t, nil
		}
	}
	return conversations.Turn{}, huma.Error404NotFound("no such turn")
}

// wait waits for the turn's result, answering 200 when it finished and 202 when it is still
// going (or waiting for an approval) at the deadline.
func (h *chatHandlers) wait(ctx context.Context, run client.WorkflowRun, out *ChatResponse, timeout time.Duration) (*ChatResponse, error) {
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var res workflows.ChatTurnResult
	err := run.Get(wctx, &res)
	if err == nil {
		out.Status, out.Body.Status, out.Body.Answer = http.StatusOK, res.Status, res.Answer
		return out, nil
	}
	// The long poll may report the deadline (as a gRPC status) a moment before wctx does.
	var deadline *serviceerror.DeadlineExceeded
	if wctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || errors.As(err, &deadline) {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if turns, terr := h.conversations.Turns(ctx, out.Body.ConversationID); terr == nil && len(turns) > 0 {
			out.Body.Status = turns[len(turns)-1].Status
		}
		return out, nil
	}
	var canceled *temporal.CanceledError
	if errors.As(err, &canceled) {
		out.Status, out.Body.Status = http.StatusOK, conversations.StatusCancelled
		return out, nil
	}
	var appErr *temporal.ApplicationError
	out.Status, out.Body.Status = http.StatusOK, conversations.StatusFailed
	out.Body.Error = "the assistant could not answer; see the conversation for details"
	if errors.As(err, &appErr) {
		out.Body.Error = appErr.Message()
	}
	return out, nil
}

// turnLinks builds the identifiers of turns and their links into the Temporal UI.
type turnLinks struct {
	// temporalUIURL is where people open the Temporal UI ("" when unknown).
	temporalUIURL string
	namespace     string
}

// links is how the gateway links turns to their runs.
func (deps Deps) links() turnLinks {
	return turnLinks{temporalUIURL: deps.TemporalUIURL, namespace: deps.Namespace}
}

// turnInfo builds the identifiers and links of a turn.
func (l turnLinks) turnInfo(conv string, turn int, workflowID, status string) TurnInfo {
	info := TurnInfo{ConversationID: conv, Turn: turn, WorkflowID: workflowID, Status: status,
		EventsURL: "/conversations/" + conv + "/events"}
	if l.temporalUIURL != "" {
		info.TemporalURL = fmt.Sprintf("%s/namespaces/%s/workflows/%s", strings.TrimRight(l.temporalUIURL, "/"),
			url.PathEscape(l.namespace), url.PathEscape(workflowID))
	}
	return info
}

// callersConversation reads the caller's conversation id; someone else's is 404.
func callersConversation(ctx context.Context, store *conversations.Store, logger *slog.Logger, id string) (conversations.Conversation, error) {
	p, err := httpapi.Principal(ctx)
	if err != nil {
		return conversations.Conversation{}, err
	}
	c, err := store.Get(ctx, p.Subject, id)
	if err != nil {
		return c, notFound(err, logger)
	}
	return c, nil
}

// notFound maps a store error to 404 (someone else's conversation is 404 too) or 503.
func notFound(err error, logger *slog.Logger) error {
	if errors.Is(err, conversations.ErrNotFound) {
		return huma.Error404NotFound("no such conversation")
	}
	logger.Error("conversation store failed", "error", err)
	return huma.Error503ServiceUnavailable("could not read the conversation")
}
