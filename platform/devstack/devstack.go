// Package devstack runs the whole platform in one process for development: a private
// PostgreSQL cluster (unless DATABASE_URL is set), an embedded Temporal server with its Web UI,
// migrations, the gateway API, the MCP server and the workers. It stops everything, in reverse
// order, when its context ends.
package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"mcp-platform/api/codecapi"
	"mcp-platform/api/httpapi"
	"mcp-platform/domains"
	"mcp-platform/domains/domainconfig"
	"mcp-platform/internal/config"
	"mcp-platform/internal/devserver/pgcluster"
	"mcp-platform/internal/devserver/temporalserver"
	"mcp-platform/internal/health"
	"mcp-platform/internal/store"
	"mcp-platform/internal/telemetry"
	"mcp-platform/internal/temporalx"
	"mcp-platform/platform"
)

// Stack is a running dev stack.
type Stack struct {
	Env         *platform.Env
	TemporalUI  string
	pg          *pgcluster.Cluster
	temporal    *temporalserver.Server
	apiListener net.Listener
	mcpListener net.Listener
	adapters    platform.Adapters
}

// Run starts the stack, serves until ctx ends, then stops everything. It prints the URLs to out
// once the stack is ready (see Serve).
func Run(ctx context.Context, cfg config.Config, logger *slog.Logger, out io.Writer, adapters platform.Adapters) (err error) {
	s, err := Start(ctx, cfg, logger, adapters)
	if err != nil {
		return err
	}
	defer func() {
		if serr := s.Stop(); serr != nil && err == nil {
			err = serr
		}
	}()
	return s.Serve(ctx, out)
}

// Start brings up the dependencies and binds the servers' ports, but serves nothing yet.
// On failure it stops whatever it had started.
func Start(ctx context.Context, cfg config.Config, logger *slog.Logger, adapters platform.Adapters) (_ *Stack, err error) {
	tuneGC(os.Getenv)
	s := &Stack{adapters: adapters}
	defer func() {
		if err != nil {
			_ = s.Stop()
		}
	}()
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("create data directory %s (MCP_DATA_DIR): %w", cfg.DataDir, err)
	}
	dataDir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("resolve data directory: %w", err)
	}

	if cfg.Database.URL == "" {
		logger.Info("DATABASE_URL not set: starting a private PostgreSQL cluster", "dir", filepath.Join(dataDir, "postgres"))
		s.pg, err = pgcluster.Start(ctx, pgcluster.Options{DataDir: filepath.Join(dataDir, "postgres"), Database: "mcp", Logger: logger})
		if err != nil {
			return nil, fmt.Errorf("start private PostgreSQL: %w", err)
		}
		cfg.Database.URL = s.pg.URL()
	}
	// Check the database before anything slow, so a wrong DATABASE_URL is reported at once.
	pool, err := store.Open(ctx, cfg.Database.URL)
	if err != nil {
		return nil, err
	}
	if err := store.Migrate(ctx, pool, logger); err != nil {
		pool.Close()
		return nil, err
	}

	defer func() {
		if err != nil && s.Env == nil {
			pool.Close()
		}
	}()

	// Bind the HTTP ports before anything slow, so a busy port is reported at once.
	if s.apiListener, err = listen(cfg.Server.Host, cfg.Server.APIPort, "gateway API", "ORCHESTRATOR_PORT"); err != nil {
		return nil, err
	}
	if s.mcpListener, err = listen(cfg.Server.Host, cfg.Server.MCPPort, "MCP server", "MCP_SERVER_PORT"); err != nil {
		return nil, err
	}

	// Every payload the embedded Temporal stores is encrypted, with TEMPORAL_CODEC_KEYS or the
	// dev key under the data directory.
	cfg.DataDir = dataDir
	codec, err := temporalx.LoadCodec(cfg)
	if err != nil {
		return nil, err
	}

	_, portStr, _ := net.SplitHostPort(cfg.Temporal.Address)
	port, _ := strconv.Atoi(portStr)
	// SQLite under the data directory, unless TEMPORAL_DB_URL names a PostgreSQL database.
	persistence := []any{"file", filepath.Join(dataDir, "temporal.db")}
	if cfg.Temporal.DatabaseURL != "" {
		persistence = []any{"database", store.Redact(cfg.Temporal.DatabaseURL)}
	}
	logger.Info("starting embedded Temporal server", append([]any{"address", cfg.Temporal.Address}, persistence...)...)
	s.temporal, err = temporalserver.Start(ctx, temporalserver.Options{
		DatabaseFile:     filepath.Join(dataDir, "temporal.db"),
		PostgresURL:      cfg.Temporal.DatabaseURL,
		Port:             port,
		UIPort:           cfg.Temporal.UIPort,
		UICodec:          UICodec((&platform.Env{Cfg: cfg}).URL(cfg.Server.APIPort)),
		Namespace:        cfg.Temporal.Namespace,
		SearchAttributes: temporalx.SearchAttributes(),
		Logger:           logger.With("component", "temporal"),
		LogLevel:         slog.LevelWarn,
	})
	if err != nil {
		return nil, fmt.Errorf("start embedded Temporal (TEMPORAL_ADDRESS=%s): %w", cfg.Temporal.Address, err)
	}
	cfg.Temporal.Address = s.temporal.Address()
	s.TemporalUI = s.temporal.UIURL()
	cfg.Temporal.UIURL = uiURL(cfg, s.TemporalUI)

	metrics := telemetry.NewMetrics()
	sdkMetrics, err := metrics.TemporalHandler()
	if err != nil {
		return nil, err
	}
	tc, err := temporalx.Dial(ctx, cfg.Temporal.Address, cfg.Temporal.Namespace, codec, logger, 30*time.Second, sdkMetrics)
	if err != nil {
		return nil, err
	}
	signer, trust, err := platform.Keys(cfg)
	if err != nil {
		tc.Close()
		return nil, err
	}
	s.Env = &platform.Env{Cfg: cfg, Logger: logger, Pool: pool, Temporal: tc, Signer: signer, Trust: trust, Codec: codec, EmbeddedUI: s.TemporalUI, Metrics: metrics}
	return s, nil
}

