package gateway

import (
	"context"
	"errors"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"mcp-platform/api/httpapi"
	"mcp-platform/internal/approvals"
	"mcp-platform/internal/conversations"
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

func addConversationRoutes(api huma.API, deps Deps) {
	huma.Register(api, huma.Operation{
		OperationID: "list-conversations",
		Method:      http.MethodGet,
		Path:        "/conversations",
		Summary:     "List conversations",
		Description: "The caller's conversations, most recently active first, paginated.",
		Tags:        []string{"Conversations"},
		Errors:      []int{http.StatusBadRequest, http.StatusUnauthorized},
	}, func(ctx context.Context, in *listConversationsInput) (*listConversationsOutput, error) {
		p, err := httpapi.Principal(ctx)
		if err != nil {
			return nil, err
		}
		list, next, err := deps.Conversations.List(ctx, p.Subject, in.Limit, in.Cursor)
		if errors.Is(err, conversations.ErrBadCursor) {
			return nil, huma.Error400BadRequest("the cursor is not valid; start again without it")
		}
		if err != nil {
			return nil, notFound(err, deps)
		}
		out := &listConversationsOutput{}
		out.Body.Conversations, out.Body.NextCursor = list, next
		if out.Body.Conversations == nil {
			out.Body.Conversations = []conversations.Conversation{}
		}
		return out, nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "get-conversation",
		Method:      http.MethodGet,
		Path:        "/conversations/{id}",
		Summary:     "Get a conversation",
		Description: "The caller's conversation with every turn and message, tool calls and results included. " +
			"Someone else's conversation is 404.",
		Tags:   []string{"Conversations"},
		Errors: []int{http.StatusUnauthorized, http.StatusNotFound},
	}, func(ctx context.Context, in *conversationInput) (*conversationOutput, error) {
		p, err := httpapi.Principal(ctx)
		if err != nil {
			return nil, err
		}
		c, err := deps.Conversations.Get(ctx, p.Subject, in.ID)
		if err != nil {
			return nil, notFound(err, deps)
		}
		msgs, err := deps.Conversations.Messages(ctx, c.ID)
		if err != nil {
			return nil, notFound(err, deps)
		}
		turns, err := deps.Conversations.Turns(ctx, c.ID)
		if err != nil {
			return nil, notFound(err, deps)
		}
		// Read the stream position first: events published while the history is read are
		// then replayed rather than missed.
		last, err := deps.Events.LastID(ctx, c.ID)
		if err != nil {
			return nil, notFound(err, deps)
		}
		apr, err := deps.Approvals.ForConversation(ctx, c.ID)
		if err != nil {
			return nil, notFound(err, deps)
		}
		if apr == nil {
			apr = []approvals.Request{}
		}
		out := &conversationOutput{Body: ConversationDetail{Conversation: c, Messages: msgs, Turns: []TurnDetail{}, Approvals: apr, LastEventID: last}}
		for _, t := range turns {
			out.Body.Turns = append(out.Body.Turns, TurnDetail{Turn: t, TemporalURL: deps.turnInfo(c.ID, t.Turn, t.WorkflowID, t.Status).TemporalURL})
		}
		if out.Body.Messages == nil {
			out.Body.Messages = []conversations.Message{}
		}
		return out, nil
	})

	huma.Register(api, huma.Operation{
		OperationID:   "delete-conversation",
		Method:        http.MethodDelete,
		Path:          "/conversations/{id}",
		Summary:       "Delete a conversation",
		Description:   "Deletes the caller's conversation with its history, and cancels its running turn.",
		Tags:          []string{"Conversations"},
		DefaultStatus: http.StatusNoContent,
		Errors:        []int{http.StatusUnauthorized, http.StatusNotFound},
	}, func(ctx context.Context, in *conversationInput) (*struct{}, error) {
		p, err := httpapi.Principal(ctx)
		if err != nil {
			return nil, err
		}
		running, err := deps.Conversations.Delete(ctx, p.Subject, in.ID)
		if err != nil {
			return nil, notFound(err, deps)
		}
		for _, id := range running {
			if err := deps.Temporal.CancelWorkflow(ctx, id, ""); err != nil {
				deps.Logger.Warn("cancel turn of deleted conversation failed", "workflow_id", id, "error", err)
			}
		}
		return nil, nil
	})
}
