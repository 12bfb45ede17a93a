// Package store connects to Postgres through pgx and applies the embedded migrations.
package store

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrUnreachable means the database server did not answer; the wrapped error says why.
var ErrUnreachable = errors.New("database unreachable")

// Open connects a pool to the database at url and checks it answers within a few seconds, so a
// wrong or stopped server is reported at start rather than at the first request.
func Open(ctx context.Context, dbURL string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return nil, fmt.Errorf("parse DATABASE_URL: invalid PostgreSQL URL %s", Redact(dbURL))
	}
	cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", Redact(dbURL), err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("%w: cannot connect to PostgreSQL at %s (is the server running and DATABASE_URL right?): %v",
			ErrUnreachable, Redact(dbURL), err)
	}
	return pool, nil
}

// Redact hides the password of a connection URL for logs and errors.
func Redact(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}
