package platform

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/worker"
	"golang.org/x/sync/errgroup"

	"mcp-platform/activities"
	"mcp-platform/authz"
	"mcp-platform/domains"
	"mcp-platform/domains/domainconfig"
	"mcp-platform/domains/kit"
	"mcp-platform/domains/registry"
	"mcp-platform/internal/audit"
	"mcp-platform/internal/llm/mock"
	"mcp-platform/internal/progress"
	"mcp-platform/workflows"
)

// Adapters says how to build each domain's adapter: builtin domains by name, the mcp and http
// kinds by kind. It also carries what the builtin domains teach the mock LLM. cmd/ wires it,
// so no domain package depends on another.
type Adapters struct {
	Builtin map[string]kit.Factory
	Kinds   map[string]kit.Factory
	// MockDemos are the builtin domains' demos for the mock LLM (their phrases and how their
	// results read), in a fixed order: NewLLM teaches them to the mock provider.
	MockDemos []mock.Demo
}

// Factory returns the adapter factory for a domain.
func (a Adapters) Factory(cfg *domains.Config) (kit.Factory, error) {
	var f kit.Factory
	if cfg.Kind == domains.KindBuiltin {
		f = a.Builtin[cfg.Name]
	} else {
		f = a.Kinds[cfg.Kind]
	}
	if f == nil {
		return nil, fmt.Errorf("domain %s (%s): no %s adapter is built into this binary", cfg.Name, cfg.File, cfg.Kind)
	}
	return f, nil
}

// WorkerSelection says which workers a process runs.
type WorkerSelection struct {
	Orchestrator bool
	// Domains to run by name.
	Domains []string
	// AllDomains runs every enabled domain.
	AllDomains bool
}

// pick returns the configurations of the selected domains: the named ones, or every enabled
// one with AllDomains; an orchestrator-only selection picks none.
func (sel WorkerSelection) pick(cfgs []*domains.Config) ([]*domains.Config, error) {
	var run []*domains.Config
	for _, c := range cfgs {
		if sel.AllDomains && c.IsEnabled() || slices.Contains(sel.Domains, c.Name) {
			run = append(run, c)
		}
	}
	for _, want := range sel.Domains {
		if !slices.ContainsFunc(run, func(c *domains.Config) bool { return c.Name == want }) {
			return nil, fmt.Errorf("domain %q: no valid configuration %s.yaml", want, want)
		}
	}
	return run, nil
}

// RunWorkers runs the selected workers until ctx ends. Domain configurations come from the
// domains directory; a broken file is logged and skipped unless its domain was asked for.
func RunWorkers(ctx context.Context, e *Env, sel WorkerSelection, adapters Adapters) error {
	cfgs, errs := domainconfig.LoadDir(e.Cfg.DomainsDir)
	for _, err := range errs {
		e.Logger.Error("skipping broken domain configuration", "error", err)
	}
	run, err := sel.pick(cfgs)
	if err != nil {
		return fmt.Errorf("%w in %s (see errors above)", err, e.Cfg.DomainsDir)
	}
	if len(run) == 0 && !sel.Orchestrator {
		return fmt.Errorf("no enabled domain in %s (MCP_DOMAINS_DIR) and no orchestrator: nothing to run", e.Cfg.DomainsDir)
	}
	g, gctx := errgroup.WithContext(ctx)
	if sel.Orchestrator {
		provider, err := NewLLM(e.Cfg.LLM, adapters.MockDemos)
		if err != nil {
			return err
		}
		g.Go(func() error { return RunOrchestrator(gctx, e, provider) })
	}
	for _, c := range run {
		f, err := adapters.Factory(c)
		if err != nil {
			return err
		}
		g.Go(func() error { return superviseDomain(gctx, e, c, f) })
	}
	return g.Wait()
}

// domainRestartDelay is how long a failed domain worker waits before starting again.
const domainRestartDelay = 10 * time.Second

// superviseDomain runs a domain worker and restarts it after a failure (an upstream that is not
// up yet, a database hiccup), so one domain's trouble never takes the others down.
func superviseDomain(ctx context.Context, e *Env, cfg *domains.Config, f kit.Factory) error {
	for {
		err := RunDomainWorker(ctx, e, cfg, f)
		if ctx.Err() != nil {
			return nil
		}
		e.Logger.Error("domain worker failed; restarting", "domain", cfg.Name, "in", domainRestartDelay, "error", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(domainRestartDelay):
		}
	}
}

