// Package temporalserver runs a Temporal server with SQLite or PostgreSQL persistence, and
// optionally the Temporal Web UI, inside the current process. It backs the
// `mcp-platform dev` command and integration tests.
package temporalserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/membership/static"
	"go.temporal.io/server/common/primitives"
	"go.temporal.io/server/temporal"

	"mcp-platform/internal/logging"
	"mcp-platform/internal/temporalx"
)

// startTimeout bounds how long Start waits for the server to become usable
// when the caller's context has no earlier deadline.
const startTimeout = 2 * time.Minute

// Options configures an embedded Temporal server. The zero value is usable: an
// in-memory server on a free port of 127.0.0.1 with namespace "default" and no UI.
type Options struct {
	// PostgresURL, when set, makes the server persist to PostgreSQL instead of SQLite, e.g.
	// postgres://temporal:secret@db:5432/temporal?sslmode=disable: the named database holds
	// Temporal's data and the database of the same name with the suffix _visibility its
	// visibility records. Both are created when missing (which needs CREATEDB) and their schemas
	// set up or upgraded to this server's version on every start. DatabaseFile is then unused.
	PostgresURL string
	// DatabaseFile is the SQLite database file, e.g. ".data/temporal.db". Its
	// directory and schema are created when the file does not exist yet, so
	// data survives restarts. The empty string selects an in-memory database,
	// which is meant for tests.
	DatabaseFile string
	// IP is the address the frontend and the UI bind to. It defaults to
	// "127.0.0.1". The internal services always bind to 127.0.0.1.
	IP string
	// Port is the frontend gRPC port. Zero picks a free port; the dev command
	// uses 7233.
	Port int
	// UIPort is the port of the Temporal Web UI. Zero disables the UI; the dev
	// command uses 8233.
	UIPort int
	// Namespace is created if missing and is the UI's default namespace. It
	// defaults to "default".
	Namespace string
	// UICodec tells the Web UI where to decode the payloads it shows; the zero value shows them
	// as stored.
	UICodec CodecServer
	// SearchAttributes are custom search attributes registered on Namespace
	// (added when missing, also on an existing namespace) before Start returns.
	SearchAttributes map[string]enumspb.IndexedValueType
	// Logger receives the server's logs. It defaults to slog.Default().
	Logger *slog.Logger
	// LogLevel is the minimum level of server logs passed to Logger. The zero
	// value (slog.LevelInfo) is treated as unset and means slog.LevelWarn,
	// because the server logs a lot at Info; use slog.LevelInfo-1 to see Info
	// messages and slog.LevelDebug for everything.
	LogLevel slog.Level
}

// Server is a running embedded Temporal server. Create it with Start and
// release it with Stop.
type Server struct {
	temporal  temporal.Server
	ui        *uiServer
	logger    *slog.Logger
	logLevel  *slog.LevelVar
	address   string
	namespace string

	stopOnce sync.Once
}

// Start starts a Temporal server and, if opts.UIPort is set, the Web UI. It
// returns once the frontend accepts connections, the namespace exists and the
// search attributes are registered and usable. When ctx ends first, Start
// stops what it started and returns an error.
func Start(ctx context.Context, opts Options) (*Server, error) {
	began := time.Now()
	opts = opts.withDefaults()
	if net.ParseIP(opts.IP) == nil {
		return nil, fmt.Errorf("temporalserver: IP %q is not an IP address", opts.IP)
	}
	logLevel := new(slog.LevelVar)
	logLevel.Set(opts.LogLevel)
	if opts.LogLevel == slog.LevelInfo {
		logLevel.Set(slog.LevelWarn)
	}
	logger := slog.New(logging.AtLeast(opts.Logger.Handler(), logLevel))
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()

	p, err := choosePorts(opts)
	if err != nil {
		return nil, err
	}
	st, err := openStore(ctx, opts, serverLogger{l: logger})
	if err != nil {
		return nil, err
	}

	cfg := serverConfig(opts.IP, p, st.sql)
	st.configure(&cfg.Persistence)
	ts, err := newTemporalServer(cfg, serverLogger{l: logger})
	if err != nil {
		return nil, err
	}
	if err := recoverFatal(ts.Start); err != nil {
		_ = recoverFatal(ts.Stop)
		return nil, fmt.Errorf("temporalserver: starting server: %w", err)
	}

	s := &Server{
		temporal:  ts,
		logger:    logger,
		logLevel:  logLevel,
		address:   cfg.PublicClient.HostPort,
		namespace: opts.Namespace,
	}
	if opts.UIPort != 0 {
		s.ui, err = startUI(ctx, opts, s.address)
		if err != nil {
			s.Stop()
			return nil, err
		}
	}
	if err := s.waitUsable(ctx, opts.SearchAttributes); err != nil {
		s.Stop()
		return nil, err
	}
	logger.Info("temporal server started", "address", s.address, "namespace", s.namespace,
		"ui", s.UIURL(), "took", time.Since(began))
	return s, nil
}

