package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"go.temporal.io/sdk/client"

	"mcp-platform/api/httpapi"
	"mcp-platform/internal/approvals"
	"mcp-platform/internal/conversations"
	"mcp-platform/internal/events"
)

type listConversationsInput struct {
	Limit  int    `query:"limit" minimum:"1" maximum:"100" default:"20" doc:"Page size"`
	Cursor string `query:"cursor" maxLength:"512" doc:"next_cursor of the previous page"`
}

type listConversationsOutput struct {
	Body struct {
		Conversations []conversations.Conversation `json:"conversations" doc:"Most recently active first"`
		NextCursor    string                       `json:"next_cursor,omitempty" doc:"Pass as cursor for the next page; absent on the last"`
	}
}

type conversationInput struct {
	ID string `path:"id" format:"uuid" doc:"Conversation ID"`
}

// ConversationDetail is a conversation with its full history.
type ConversationDetail struct {
	conversations.Conversation
	Turns    []TurnDetail            `json:"turns"`
	Messages []conversations.Message `json:"messages" doc:"User, assistant and tool messages in order, tool calls and results included"`
	// Approvals are the conversation's requests for approval, pending and decided.
	Approvals []approvals.Request `json:"approvals"`
	// LastEventID is the newest event when the history was read: follow the stream from it.
	LastEventID int64 `json:"last_event_id" doc:"Pass as Last-Event-ID (or ?after=) to follow the stream from this history"`
}

// TurnDetail is a turn with its links.
type TurnDetail struct {
	conversations.Turn
	TemporalURL string `json:"temporal_url,omitempty" doc:"The turn's run in the Temporal UI"`
}

type conversationOutput struct {
	Body ConversationDetail
}

// conversationHandlers serve the operations on the caller's conversations.
type conversationHandlers struct {
	conversations *conversations.Store
	events        *events.Store
	approvals     *approvals.Store
	temporal      client.Client
	logger        *slog.Logger
	links         turnLinks
}

// addConversationRoutes registers the operations that list, read and delete conversations.
func addConversationRoutes(api huma.API, deps Deps) {
	h := &conversationHandlers{conversations: deps.Conversations, events: deps.Events, approvals: deps.Approvals,
		temporal: deps.Temporal, logger: deps.Logger, links: deps.links()}
	huma.Register(api, huma.Operation{
		OperationID: "list-conversations",
		Method:      http.MethodGet,
		Path:        "/conversations",
		Summary:     "List conversations",
		Description: "The caller's conversations, most recently active first, paginated.",
		Tags:        []string{"Conversations"},
		Errors:      []int{http.StatusBadRequest, http.StatusUnauthorized},
	}, h.list)

	huma.Register(api, huma.Operation{
		OperationID: "get-conversation",
		Method:      http.MethodGet,
		Path:        "/conversations/{id}",
		Summary:     "Get a conversation",
		Description: "The caller's conversation with every turn and message, tool calls and results included. " +
			"Someone else's conversation is 404.",
		Tags:   []string{"Conversations"},
		Errors: []int{http.StatusUnauthorized, http.StatusNotFound},
	}, h.get)

	huma.Register(api, huma.Operation{
		OperationID:   "delete-conversation",
		Method:        http.MethodDelete,
		Path:          "/conversations/{id}",
		Summary:       "Delete a conversation",
		Description:   "Deletes the caller's conversation with its history, and cancels its running turn.",
		Tags:          []string{"Conversations"},
		DefaultStatus: http.StatusNoContent,
		Errors:        []int{http.StatusUnauthorized, http.StatusNotFound},
	}, h.delete)
}

// list returns a page of the caller's conversations.
func (h *conversationHandlers) list(ctx context.Context, in *listConversationsInput) (*listConversationsOutput, error) {
	p, err := httpapi.Principal(ctx)
	if err != nil {
		return nil, err
	}
	list, next, err := h.conversations.List(ctx, p.Subject, in.Limit, in.Cursor)
	if errors.Is(err, conversations.ErrBadCursor) {
		return nil, huma.Error400BadRequest("the cursor is not valid; start again without it")
	}
	if err != nil {
		return nil, notFound(err, h.logger)
	}
	out := &listConversationsOutput{}
	out.Body.Conversations, out.Body.NextCursor = list, next
	if out.Body.Conversations == nil {
		out.Body.Conversations = []conversations.Conversation{}
	}
	return out, nil
}

// get returns the caller's conversation with its whole history.
func (h *conversationHandlers) get(ctx context.Context, in *conversationInput) (*conversationOutput, error) {
	c, err := callersConversation(ctx, h.conversations, h.logger, in.ID)
	if err != nil {
		return nil, err
	}
	d, err := h.history(ctx, c)
	if err != nil {
		return nil, notFound(err, h.logger)
	}
	return &conversationOutput{Body: d}, nil
}

// history reads the messages, turns and approvals of c, and where its event stream stands.
// Empty lists are empty, not null.
func (h *conversationHandlers) history(ctx context.Context, c conversations.Conversation) (ConversationDetail, error) {
	d := ConversationDetail{Conversation: c, Turns: []TurnDetail{}}
	msgs, err := h.conversations.Messages(ctx, c.ID)
	if err != nil {
		return d, err
	}
	turns, err := h.conversations.Turns(ctx, c.ID)
	if err != nil {
		return d, err
	}
	// Read the stream position first: events published while the history is read are
	// then replayed rather than missed.
	if d.LastEventID, err = h.events.LastID(ctx, c.ID); err != nil {
		return d, err
	}
	if d.Approvals, err = h.approvals.ForConversation(ctx, c.ID); err != nil {
		return d, err
	}
	if d.Approvals == nil {
		d.Approvals = []approvals.Request{}
	}
	for _, t := range turns {
		d.Turns = append(d.Turns, TurnDetail{Turn: t, TemporalURL: h.links.turnInfo(c.ID, t.Turn, t.WorkflowID, t.Status).TemporalURL})
	}
	d.Messages = msgs
	if d.Messages == nil {
		d.Messages = []conversations.Message{}
	}
	return d, nil
}

// delete deletes the caller's conversation and cancels the workflows of its running turns.
func (h *conversationHandlers) delete(ctx context.Context, in *conversationInput) (*struct{}, error) {
	p, err := httpapi.Principal(ctx)
	if err != nil {
		return nil, err
	}
	running, err := h.conversations.Delete(ctx, p.Subject, in.ID)
	if err != nil {
		return nil, notFound(err, h.logger)
	}
	for _, id := range running {
		if err := h.temporal.CancelWorkflow(ctx, id, ""); err != nil {
			h.logger.WarnContext(ctx, "cancel turn of deleted conversation failed", "workflow_id", id, "error", err)
		}
	}
	return nil, nil
}
