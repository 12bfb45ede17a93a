// Package registry keeps the tool registry in Postgres: each domain worker registers its domain
// and tools when it starts and heartbeats while it runs; the API and MCP server read it through a
// Catalog that refreshes every few seconds, so domains appear, change and vanish without a
// restart.
package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"mcp-platform/domains"
)

// HeartbeatInterval is how often a worker heartbeats; LiveAfter is how long after its last
// heartbeat a worker still counts as running.
const (
	HeartbeatInterval = 3 * time.Second
	LiveAfter         = 12 * time.Second
)

// Registry reads and writes the registry tables.
type Registry struct {
	pool *pgxpool.Pool
}

// New returns a registry on the platform database.
func New(pool *pgxpool.Pool) *Registry { return &Registry{pool: pool} }

// Worker is one running worker of a domain.
type Worker struct {
	Identity    string    `json:"identity"`
	StartedAt   time.Time `json:"started_at"`
	HeartbeatAt time.Time `json:"heartbeat_at"`
}

// Domain is a registered domain with its tools and workers.
type Domain struct {
	Config       *domains.Config
	RegisteredAt time.Time
	UpdatedAt    time.Time
	Workers      []Worker
}

// Live reports whether at least one worker heartbeat recently.
func (d *Domain) Live(now time.Time) bool {
	for _, w := range d.Workers {
		if now.Sub(w.HeartbeatAt) < LiveAfter {
			return true
		}
	}
	return false
}

// LastHeartbeat is the most recent heartbeat of any worker (zero when none).
func (d *Domain) LastHeartbeat() time.Time {
	var last time.Time
	for _, w := range d.Workers {
		if w.HeartbeatAt.After(last) {
			last = w.HeartbeatAt
		}
	}
	return last
}

// Register records the domain's configuration and its complete tool set (replacing the previous
// set) and the worker's first heartbeat, in one transaction. Tools must lie in the domain's
// namespace; the configuration has been normalized by domainconfig.Parse.
func (r *Registry) Register(ctx context.Context, cfg *domains.Config, identity string) error {
	for _, t := range cfg.Tools {
		if domains.DomainOf(t.Name) != cfg.Name {
			return fmt.Errorf("register domain %s: tool %s is outside its namespace", cfg.Name, t.Name)
		}
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("encode domain %s: %w", cfg.Name, err)
	}
	return pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `
			INSERT INTO domains (name, description, version, kind, task_queue, enabled, config)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (name) DO UPDATE SET description = $2, version = $3, kind = $4, task_queue = $5,
				enabled = $6, config = $7, updated_at = now()`,
			cfg.Name, cfg.Description, cfg.Version, cfg.Kind, cfg.TaskQueue, cfg.IsEnabled(), raw)
		if err != nil {
			return fmt.Errorf("upsert domain %s: %w", cfg.Name, err)
		}
		names := make([]string, 0, len(cfg.Tools))
		for _, t := range cfg.Tools {
			names = append(names, t.Name)
			ann, _ := json.Marshal(t.Annotations)
			var out any
			if t.OutputSchema != nil {
				out = t.OutputSchema
			}
			_, err := tx.Exec(ctx, `
				INSERT INTO tools (name, domain, description, input_schema, output_schema, annotations)
				VALUES ($1, $2, $3, $4, $5, $6)
				ON CONFLICT (name) DO UPDATE SET description = $3, input_schema = $4, output_schema = $5,
					annotations = $6, updated_at = now()
				WHERE tools.domain = $2`,
				t.Name, cfg.Name, t.Description, t.InputSchema, out, ann)
			if err != nil {
				return fmt.Errorf("upsert tool %s: %w", t.Name, err)
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM tools WHERE domain = $1 AND NOT (name = ANY($2))`, cfg.Name, names); err != nil {
			return fmt.Errorf("remove vanished tools of %s: %w", cfg.Name, err)
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO domain_workers (domain, identity) VALUES ($1, $2)
			ON CONFLICT (domain, identity) DO UPDATE SET started_at = now(), heartbeat_at = now()`,
			cfg.Name, identity)
		if err != nil {
			return fmt.Errorf("record worker %s of %s: %w", identity, cfg.Name, err)
		}
		return nil
	})
}

// ErrNotRegistered means a heartbeat came from a worker whose row is gone (for example the
// domain was removed); the worker should register again.
var ErrNotRegistered = errors.New("worker not registered")

// Heartbeat marks the worker alive.
func (r *Registry) Heartbeat(ctx context.Context, domain, identity string) error {
	tag, err := r.pool.Exec(ctx, `UPDATE domain_workers SET heartbeat_at = now() WHERE domain = $1 AND identity = $2`, domain, identity)
	if err != nil {
		return fmt.Errorf("heartbeat %s/%s: %w", domain, identity, err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotRegistered
	}
	return nil
}

// Deregister removes the worker on a clean stop, so its domain stops counting it at once.
func (r *Registry) Deregister(ctx context.Context, domain, identity string) error {
	_, err := r.pool.Exec(ctx, `DELETE FROM domain_workers WHERE domain = $1 AND identity = $2`, domain, identity)
	if err != nil {
		return fmt.Errorf("deregister %s/%s: %w", domain, identity, err)
	}
	return nil
}

// Domains returns every registered domain with its workers, ordered by name. The database
// clock decides liveness, so workers on other machines are judged consistently.
func (r *Registry) Domains(ctx context.Context) ([]*Domain, time.Time, error) {
	var now time.Time
	if err := r.pool.QueryRow(ctx, `SELECT now()`).Scan(&now); err != nil {
		return nil, now, fmt.Errorf("read clock: %w", err)
	}
	rows, err := r.pool.Query(ctx, `SELECT name, config, registered_at, updated_at FROM domains ORDER BY name`)
	if err != nil {
		return nil, now, fmt.Errorf("list domains: %w", err)
	}
	var out []*Domain
	byName := map[string]*Domain{}
	for rows.Next() {
		var (
			name string
			raw  []byte
			d    Domain
		)
		if err := rows.Scan(&name, &raw, &d.RegisteredAt, &d.UpdatedAt); err != nil {
			return nil, now, fmt.Errorf("scan domain: %w", err)
		}
		var cfg domains.Config
		if err := json.Unmarshal(raw, &cfg); err != nil {
			return nil, now, fmt.Errorf("decode domain %s: %w", name, err)
		}
		d.Config = &cfg
		out = append(out, &d)
		byName[name] = &d
	}
	if err := rows.Err(); err != nil {
		return nil, now, fmt.Errorf("list domains: %w", err)
	}
	wrows, err := r.pool.Query(ctx, `SELECT domain, identity, started_at, heartbeat_at FROM domain_workers ORDER BY domain, identity`)
	if err != nil {
		return nil, now, fmt.Errorf("list workers: %w", err)
	}
	defer wrows.Close()
	for wrows.Next() {
		var (
			domain string
			w      Worker
		)
		if err := wrows.Scan(&domain, &w.Identity, &w.StartedAt, &w.HeartbeatAt); err != nil {
			return nil, now, fmt.Errorf("scan worker: %w", err)
		}
		if d := byName[domain]; d != nil {
			d.Workers = append(d.Workers, w)
		}
	}
	return out, now, wrows.Err()
}