// Address returns the host:port of the frontend gRPC service, suitable for
// client.Options.HostPort.
func (s *Server) Address() string { return s.address }

// Namespace returns the namespace that Start created or found.
func (s *Server) Namespace() string { return s.namespace }

// UIURL returns the base URL of the Temporal Web UI, or "" when the UI is
// disabled.
func (s *Server) UIURL() string {
	if s.ui == nil {
		return ""
	}
	return s.ui.url
}

// Stop stops the UI and the server. It is safe to call more than once and
// from several goroutines; later calls return immediately.
//
// While stopping, only errors are logged, and nothing afterwards: the server
// does not stop some of its internal SDK workers and gRPC connections, which
// keep retrying against the stopped services until the process exits.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		if s.logLevel.Level() < slog.LevelError {
			s.logLevel.Set(slog.LevelError)
		}
		if s.ui != nil {
			s.ui.stop()
		}
		if err := recoverFatal(s.temporal.Stop); err != nil {
			s.logger.Error("stopping temporal server", "error", err)
		}
		s.logLevel.Set(levelSilent)
	})
}

func (o Options) withDefaults() Options {
	if o.IP == "" {
		o.IP = loopback
	}
	if o.Namespace == "" {
		o.Namespace = "default"
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// choosePorts picks free ports where none are given and checks that the
// given ones are free: the server would otherwise end the process (it treats
// a failed listen as fatal).
func choosePorts(opts Options) (ports, error) {
	var p ports
	var err error
	if opts.Port == 0 {
		p.frontend, err = freePort(opts.IP)
	} else {
		p.frontend, err = opts.Port, checkPortFree(opts.IP, opts.Port)
	}
	if err != nil {
		return p, fmt.Errorf("temporalserver: frontend port: %w", err)
	}
	for _, port := range []*int{&p.history, &p.matching, &p.worker} {
		if *port, err = freePort(loopback); err != nil {
			return p, fmt.Errorf("temporalserver: internal port: %w", err)
		}
	}
	if opts.UIPort != 0 {
		if err := checkPortFree(opts.IP, opts.UIPort); err != nil {
			return p, fmt.Errorf("temporalserver: UI port: %w", err)
		}
	}
	return p, nil
}

func newTemporalServer(cfg *config.Config, logger serverLogger) (temporal.Server, error) {
	authorizer, err := authorization.GetAuthorizerFromConfig(&cfg.Global.Authorization)
	if err != nil {
		return nil, fmt.Errorf("temporalserver: authorizer: %w", err)
	}
	claimMapper, err := authorization.GetClaimMapperFromConfig(&cfg.Global.Authorization, logger)
	if err != nil {
		return nil, fmt.Errorf("temporalserver: claim mapper: %w", err)
	}
	host := func(svc string) static.Hosts {
		return static.SingleLocalHost(net.JoinHostPort(loopback, strconv.Itoa(cfg.Services[svc].RPC.GRPCPort)))
	}
	frontendHost := static.SingleLocalHost(cfg.PublicClient.HostPort)
	var ts temporal.Server
	err = recoverFatal(func() error {
		var err error
		ts, err = temporal.NewServer(
			temporal.WithConfig(cfg),
			temporal.ForServices(temporal.DefaultServices),
			// Static membership: no ringpop gossip, so startup does not wait
			// for a ring to form.
			temporal.WithStaticHosts(map[primitives.ServiceName]static.Hosts{
				primitives.FrontendService: frontendHost,
				primitives.HistoryService:  host("history"),
				primitives.MatchingService: host("matching"),
				primitives.WorkerService:   host("worker"),
			}),
			temporal.WithLogger(logger),
			temporal.WithAuthorizer(authorizer),
			temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return claimMapper }),
			temporal.WithDynamicConfigClient(dynamicConfig()),
		)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("temporalserver: creating server: %w", err)
	}
	return ts, nil
}

// recoverFatal calls f and turns a panic raised by serverLogger.Fatal (or any
// other panic) into an error.
func recoverFatal(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return f()
}

// waitUsable waits until the frontend answers, the namespace can be described
// and all search attributes are registered on it.
func (s *Server) waitUsable(ctx context.Context, searchAttributes map[string]enumspb.IndexedValueType) error {
	var c client.Client
	err := retry(ctx, "frontend", func(ctx context.Context) error {
		var err error
		c, err = client.DialContext(ctx, client.Options{
			HostPort:  s.address,
			Namespace: s.namespace,
			Logger:    sdklog.NewStructuredLogger(s.logger),
		})
		return err
	})
	if err != nil {
		return err
	}
	defer c.Close()

	err = retry(ctx, "namespace "+s.namespace, func(ctx context.Context) error {
		_, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: s.namespace})
		return err
	})
	if err != nil {
		return err
	}
	return s.ensureSearchAttributes(ctx, c, searchAttributes)
}

