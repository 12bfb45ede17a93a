package gateway

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/sse"

	"mcp-platform/api/httpapi"
	"mcp-platform/internal/conversations"
	"mcp-platform/internal/events"
)

// StreamEvent is one event of a conversation's stream (the SSE "message" event); its id is the
// SSE id, so a reconnecting client resumes with Last-Event-ID. Data is the payload as stored:
// old events stream exactly as they were published.
type StreamEvent struct {
	ID        int64           `json:"id"`
	Turn      int             `json:"turn"`
	Type      string          `json:"type" doc:"Event type; it names the shape of data"`
	Data      json.RawMessage `json:"data" doc:"Event payload"`
	CreatedAt time.Time       `json:"created_at"`
}

// streamEventFields is StreamEvent without its Schema method: the fields every variant shares.
type streamEventFields StreamEvent

// schemaRefPrefix is where Huma's default registry keeps named schemas.
const schemaRefPrefix = "#/components/schemas/"

// Schema documents StreamEvent as a union discriminated by type: one variant per event type
// (DeltaEvent, ToolFinishedEvent, ...) whose data is that type's payload (DeltaData, ...), so
// that clients generated from the document get typed events. The variants come from
// events.Payloads, the list the event store accepts.
func (StreamEvent) Schema(r huma.Registry) *huma.Schema {
	const name = "StreamEvent"
	if _, ok := r.Map()[name]; !ok {
		union := &huma.Schema{
			Description:   "One event of a conversation; type says which, and the shape of data.",
			Discriminator: &huma.Discriminator{PropertyName: "type", Mapping: map[string]string{}},
		}
		r.Map()[name] = union
		shared := huma.SchemaFromType(r, reflect.TypeFor[streamEventFields]())
		for _, p := range events.Payloads() {
			payload := reflect.TypeOf(p)
			variant := variantName(p.EventType())
			r.Map()[variant] = streamEventVariant(shared, p.EventType(), r.Schema(payload, true, ""))
			union.OneOf = append(union.OneOf, &huma.Schema{Ref: schemaRefPrefix + variant})
			union.Discriminator.Mapping[p.EventType()] = schemaRefPrefix + variant
		}
	}
	return &huma.Schema{Ref: schemaRefPrefix + name}
}

// variantName names the schema of the events of type typ: turn_started is TurnStartedEvent.
func variantName(typ string) string {
	var b strings.Builder
	for word := range strings.SplitSeq(typ, "_") {
		if word != "" {
			b.WriteString(strings.ToUpper(word[:1]) + word[1:])
		}
	}
	return b.String() + "Event"
}

// streamEventVariant is the schema of the events of one type: the shared fields, type fixed to
// it, and data its payload.
func streamEventVariant(shared *huma.Schema, typ string, data *huma.Schema) *huma.Schema {
	v := *shared
	v.Description = "The " + typ + " event."
	v.Properties = maps.Clone(shared.Properties)
	v.Properties["type"] = &huma.Schema{Type: huma.TypeString, Description: shared.Properties["type"].Description, Enum: []any{typ}}
	v.Properties["data"] = data
	return &v
}

// Ping keeps an idle stream open through proxies (the SSE "ping" event).
type Ping struct {
	Time time.Time `json:"time"`
}

type streamInput struct {
	ID          string `path:"id" format:"uuid" doc:"Conversation ID"`
	LastEventID string `header:"Last-Event-ID" maxLength:"20" doc:"Resume after this event (sent by EventSource on reconnect)"`
	After       int64  `query:"after" minimum:"0" doc:"Resume after this event ID (for clients that cannot set headers)"`
}

// pingInterval is how often an idle stream sends a ping.
const pingInterval = 15 * time.Second

// batch bounds how many events one read returns.
const batch = 500

// streamHandler serves a conversation's event stream.
type streamHandler struct {
	conversations *conversations.Store
	events        *events.Store
	hub           *events.Hub
	// pollInterval is how often an idle stream re-reads the table in case a notification was
	// lost.
	pollInterval time.Duration
}

// addStreamRoute registers the server-sent event stream of a conversation.
func addStreamRoute(api huma.API, deps Deps) {
	h := &streamHandler{conversations: deps.Conversations, events: deps.Events, hub: deps.Hub, pollInterval: deps.PollInterval}
	sse.Register(api, huma.Operation{
		OperationID: "stream-conversation-events",
		Method:      http.MethodGet,
		Path:        "/conversations/{id}/events",
		Summary:     "Follow a conversation",
		Description: "Server-sent events of the conversation: token deltas, tool started/finished, approvals, turn " +
			"completed/failed, in order. Replays from Last-Event-ID (or ?after=) and then follows live, whichever " +
			"API process the turn was started on.",
		Tags:   []string{"Conversations"},
		Errors: []int{http.StatusUnauthorized, http.StatusNotFound},
	}, map[string]any{"message": StreamEvent{}, "ping": Ping{}}, h.stream)
	describeEnvelopes(api.OpenAPI().Components.Schemas, api.OpenAPI().Paths["/conversations/{id}/events"].Get.Responses["200"].Content["text/event-stream"])
}

