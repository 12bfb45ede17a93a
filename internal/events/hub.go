package events

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"

	"mcp-platform/internal/store"
)

// Hub listens on the NOTIFY channel with one connection per process and hands each
// notification to the streams of its conversation: the event itself when the notification
// carries it (Follow), or a wake to re-read the table (Subscribe, and followers when an event
// did not fit in its notification or was missed). A lost notification only delays an event
// until the next one or the poll fallback.
type Hub struct {
	pool   *pgxpool.Pool
	logger *slog.Logger

	mu   sync.Mutex
	subs map[string]map[*subscriber]struct{}
}

// subscriber is one stream of a conversation: wake holds at most one pending wake; events,
// for followers only, the events notifications carried.
type subscriber struct {
	wake   chan struct{}
	events chan Event
}

// followBuffer is how many notified events a follower may have unread before the hub wakes it
// to re-read the table instead.
const followBuffer = 256

// NewHub returns a hub; call Run to start listening.
func NewHub(pool *pgxpool.Pool, logger *slog.Logger) *Hub {
	return &Hub{pool: pool, logger: logger, subs: map[string]map[*subscriber]struct{}{}}
}

// Subscribe returns a channel that receives a value whenever the conversation has new events,
// and a function that ends the subscription.
func (h *Hub) Subscribe(conversationID string) (<-chan struct{}, func()) {
	s := &subscriber{wake: make(chan struct{}, 1)}
	return s.wake, h.add(conversationID, s)
}

// Follower receives a conversation's new events as they are notified.
type Follower struct {
	// Events are the events notifications carried, in the order they committed. They may
	// repeat events the follower already read from the table: skip IDs already sent.
	Events <-chan Event
	// Wake receives a value when events may be waiting that did not come on Events (too large
	// for a notification, dropped while Events was full, or missed while the hub reconnected):
	// read the table then.
	Wake <-chan struct{}
	// Stop ends the subscription.
	Stop func()
}

// Follow subscribes to the conversation's events. Events committed after Follow returns
// arrive on Events or announce themselves on Wake.
func (h *Hub) Follow(conversationID string) *Follower {
	s := &subscriber{wake: make(chan struct{}, 1), events: make(chan Event, followBuffer)}
	return &Follower{Events: s.events, Wake: s.wake, Stop: h.add(conversationID, s)}
}

// add registers s for the conversation and returns the function that removes it.
func (h *Hub) add(conversationID string, s *subscriber) func() {
	h.mu.Lock()
	if h.subs[conversationID] == nil {
		h.subs[conversationID] = map[*subscriber]struct{}{}
	}
	h.subs[conversationID][s] = struct{}{}
	h.mu.Unlock()
	return func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(h.subs[conversationID], s)
		if len(h.subs[conversationID]) == 0 {
			delete(h.subs, conversationID)
		}
	}
}

// deliver hands a notified event to the conversation's streams: followers get the event (or a
// wake when their buffer is full), subscribers a wake.
func (h *Hub) deliver(e Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs[e.ConversationID] {
		if s.events != nil {
			select {
			case s.events <- e:
				continue
			default: // full: the table still has it
			}
		}
		s.poke()
	}
}

// poke leaves a wake pending, unless one already is.
func (s *subscriber) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (h *Hub) wake(conversationID string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs[conversationID] {
		s.poke()
	}
}

// wakeAll wakes every stream, after a reconnect, in case notifications were missed.
func (h *Hub) wakeAll() {
	h.mu.Lock()
	ids := make([]string, 0, len(h.subs))
	for id := range h.subs {
		ids = append(ids, id)
	}
	h.mu.Unlock()
	for _, id := range ids {
		h.wake(id)
	}
}

// Run listens until ctx ends, reconnecting after failures (and then waking every stream, in
// case notifications were missed).
func (h *Hub) Run(ctx context.Context) {
	store.Listen(ctx, h.pool, Channel, h.logger, store.Handlers{Connected: h.wakeAll, Notified: h.notified})
}

// notified handles one notification: an event (a JSON object), or the ID of a conversation
// whose event was too large to carry.
func (h *Hub) notified(payload string) {
	if !strings.HasPrefix(payload, "{") {
		h.wake(payload)
		return
	}
	var e Event
	if err := json.Unmarshal([]byte(payload), &e); err != nil || e.ConversationID == "" || e.ID == 0 {
		h.logger.Warn("ignoring an unreadable event notification", "error", err)
		return
	}
	e.CreatedAt = e.CreatedAt.UTC()
	h.deliver(e)
}
