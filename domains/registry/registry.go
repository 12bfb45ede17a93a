// Package registry keeps the tool registry in Postgres: each domain worker registers its domain
// and tools when it starts and heartbeats while it runs; the API and MCP server read it through a
// Catalog that refreshes every few seconds, so domains appear, change and vanish without a
// restart.
package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
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

	// stored is the configuration as stored, which tells the catalog that a domain it has
	// already checked (domainconfig.Normalize) did not change.
	stored []byte
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

// Errors of Register: the domain is bound to another registration key, its definition differs
// from the one its running workers registered, or its task queue is another domain's.
var (
	ErrNotOwner           = errors.New("the domain is registered with another registration key")
	ErrDefinitionConflict = errors.New("the domain is registered with a different definition by workers that are still running")
	ErrQueueTaken         = errors.New("the task queue belongs to another domain")
	ErrNameTaken          = errors.New("a tool name on /mcp is another domain's")
)

// Registration is what a worker presents to register its domain.
type Registration struct {
	Config   *domains.Config
	Identity string
	// Key is the domain's registration key (<DOMAIN>_REGISTRATION_KEY), known only to its
	// workers; empty when none is configured. The first registration with a key binds the
	// domain to it.
	Key string
}

// Register records the domain's configuration and its complete tool set (replacing the previous
// set) and the worker's first heartbeat, in one transaction. Tools must lie in the domain's
// namespace; the configuration has been normalized by domainconfig.Parse. It refuses (with
// ErrNotOwner, ErrDefinitionConflict or ErrQueueTaken, wrapped with the details) a worker whose
// key does not match the domain's, a definition other than the one its live workers run, and a
// task queue another domain holds: a domain cannot be taken over by registering it again.
func (r *Registry) Register(ctx context.Context, reg Registration) error {
	cfg := reg.Config
	for _, t := range cfg.Tools {
		if domains.DomainOf(t.Name) != cfg.Name {
			return fmt.Errorf("register domain %s: tool %s is outside its namespace", cfg.Name, t.Name)
		}
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("encode domain %s: %w", cfg.Name, err)
	}
	def, key := fingerprint(raw), ""
	if reg.Key != "" {
		key = fingerprint([]byte("registration-key:" + reg.Key))
	}
	return pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		if err := checkClaim(ctx, tx, cfg, reg.Identity, def, key); err != nil {
			return err
		}
		if err := checkPublished(ctx, tx, cfg); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `
			INSERT INTO domains (name, description, version, kind, task_queue, enabled, config, definition_hash, key_hash)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (name) DO UPDATE SET description = $2, version = $3, kind = $4, task_queue = $5,
				enabled = $6, config = $7, definition_hash = $8,
				key_hash = CASE WHEN domains.key_hash = '' THEN $9 ELSE domains.key_hash END, updated_at = now()`,
			cfg.Name, cfg.Description, cfg.Version, cfg.Kind, cfg.TaskQueue, cfg.IsEnabled(), raw, def, key)
		if err != nil {
			return fmt.Errorf("upsert domain %s: %w", cfg.Name, err)
		}
		if err := putTools(ctx, tx, cfg); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO domain_workers (domain, identity) VALUES ($1, $2)
			ON CONFLICT (domain, identity) DO UPDATE SET started_at = now(), heartbeat_at = now()`,
			cfg.Name, reg.Identity)
		if err != nil {
			return fmt.Errorf("record worker %s of %s: %w", reg.Identity, cfg.Name, err)
		}
		if _, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, Channel, cfg.Name); err != nil {
			return fmt.Errorf("announce domain %s: %w", cfg.Name, err)
		}
		return nil
	})
}

// checkClaim refuses a registration that would take over another's domain or queue. It locks
// the domain's row for the rest of the transaction.
func checkClaim(ctx context.Context, tx pgx.Tx, cfg *domains.Config, identity, def, key string) error {
	var owner string
	err := tx.QueryRow(ctx, `SELECT name FROM domains WHERE task_queue = $1 AND name <> $2`, cfg.TaskQueue, cfg.Name).Scan(&owner)
	if err == nil {
		return fmt.Errorf("register domain %s: task queue %s: %w (%s)", cfg.Name, cfg.TaskQueue, ErrQueueTaken, owner)
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("register domain %s: %w", cfg.Name, err)
	}
	var oldDef, oldKey string
	var live int
	err = tx.QueryRow(ctx, `SELECT d.definition_hash, d.key_hash,
			(SELECT count(*) FROM domain_workers w WHERE w.domain = d.name AND w.identity <> $2
				AND w.heartbeat_at > now() - make_interval(secs => $3))
		FROM domains d WHERE d.name = $1 FOR UPDATE`, cfg.Name, identity, LiveAfter.Seconds()).Scan(&oldDef, &oldKey, &live)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // a new domain
	}
	if err != nil {
		return fmt.Errorf("register domain %s: %w", cfg.Name, err)
	}
	switch {
	case oldKey != "" && key != oldKey:
		return fmt.Errorf("register domain %s: %w; start its workers with the domain's own %s", cfg.Name, ErrNotOwner, KeyEnv(cfg.Name))
	case oldDef != "" && oldDef != def && live > 0:
		return fmt.Errorf("register domain %s: %w (%d running); stop them first to roll out the new definition, or remove the domain with `mcp-platform registry forget %s`",
			cfg.Name, ErrDefinitionConflict, live, cfg.Name)
	}
	return nil
}

// checkPublished refuses a domain one of whose tools /mcp would publish under a name that a
// tool of another registered domain already has there (two domains publishing the same
// unprefixed name, or an unprefixed name that is another's "<domain>__<tool>"): a tools/call
// by that name could not tell them apart. Registrations take turns on a transaction lock, so
// two domains cannot claim one name at once.
func checkPublished(ctx context.Context, tx pgx.Tx, cfg *domains.Config) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('mcp-platform/published-tool-names'))`); err != nil {
		return fmt.Errorf("register domain %s: %w", cfg.Name, err)
	}
	mine := map[string]string{}
	for _, t := range cfg.Tools {
		mine[cfg.PublishedName(t.Name)] = t.Name
	}
	rows, err := tx.Query(ctx, `SELECT config FROM domains WHERE name <> $1 AND enabled`, cfg.Name)
	if err != nil {
		return fmt.Errorf("register domain %s: %w", cfg.Name, err)
	}
	others, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return fmt.Errorf("register domain %s: %w", cfg.Name, err)
	}
	for _, raw := range others {
		var other domains.Config
		if json.Unmarshal(raw, &other) != nil {
			continue // the catalog leaves an unreadable domain out, too
		}
		for _, t := range other.Tools {
			published := other.PublishedName(t.Name)
			if tool, clash := mine[published]; clash {
				return fmt.Errorf("register domain %s: tool %s would be published on /mcp as %q, which is %s's name there: %w; "+
					"publish one of the domains prefixed (mcp.publish: prefixed), rename the tool, or remove the other domain with `mcp-platform registry forget %s`",
					cfg.Name, tool, published, t.Name, ErrNameTaken, other.Name)
			}
		}
	}
	return nil
}

