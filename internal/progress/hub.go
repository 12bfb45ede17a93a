package progress

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"mcp-platform/internal/store"
)

// followBuffer is how many updates a follower may have unread; later ones are dropped until it
// reads (the row keeps the latest, which Latest returns).
const followBuffer = 16

// Hub listens on Channel with one connection per process and hands each update to the
// followers of its call. It also reads the latest progress of a call (Latest).
type Hub struct {
	*Store
	logger *slog.Logger

	mu   sync.Mutex
	subs map[string]map[chan Update]struct{}
}

// NewHub returns a hub; call Run to start listening.
func NewHub(pool *pgxpool.Pool, logger *slog.Logger) *Hub {
	return &Hub{Store: NewStore(pool), logger: logger, subs: map[string]map[chan Update]struct{}{}}
}

// Follow subscribes to the updates of the call key announced from now on, and returns them
// with the function that ends the subscription. Updates may be dropped while the channel is
// full, and missed while the hub reconnects: Latest has the newest.
func (h *Hub) Follow(key string) (<-chan Update, func()) {
	ch := make(chan Update, followBuffer)
	h.mu.Lock()
	if h.subs[key] == nil {
		h.subs[key] = map[chan Update]struct{}{}
	}
	h.subs[key][ch] = struct{}{}
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(h.subs[key], ch)
		if len(h.subs[key]) == 0 {
			delete(h.subs, key)
		}
	}
}

// Retention is how long the progress of a call is kept after its last update; Run prunes older
// rows every PruneInterval.
const (
	Retention     = 24 * time.Hour
	PruneInterval = time.Hour
)

// Run listens until ctx ends, reconnecting after failures, and prunes progress older than
// Retention.
func (h *Hub) Run(ctx context.Context) {
	go h.prune(ctx)
	store.Listen(ctx, h.pool, Channel, h.logger, store.Handlers{Notified: h.notified})
}

// prune deletes old progress every PruneInterval until ctx ends. Several hubs pruning at once
// delete the same rows: harmless.
func (h *Hub) prune(ctx context.Context) {
	tick := time.NewTicker(PruneInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if _, err := h.Prune(ctx, Retention); err != nil && ctx.Err() == nil {
				h.logger.Warn("pruning old tool call progress failed", "error", err)
			}
		}
	}
}

// notified hands one announced update to its call's followers.
func (h *Hub) notified(payload string) {
	var u Update
	if err := json.Unmarshal([]byte(payload), &u); err != nil || u.Key == "" {
		h.logger.Warn("ignoring an unreadable progress notification", "error", err)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs[u.Key] {
		select {
		case ch <- u:
		default: // full: Latest still has it
		}
	}
}
