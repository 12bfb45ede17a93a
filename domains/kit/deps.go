// Package kit is what domain adapters share: the dependencies a worker hands an adapter (Deps,
// Factory), a Router dispatching calls to handlers, argument readers, and the classification of
// database failures. It builds on the contract in package domains.
package kit

import (
	"context"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"

	"mcp-platform/domains"
)

// Deps is what a domain's worker gives its adapter: its own configuration, its own database
// pool (with the domain's own credentials), a logger and the environment for secrets.
type Deps struct {
	Config *domains.Config
	Pool   *pgxpool.Pool
	Logger *slog.Logger
	Getenv func(string) string
}

// Factory builds an adapter for a builtin domain.
type Factory func(ctx context.Context, deps Deps) (domains.Adapter, error)
