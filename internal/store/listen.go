package store

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Listen LISTENs on channel with one connection of its own until ctx ends, reconnecting a
// second after a failure. It calls connected each time the connection is (re)established,
// when notifications may have been missed, and notified with each notification's payload, in
// order, on the listening goroutine.
func Listen(ctx context.Context, pool *pgxpool.Pool, channel string, logger *slog.Logger, connected func(), notified func(payload string)) {
	for ctx.Err() == nil {
		err := listen(ctx, pool, channel, connected, notified)
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

func listen(ctx context.Context, pool *pgxpool.Pool, channel string, connected func(), notified func(string)) error {
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
	connected()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		notified(n.Payload)
	}
}