// devGCPercent is the Go garbage collector's target for the dev stack, unless GOGC says
// otherwise: the embedded Temporal server allocates much short-lived memory, and collecting at
// half the default heap growth keeps the one process's footprint smaller for a few percent of
// CPU (measured with `mcp-platform bench`, README "Performance").
const devGCPercent = 50

// tuneGC applies devGCPercent when the environment sets no GOGC.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(devGCPercent)
	}
}

// UICodec is the dev Temporal UI's codec server setting: the gateway at apiURL, with the
// browser's cookies, so that an operator who opened a codec session (POST /codec/session, for
// example from the gateway's /docs) reads decoded payloads, and anyone else reads ciphertext.
func UICodec(apiURL string) temporalserver.CodecServer {
	return temporalserver.CodecServer{
		Endpoint:           strings.TrimRight(apiURL, "/") + codecapi.Prefix,
		IncludeCredentials: true,
		ErrorMessage: "Payloads are encrypted. To read them, sign in as an operator at " + apiURL +
			"/docs and call POST /codec/session, then reload this page.",
	}
}

// uiURL is where turns link to their runs: the URL the user set (TEMPORAL_UI_URL or the
// settings file), for a UI reached through a proxy or from another machine, and otherwise the
// embedded UI's.
func uiURL(cfg config.Config, embedded string) string {
	if cfg.Explicit("temporal.ui_url") && cfg.Temporal.UIURL != "" {
		return cfg.Temporal.UIURL
	}
	return embedded
}

func listen(host string, port int, what, env string) (net.Listener, error) {
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("the %s cannot listen on %s (another process uses the port? stop it or set %s): %w", what, addr, env, err)
	}
	return ln, nil
}

// PrintURLs tells the user where everything is.
func (s *Stack) PrintURLs(out io.Writer) {
	cfg := s.Env.Cfg
	ui := cfg.Temporal.UIURL
	if ui != s.TemporalUI && s.TemporalUI != "" {
		ui += " (served on " + s.TemporalUI + ")"
	}
	fmt.Fprintf(out, `
MCP Platform is running (dev mode, LLM provider: %s)
  Web chat & gateway API : %s   (OpenAPI: %s/openapi.json, docs: %s/docs)
  MCP server             : %s   (MCP endpoint: %s/mcp)
  Temporal UI            : %s   (payloads encrypted; operators decode them: README, "Temporal UI")
  Temporal frontend      : %s (namespace %s)
  PostgreSQL             : %s
Press Ctrl-C to stop.

`, cfg.LLM.Provider,
		s.Env.URL(cfg.Server.APIPort), s.Env.URL(cfg.Server.APIPort), s.Env.URL(cfg.Server.APIPort),
		s.Env.URL(cfg.Server.MCPPort), s.Env.URL(cfg.Server.MCPPort),
		ui, cfg.Temporal.Address, cfg.Temporal.Namespace, cfg.RedactedDatabaseURL())
}

