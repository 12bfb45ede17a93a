package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"mcp-platform/api/gateway"
	"mcp-platform/api/mcpserver"
	"mcp-platform/authz"
	"mcp-platform/domains/registry"
	"mcp-platform/internal/config"
	"mcp-platform/internal/logging"
	"mcp-platform/internal/store"
	"mcp-platform/internal/telemetry"
	"mcp-platform/internal/version"
	"mcp-platform/platform"
)

// temporalWait is how long a role waits for Temporal at start, so roles may start in any order.
const temporalWait = 60 * time.Second

func (c *cli) settings() (config.Config, *slog.Logger, error) {
	cfg, err := config.Load(c.getenv)
	if err != nil {
		return config.Config{}, nil, err
	}
	return cfg, logging.New(c.stderr, cfg), nil
}

// connect loads settings and connects a role to Postgres and Temporal.
func (c *cli) connect(ctx context.Context, role string) (*platform.Env, error) {
	cfg, logger, err := c.settings()
	if err != nil {
		return nil, err
	}
	if cfg.Database.URL == "" {
		return nil, fmt.Errorf("DATABASE_URL is not set: the %s role needs a PostgreSQL server "+
			"(or run 'mcp-platform dev', which starts a private one)", role)
	}
	logger = logger.With("role", role)
	logger.Info("starting", "version", version.Version, "environment", cfg.Environment,
		"database", cfg.RedactedDatabaseURL(), "temporal", cfg.Temporal.Address)
	return platform.Connect(ctx, cfg, logger, temporalWait)
}

// tracing starts the role's tracing (OTLP export when OTEL_EXPORTER_OTLP_ENDPOINT is set);
// the returned function flushes what is buffered.
func (c *cli) tracing(ctx context.Context, role string) (func(), error) {
	shutdown, err := telemetry.StartTracing(ctx, platform.ServiceName(role), c.getenv)
	if err != nil {
		return nil, err
	}
	return func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := shutdown(sctx); err != nil {
			fmt.Fprintln(c.stderr, "flush traces:", err)
		}
	}, nil
}

// serveRole runs a role with its tracing and, beside it, the metrics listener.
func (c *cli) serveRole(ctx context.Context, role string, run func(context.Context, *platform.Env) error) error {
	flush, err := c.tracing(ctx, role)
	if err != nil {
		return err
	}
	defer flush()
	env, err := c.connect(ctx, role)
	if err != nil {
		return err
	}
	defer env.Close()
	if env.Getenv == nil {
		env.Getenv = c.getenv
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return platform.ServeMetrics(gctx, env) })
	g.Go(func() error { return run(gctx, env) })
	return g.Wait()
}

func runServer(role string, serve func(context.Context, *platform.Env) error) func(context.Context, *cli, []string) error {
	return func(ctx context.Context, c *cli, args []string) error {
		if err := parse(c.flags(role, role), args); err != nil {
			return err
		}
		return c.serveRole(ctx, role, serve)
	}
}

var (
	runAPI = runServer("api", platform.RunAPI)
	runMCP = runServer("mcp", platform.RunMCP)
)

func runWorker(ctx context.Context, c *cli, args []string) error {
	fs := c.flags("worker", "worker [-orchestrator] [-domains hr,erp,...]")
	orchestrator := fs.Bool("orchestrator", false, "run the orchestrator worker (ChatTurn workflows, LLM and history activities)")
	list := fs.String("domains", "", "comma-separated domains whose workers to run (default with no flag: every enabled domain and the orchestrator)")
	if err := parse(fs, args); err != nil {
		return err
	}
	sel := platform.WorkerSelection{Orchestrator: *orchestrator}
	for _, d := range strings.Split(*list, ",") {
		if d = strings.TrimSpace(d); d != "" {
			sel.Domains = append(sel.Domains, d)
		}
	}
	if !sel.Orchestrator && len(sel.Domains) == 0 {
		sel.Orchestrator, sel.AllDomains = true, true
	}
	role := "worker"
	if sel.Orchestrator && !sel.AllDomains && len(sel.Domains) == 0 {
		role = "orchestrator"
	}
	return c.serveRole(ctx, role, func(ctx context.Context, env *platform.Env) error {
		return platform.RunWorkers(ctx, env, sel, platform.BuiltinAdapters())
	})
}