// RunDomainWorker runs one domain's worker until ctx ends: it builds the adapter with the
// domain's own database credentials, polls only the domain's task queue, registers the domain
// and its tools, and heartbeats. On a clean stop it deregisters first, so callers see at once
// that the domain has no worker.
func RunDomainWorker(ctx context.Context, e *Env, cfg *domains.Config, factory kit.Factory) error {
	logger := e.Logger.With("domain", cfg.Name, "task_queue", cfg.TaskQueue)
	var pool *pgxpool.Pool
	if cfg.Kind == domains.KindBuiltin {
		// Only builtin domains keep data in the platform's database; the mcp and http kinds
		// reach their own services and get no database credentials at all.
		p, err := domainPool(ctx, e, cfg.Name)
		if err != nil {
			return err
		}
		defer p.Close()
		pool = p
	}
	adapter, err := factory(ctx, kit.Deps{Config: cfg, Pool: pool, Logger: logger, Getenv: e.getenv()})
	if err != nil {
		return fmt.Errorf("start domain %s: %w", cfg.Name, err)
	}
	if c, ok := adapter.(domains.Closer); ok {
		defer c.Close()
	}
	if src, ok := adapter.(domains.ToolSource); ok {
		if err := importTools(ctx, cfg, src); err != nil {
			return err
		}
	}
	enforcer, err := authz.NewEnforcer()
	if err != nil {
		return err
	}
	if err := enforcer.SetDomainPolicies(cfg.Name, cfg.Permissions); err != nil {
		return fmt.Errorf("domain %s permissions: %w", cfg.Name, err)
	}

	// Register before polling: a worker the registry refuses (another domain's queue, a
	// different definition than the running workers', the wrong registration key) never
	// receives a call.
	identity := workerIdentity(cfg.Name)
	reg := registry.New(e.Pool)
	claim := registry.Registration{Config: cfg, Identity: identity, Key: e.getenv()(registry.KeyEnv(cfg.Name))}
	if claim.Key == "" && !e.Cfg.IsDev() {
		logger.Warn("the domain has no registration key: once its workers stop, anything that can reach the database can register it again",
			"set", registry.KeyEnv(cfg.Name))
	}
	if err := reg.Register(ctx, claim); err != nil {
		refuseRegistration(ctx, e, cfg, identity, err)
		return err
	}
	// Each heartbeat of a running tool goes out (rather than every 8 s, the SDK's throttle for
	// its heartbeat timeout): its answer is how a cancelled run (MCP tasks/cancel) reaches the
	// call, whose context then ends and cancels the upstream request.
	w := worker.New(e.Temporal, cfg.TaskQueue, worker.Options{Identity: identity, WorkerStopTimeout: e.Cfg.Server.ShutdownTimeout,
		MaxHeartbeatThrottleInterval: activities.HeartbeatEvery})
	w.RegisterActivity(&activities.ToolExecutor{Domain: cfg, Adapter: adapter, Authz: enforcer, Audit: e.auditLog(), Trust: e.Trust,
		Progress: progress.NewStore(e.Pool), Logger: logger})
	w.RegisterActivity(&activities.ApprovalActivities{Approvals: e.approvalStore(), Audit: e.auditLog(), Logger: logger})
	workflows.Trust(e.Trust)
	w.RegisterWorkflow(workflows.ToolRun)
	if err := w.Start(); err != nil {
		_ = reg.Deregister(context.WithoutCancel(ctx), cfg.Name, identity)
		return fmt.Errorf("start worker for domain %s: %w", cfg.Name, err)
	}
	defer w.Stop()

	logger.Info("domain worker ready", "tools", len(cfg.Tools), "identity", identity)
	heartbeat(ctx, reg, claim, logger)

	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := reg.Deregister(dctx, cfg.Name, identity); err != nil {
		logger.Warn("deregister failed; the registry will notice the missing heartbeat", "error", err)
	}
	logger.Info("domain worker stopping")
	return nil
}

