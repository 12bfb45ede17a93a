package store

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Handlers are what Listen calls; a nil one is not called. All run on the listening goroutine.
type Handlers struct {
	// Connected is called each time the connection is (re)established, when notifications
	// may have been missed.
	Connected func()
	// Disconnected is called each time the connection ends (lost, or ctx ended): nothing is
	// heard until the next Connected.
	Disconnected func()
	// Notified is called with each notification's payload, in order.
	Notified func(payload string)
}

// Listen LISTENs on channel with one connection of its own until ctx ends, reconnecting a
// second after a failure, and tells h.
func Listen(ctx context.Context, pool *pgxpool.Pool, channel string, logger *slog.Logger, h Handlers) {
	for ctx.Err() == nil {
		err := listen(ctx, pool, channel, h)
		if h.Disconnected != nil {
			h.Disconnected()
		}
		if ctx.Err() != nil {
			return
		}
		logger.Warn("a notification listener lost its connection; reconnecting", "channel", channel, "error", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func listen(ctx context.Context, pool *pgxpool.Pool, channel string, h Handlers) error {
	pooled, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// A LISTENing connection must not go back to the pool.
	conn := pooled.Hijack()
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+channel); err != nil {
		return err
	}
	if h.Connected != nil {
		h.Connected()
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if h.Notified != nil {
			h.Notified(n.Payload)
		}
	}
}