// Serve runs the servers and workers until ctx ends or one of them fails. The servers answer
// /readyz with 200, and Serve prints the URLs to out (unless out is nil), only once the stack is
// ready: its dependencies answer and every enabled builtin domain has a live worker in the
// registry, so that the first /tools lists their tools.
func (s *Stack) Serve(ctx context.Context, out io.Writer) error {
	e := s.Env
	svc, err := platform.NewServices(ctx, e)
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopped while starting
		}
		return err
	}
	svc.Readiness = append(svc.Readiness, platform.DomainsLive(svc.Catalog, builtinDomains(e.Cfg.DomainsDir)))
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		s.announce(gctx, svc, out)
		return nil
	})
	drain := e.Cfg.Server.ShutdownTimeout
	g.Go(func() error {
		svc.Run(gctx)
		return nil
	})
	g.Go(func() error {
		return platform.RunWorkers(gctx, e, platform.WorkerSelection{Orchestrator: true, AllDomains: true}, s.adapters)
	})
	g.Go(func() error { return platform.ServeMetrics(gctx, e) })
	g.Go(func() error {
		return httpapi.ServeListener(gctx, e.Logger, "gateway API", s.apiListener, platform.APIHandler(e, svc), drain)
	})
	g.Go(func() error {
		return httpapi.ServeListener(gctx, e.Logger, "MCP server", s.mcpListener, platform.MCPHandler(e, svc), drain)
	})
	err = g.Wait()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// builtinDomains names the enabled builtin domains of dir, which dev runs and waits for.
// Broken files are RunWorkers' to report.
func builtinDomains(dir string) []string {
	cfgs, _ := domainconfig.LoadDir(dir)
	var names []string
	for _, c := range cfgs {
		if c.IsEnabled() && c.Kind == domains.KindBuiltin {
			names = append(names, c.Name)
		}
	}
	return names
}

// readyPoll is how often the stack checks whether it is ready; notReadyLog how often it says
// what it still waits for.
const (
	readyPoll   = 100 * time.Millisecond
	notReadyLog = 15 * time.Second
)

// announce waits until every health and readiness check passes, refreshing the catalog as
// it goes so that it sees a worker the moment it registers, then prints the URLs to out.
func (s *Stack) announce(ctx context.Context, svc *platform.Services, out io.Writer) {
	checks := append(s.Env.HealthChecks(), svc.Readiness...)
	t := time.NewTicker(readyPoll)
	defer t.Stop()
	began, told := time.Now(), time.Now()
	for {
		if err := svc.Catalog.Refresh(ctx); err == nil {
			failing := notReady(ctx, checks)
			if failing == "" {
				s.Env.Logger.Info("dev stack ready", "took", time.Since(began).Round(time.Millisecond))
				if out != nil {
					s.PrintURLs(out)
				}
				return
			}
			if time.Since(told) >= notReadyLog {
				s.Env.Logger.Warn("dev stack not ready yet", "waiting_for", failing, "for", time.Since(began).Round(time.Second))
				told = time.Now()
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// notReady runs the checks and describes the failing ones ("" when all pass).
func notReady(ctx context.Context, checks []health.Check) string {
	var failing []string
	for _, c := range checks {
		cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		err := c.Run(cctx)
		cancel()
		if err != nil {
			failing = append(failing, c.Name+": "+err.Error())
		}
	}
	return strings.Join(failing, "; ")
}

// Stop shuts down the Temporal client, the embedded Temporal server and the private
// PostgreSQL, in that order. It is safe to call on a partly started stack.
func (s *Stack) Stop() error {
	for _, ln := range []net.Listener{s.apiListener, s.mcpListener} {
		if ln != nil {
			_ = ln.Close()
		}
	}
	if s.Env != nil {
		s.Env.Close()
		s.Env = nil
	}
	if s.temporal != nil {
		s.temporal.Stop()
		s.temporal = nil
	}
	if s.pg != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err := s.pg.Stop(ctx)
		s.pg = nil
		if err != nil {
			return fmt.Errorf("stop private PostgreSQL: %w", err)
		}
	}
	return nil
}