// KeyEnv is the environment variable holding a domain's registration key ("HR_REGISTRATION_KEY").
func KeyEnv(domain string) string { return strings.ToUpper(domain) + "_REGISTRATION_KEY" }

// putTools replaces the domain's tool rows with cfg's tools.
func putTools(ctx context.Context, tx pgx.Tx, cfg *domains.Config) error {
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
	return nil
}

// fingerprint is the hex SHA-256 of b.
func fingerprint(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Forget removes a domain, its tools and its workers from the registry, releasing its name, key
// and task queue: how an operator accepts a new definition or owner. It reports whether the
// domain was registered.
func (r *Registry) Forget(ctx context.Context, domain string) (bool, error) {
	tag, err := r.pool.Exec(ctx, `WITH d AS (DELETE FROM domains WHERE name = $1 RETURNING name)
		SELECT pg_notify($2, name) FROM d`, domain, Channel)
	if err != nil {
		return false, fmt.Errorf("forget domain %s: %w", domain, err)
	}
	return tag.RowsAffected() == 1, nil
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
	_, err := r.pool.Exec(ctx, `WITH w AS (DELETE FROM domain_workers WHERE domain = $1 AND identity = $2 RETURNING domain)
		SELECT pg_notify($3, domain) FROM w`, domain, identity, Channel)
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
		d.Config, d.stored = &cfg, raw
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