// ensureSearchAttributes adds the search attributes missing from the
// namespace and waits until they are listed and every service has reloaded
// the namespace.
func (s *Server) ensureSearchAttributes(ctx context.Context, c client.Client, want map[string]enumspb.IndexedValueType) error {
	if len(want) == 0 {
		return nil
	}
	missing := func(ctx context.Context) (map[string]enumspb.IndexedValueType, error) {
		m, err := temporalx.MissingSearchAttributes(ctx, c, s.namespace, want)
		if errors.Is(err, temporalx.ErrSearchAttributeType) {
			return nil, permanent(err)
		}
		return m, err
	}

	var toAdd map[string]enumspb.IndexedValueType
	err := retry(ctx, "search attributes", func(ctx context.Context) error {
		var err error
		toAdd, err = missing(ctx)
		return err
	})
	if err != nil || len(toAdd) == 0 {
		return err
	}

	s.logger.Info("registering search attributes", "namespace", s.namespace, "names", slices.Sorted(maps.Keys(toAdd)))
	err = retry(ctx, "adding search attributes", func(ctx context.Context) error {
		_, err := c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
			Namespace:        s.namespace,
			SearchAttributes: toAdd,
		})
		if _, ok := errors.AsType[*serviceerror.InvalidArgument](err); ok {
			return permanent(err)
		}
		return err
	})
	if err != nil {
		return err
	}
	err = retry(ctx, "search attributes to be visible", func(ctx context.Context) error {
		left, err := missing(ctx)
		if err == nil && len(left) > 0 {
			err = fmt.Errorf("not yet visible: %v", slices.Sorted(maps.Keys(left)))
		}
		return err
	})
	if err != nil {
		return err
	}
	// History and matching validate search attributes against their cached
	// copy of the namespace, which refreshes every namespaceRefreshInterval.
	return sleep(ctx, 2*namespaceRefreshInterval)
}

// permanentError marks an error that retry must not retry.
type permanentError struct{ error }

func (e permanentError) Unwrap() error { return e.error }

func permanent(err error) error { return permanentError{err} }

// retry calls f until it succeeds, returns a permanent error, or ctx ends.
// Each call gets at most 10 seconds.
func retry(ctx context.Context, what string, f func(ctx context.Context) error) error {
	for {
		callCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := f(callCtx)
		cancel()
		if err == nil {
			return nil
		}
		if pe, ok := errors.AsType[permanentError](err); ok {
			return fmt.Errorf("temporalserver: %s: %w", what, pe.error)
		}
		if sleep(ctx, 50*time.Millisecond) != nil {
			return fmt.Errorf("temporalserver: waiting for %s: %w (last error: %v)", what, ctx.Err(), err)
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