// refuseRegistration audits a registration the registry refused: an attempt to take over a
// domain or its queue is a security event, not only a log line.
func refuseRegistration(ctx context.Context, e *Env, cfg *domains.Config, identity string, err error) {
	if !errors.Is(err, registry.ErrNotOwner) && !errors.Is(err, registry.ErrDefinitionConflict) && !errors.Is(err, registry.ErrQueueTaken) &&
		!errors.Is(err, registry.ErrNameTaken) {
		return
	}
	if _, aerr := audit.New(e.Pool).Record(context.WithoutCancel(ctx), audit.Entry{UserID: "worker:" + identity, Tool: cfg.Name + ".(register)",
		Domain: cfg.Name, Outcome: audit.OutcomeDenied, Error: err.Error()}); aerr != nil {
		e.Logger.Error("audit write failed", "error", aerr)
	}
}

// heartbeat keeps the worker alive in the registry until ctx ends, registering again when its
// row has vanished.
func heartbeat(ctx context.Context, reg *registry.Registry, claim registry.Registration, logger *slog.Logger) {
	t := time.NewTicker(registry.HeartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := reg.Heartbeat(ctx, claim.Config.Name, claim.Identity)
		if errors.Is(err, registry.ErrNotRegistered) {
			err = reg.Register(ctx, claim)
		}
		if err != nil && ctx.Err() == nil {
			logger.Warn("registry heartbeat failed", "error", err)
		}
	}
}

// importTools adds the tools a ToolSource discovers to the domain's configuration, with the
// upstream annotations tightened by those the configuration declares for them, and the
// configuration's sensitive fields, timeout, approval policy and retry safety.
func importTools(ctx context.Context, cfg *domains.Config, src domains.ToolSource) error {
	found, err := src.DiscoverTools(ctx)
	if err != nil {
		return fmt.Errorf("discover tools of domain %s: %w", cfg.Name, err)
	}
	declared := map[string]domains.Tool{}
	for _, t := range cfg.Tools {
		declared[t.Name] = t
	}
	merged := make([]domains.Tool, 0, len(found))
	for _, t := range found {
		name := cfg.Name + "." + strings.TrimPrefix(t.Name, cfg.Name+".")
		if d, ok := declared[name]; ok {
			// What the upstream says about itself can be narrowed by our configuration, never
			// widened: YAML cannot make a writing tool read-only or idempotent.
			t.Annotations = t.Annotations.Tighten(d.Annotations)
			t.SensitiveFields, t.Timeout, t.Approval, t.RetrySafe = d.SensitiveFields, d.Timeout, d.Approval, d.RetrySafe
			if d.Description != "" {
				t.Description = d.Description
			}
			if d.Title != "" {
				t.Title = d.Title
			}
		}
		t.Name = name
		merged = append(merged, t)
	}
	cfg.Tools = merged
	return domainconfig.Normalize(cfg)
}

// domainPool opens the domain's own database pool: <DOMAIN>_DATABASE_URL when set, otherwise
// the platform's, and in both cases it switches to the domain's database role
// (mcp_domain_<name>) when one exists, so the domain reaches only its own schema.
func domainPool(ctx context.Context, e *Env, name string) (*pgxpool.Pool, error) {
	url := e.Cfg.Database.URL
	if v := e.getenv()(strings.ToUpper(name) + "_DATABASE_URL"); v != "" {
		url = v
	}
	pcfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("domain %s: invalid %s_DATABASE_URL", name, strings.ToUpper(name))
	}
	pcfg.MaxConns = 4
	role := "mcp_domain_" + name
	var exists bool
	if err := e.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)`, role).Scan(&exists); err != nil {
		return nil, fmt.Errorf("domain %s: look up database role: %w", name, err)
	}
	if exists {
		stmt := "SET ROLE " + pgx.Identifier{role}.Sanitize()
		pcfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
			_, err := c.Exec(ctx, stmt)
			return err
		}
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("domain %s: open database: %w", name, err)
	}
	return pool, nil
}

func workerIdentity(domain string) string {
	host, _ := os.Hostname()
	var b [3]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s@%s:%d:%s", domain, host, os.Getpid(), hex.EncodeToString(b[:]))
}

func (e *Env) getenv() func(string) string {
	if e.Getenv != nil {
		return e.Getenv
	}
	return os.Getenv
}
