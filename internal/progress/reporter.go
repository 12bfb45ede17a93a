package progress

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Interval and Burst limit the publishes of one call's progress: a tool may report as often as
// it likes; its first Burst reports are published as they come, and after that at most one
// every Interval reaches the database (a token bucket), the latest report of each wait.
const (
	Interval = 250 * time.Millisecond
	Burst    = 4
)

// publishTimeout bounds one publish, so that a slow database cannot hold up the call.
const publishTimeout = 5 * time.Second

// Reporter publishes the progress of one call, coalesced: past the first Burst reports, a
// report that comes before the bucket has refilled waits for it, and only the latest report of
// that wait is published. A report whose progress does not exceed an earlier one's is dropped. It is safe for
// concurrent use; Close publishes what is pending.
type Reporter struct {
	store  *Store
	key    string
	ctx    context.Context
	logger *slog.Logger

	mu       sync.Mutex
	pending  *Update
	reported bool
	highest  float64
	limiter  *rate.Limiter
	timer    *time.Timer
	closed   bool

	// publishing serializes publishes, so that they reach the database in order.
	publishing sync.Mutex
}

// Reporter returns the reporter of the call key. Its publishes outlive the cancellation of
// ctx (a cancelled call's last progress is still recorded), each bounded by a timeout.
func (s *Store) Reporter(ctx context.Context, key string, logger *slog.Logger) *Reporter {
	return &Reporter{store: s, key: key, ctx: context.WithoutCancel(ctx), logger: logger,
		limiter: rate.NewLimiter(rate.Every(Interval), Burst)}
}

// Report notes how far the call has come: progress (increasing), total (zero when unknown) and
// a message, which is cleaned (Clean) before it is stored.
func (r *Reporter) Report(progress, total float64, message string) {
	if !finite(progress) || !finite(total) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || (r.reported && progress <= r.highest) {
		return
	}
	r.reported, r.highest = true, progress
	r.pending = &Update{Key: r.key, Progress: progress, Total: total, Message: Clean(message)}
	if r.timer == nil {
		r.timer = time.AfterFunc(r.limiter.Reserve().Delay(), r.flush)
	}
}

// Close publishes the pending report, if any, and drops later ones. It returns once every
// publish has ended. A nil Reporter does nothing.
func (r *Reporter) Close() {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.closed = true
	if r.timer != nil {
		r.timer.Stop()
	}
	r.mu.Unlock()
	r.flush()
}

// flush publishes the pending report.
func (r *Reporter) flush() {
	r.publishing.Lock()
	defer r.publishing.Unlock()
	r.mu.Lock()
	u := r.pending
	r.pending, r.timer = nil, nil
	r.mu.Unlock()
	if u == nil {
		return
	}
	ctx, cancel := context.WithTimeout(r.ctx, publishTimeout)
	defer cancel()
	if _, err := r.store.Publish(ctx, *u); err != nil {
		r.logger.Warn("publish a tool call's progress failed", "key", r.key, "error", err)
	}
}