// describeEnvelopes adjusts the SSE envelopes Huma documents to what strict generators can build
// a typed stream client from. Each envelope becomes a named schema (MessageEnvelope,
// PingEnvelope) whose event is an enum and whose id is text, as SSE sends it, and the stream's
// items a union of them discriminated by event: ogen cannot tell inline variants whose data are
// both objects apart. Its extension x-ogen-sse-event-shape says that the schema is an array of
// whole envelopes (Huma's form), not of data payloads.
func describeEnvelopes(r huma.Registry, media *huma.MediaType) {
	if media.Extensions == nil {
		media.Extensions = map[string]any{}
	}
	media.Extensions["x-ogen-sse-event-shape"] = "full-array"
	envelopes, _ := media.Schema.Items.Extensions["oneOf"].([]*huma.Schema)
	union := &huma.Schema{Discriminator: &huma.Discriminator{PropertyName: "event", Mapping: map[string]string{}}}
	for _, e := range envelopes {
		event := e.Properties["event"]
		name, ok := event.Extensions["const"].(string)
		if !ok {
			continue
		}
		delete(event.Extensions, "const")
		event.Enum = []any{name}
		if !slices.Contains(e.Required, "event") {
			e.Required = append(e.Required, "event") // SSE's default event name is message
		}
		e.Properties["id"] = &huma.Schema{Type: huma.TypeString, Description: "The event ID (a number); a reconnecting client sends it as Last-Event-ID."}
		ref := schemaRefPrefix + strings.TrimSuffix(variantName(name), "Event") + "Envelope"
		r.Map()[strings.TrimPrefix(ref, schemaRefPrefix)] = e
		union.OneOf = append(union.OneOf, &huma.Schema{Ref: ref})
		union.Discriminator.Mapping[name] = ref
	}
	media.Schema.Items = union
}

// stream replays the caller's conversation from the client's resume point and then follows it
// live until the client leaves or a send fails. Live events come with their notifications and
// are sent as they arrive, without reading them back; the table is read to catch up, and again
// only when the hub says an event did not come with its notification (or on the poll, in case
// one was lost). IDs at or below the last one sent are skipped, so an event read from the table
// and also notified is sent once.
func (h *streamHandler) stream(ctx context.Context, in *streamInput, send sse.Sender) {
	p, err := httpapi.Principal(ctx)
	if err != nil {
		return
	}
	if _, err := h.conversations.Get(ctx, p.Subject, in.ID); err != nil {
		// The stream has started; the client sees it end at once. An existence check
		// before streaming would leak nothing more, so keep it simple.
		return
	}
	last := resumePoint(in)
	// Follow before reading the table: whatever commits after the read is notified.
	f := h.hub.Follow(in.ID)
	defer f.Stop()
	poll := time.NewTicker(h.pollInterval)
	defer poll.Stop()
	ping := time.NewTicker(pingInterval)
	defer ping.Stop()
	behind := true // the table may hold events not sent yet
	for {
		if behind {
			var full bool
			if last, full, err = h.sendAfter(ctx, in.ID, last, send); err != nil {
				return
			}
			if full {
				continue
			}
			behind = false
		}
		select {
		case <-ctx.Done():
			return
		case e := <-f.Events:
			if e.ID <= last {
				continue
			}
			if err := sendEvent(send, e); err != nil {
				return
			}
			last = e.ID
		case <-f.Wake:
			behind = true
		case <-poll.C:
			behind = true
		case t := <-ping.C:
			if err := send.Data(Ping{Time: t.UTC()}); err != nil {
				return
			}
		}
	}
}

// resumePoint is the event the client last saw: the later of Last-Event-ID and ?after=.
func resumePoint(in *streamInput) int64 {
	last := in.After
	if n, err := strconv.ParseInt(in.LastEventID, 10, 64); err == nil && n > last {
		last = n
	}
	return last
}

// sendAfter sends one batch of the events after last and returns the last one sent; full
// reports a whole batch, after which more may be waiting.
func (h *streamHandler) sendAfter(ctx context.Context, conv string, last int64, send sse.Sender) (int64, bool, error) {
	evs, err := h.events.After(ctx, conv, last, batch)
	if err != nil {
		return last, false, err
	}
	for _, e := range evs {
		if err := sendEvent(send, e); err != nil {
			return last, false, err
		}
		last = e.ID
	}
	return last, len(evs) == batch, nil
}

// sendEvent sends one event with its ID as the SSE id.
func sendEvent(send sse.Sender, e events.Event) error {
	return send(sse.Message{ID: int(e.ID), Data: StreamEvent{ID: e.ID, Turn: e.Turn, Type: e.Type, Data: e.Data, CreatedAt: e.CreatedAt.UTC()}})
}