// runKeys prints a new Ed25519 key pair as environment lines (for .env): the private key signs
// what the front ends assert, the public one lets workers verify it. Rotate by putting the new
// public key first and keeping the old one listed until the old assertions have expired.
func runKeys(_ context.Context, c *cli, args []string) error {
	fs := c.flags("keys", "keys [-kid ID]")
	kid := fs.String("kid", "k"+time.Now().UTC().Format("20060102"), "key ID (letters, digits, _ or -), for rotation")
	if err := parse(fs, args); err != nil {
		return err
	}
	signer, _, err := authz.NewKeyPair(*kid)
	if err != nil {
		return usageError{err.Error()}
	}
	fmt.Fprintf(c.stdout, "MCP_ASSERTION_KEY=%s\nMCP_ASSERTION_PUBLIC_KEYS=%s\n", signer.Format(), signer.Public().Format())
	return nil
}

// runRegistry is the operator's acceptance of a new definition or owner of a domain: the
// registry refuses both while the domain is bound to its running workers and key.
func runRegistry(ctx context.Context, c *cli, args []string) error {
	fs := c.flags("registry", "registry forget <domain>")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 2 || fs.Arg(0) != "forget" {
		fs.Usage()
		return usageError{"registry: say forget <domain>"}
	}
	cfg, _, err := c.settings()
	if err != nil {
		return err
	}
	if cfg.Database.URL == "" {
		return errors.New("DATABASE_URL is not set: say which PostgreSQL server holds the registry")
	}
	pool, err := store.Open(ctx, cfg.Database.URL)
	if err != nil {
		return err
	}
	defer pool.Close()
	ok, err := registry.New(pool).Forget(ctx, fs.Arg(1))
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("registry: no domain %q is registered", fs.Arg(1))
	}
	fmt.Fprintf(c.stdout, "forgot domain %s: the next worker to start registers it (and binds it to its key)\n", fs.Arg(1))
	return nil
}

func runMigrate(ctx context.Context, c *cli, args []string) error {
	fs := c.flags("migrate", "migrate up|down|status")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return usageError{"migrate: say up, down or status"}
	}
	action := fs.Arg(0)
	if action != "up" && action != "down" && action != "status" {
		return usageError{fmt.Sprintf("migrate: unknown action %q (use up, down or status)", action)}
	}
	cfg, logger, err := c.settings()
	if err != nil {
		return err
	}
	if cfg.Database.URL == "" {
		return errors.New("DATABASE_URL is not set: say which PostgreSQL server to migrate")
	}
	pool, err := store.Open(ctx, cfg.Database.URL)
	if err != nil {
		return err
	}
	defer pool.Close()
	m, err := store.NewMigrator(pool, logger)
	if err != nil {
		return err
	}
	defer m.Close()
	switch action {
	case "up":
		n, err := m.Up(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "applied %d migration(s)\n", n)
	case "down":
		v, err := m.Down(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "rolled back migration %d\n", v)
	case "status":
		st, err := m.Status(ctx)
		if err != nil {
			return err
		}
		for _, s := range st {
			state := "pending"
			if s.Applied {
				state = "applied"
			}
			fmt.Fprintf(c.stdout, "%05d  %-8s %s\n", s.Version, state, s.Name)
		}
	}
	return nil
}

func runOpenAPI(_ context.Context, c *cli, args []string) error {
	fs := c.flags("openapi", "openapi [-server api|mcp] [-o file]")
	server := fs.String("server", "api", "which server's document: api (gateway) or mcp (MCP server)")
	out := fs.String("o", "", "write to this file instead of standard output")
	if err := parse(fs, args); err != nil {
		return err
	}
	var doc any
	switch *server {
	case "api":
		api, _ := gateway.New(gateway.Deps{})
		doc = api.OpenAPI()
	case "mcp":
		api, _ := mcpserver.New(mcpserver.Deps{})
		doc = api.OpenAPI()
	default:
		return usageError{fmt.Sprintf("openapi: unknown server %q (use api or mcp)", *server)}
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("encode OpenAPI document: %w", err)
	}
	b = append(b, '\n')
	if *out == "" {
		_, err = c.stdout.Write(b)
		return err
	}
	return os.WriteFile(*out, b, 0o644)
}

func runVersion(_ context.Context, c *cli, args []string) error {
	if err := parse(c.flags("version", "version"), args); err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, "mcp-platform", version.Version)
	return nil
}
