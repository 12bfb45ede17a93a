package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"

	"mcp-platform/internal/config"
	"mcp-platform/internal/store"
	"mcp-platform/internal/temporalx"
	"mcp-platform/platform/devstack"
)

// target is the platform under test: its URLs, the Temporal client the floor shares the
// server through, the database the event stream reads, and its processes.
type target struct {
	api, mcp string
	temporal client.Client
	pool     *pgxpool.Pool
	pids     []int
	describe string
	stop     func()
}

// stackReadyTimeout bounds how long an in-process stack may take to be ready (a cold build
// cache and a fresh initdb on a busy machine are slow).
const stackReadyTimeout = 5 * time.Minute

// startStack starts a dev stack in this process, as `mcp-platform dev` runs it, on free ports
// and a fresh data directory (a private PostgreSQL cluster, the embedded Temporal server and
// its UI, the mock LLM), and waits until both servers are ready.
func startStack(ctx context.Context, o Options) (_ *target, err error) {
	dir := o.DataDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "mcp-bench-"); err != nil {
			return nil, fmt.Errorf("create the stack's data directory: %w", err)
		}
		// PostgreSQL runs as user postgres when the bench runs as root: it must reach the dir.
		if err := os.Chmod(dir, 0o755); err != nil {
			return nil, err
		}
		defer func() {
			if err != nil {
				_ = os.RemoveAll(dir)
			}
		}()
	}
	cfg := o.Config
	cfg.DataDir, cfg.Database.URL, cfg.LLM = dir, "", config.LLM{Provider: "mock"}
	cfg.Server.Host = "127.0.0.1"
	// The benchmark drives one user far past the per-user request and token quotas of a real
	// stack; it measures the platform, not its limits.
	cfg.Quota.APIRequestsPerMinute, cfg.Quota.MCPRequestsPerMinute, cfg.Quota.TokensPerDay = 0, 0, 0
	ports := make([]int, 4)
	for i := range ports {
		if ports[i], err = freePort(); err != nil {
			return nil, err
		}
	}
	cfg.Server.APIPort, cfg.Server.MCPPort, cfg.Temporal.UIPort = ports[0], ports[1], ports[2]
	cfg.Temporal.Address = fmt.Sprintf("127.0.0.1:%d", ports[3])

	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s, err := devstack.Start(sctx, cfg, o.Logger, o.Adapters)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("start the dev stack: %w", err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(sctx, nil) }()
	t := &target{
		api: s.Env.URL(cfg.Server.APIPort), mcp: s.Env.URL(cfg.Server.MCPPort),
		temporal: s.Env.Temporal, pool: s.Env.Pool, pids: []int{os.Getpid()},
		describe: "in-process dev stack (private PostgreSQL, embedded Temporal on SQLite " + dir + ", mock LLM)",
	}
	t.stop = func() {
		cancel()
		if err := <-served; err != nil {
			o.Logger.Warn("dev stack stopped with an error", "error", err)
		}
		if err := s.Stop(); err != nil {
			o.Logger.Warn("stopping the dev stack", "error", err)
		}
		if o.DataDir == "" {
			_ = os.RemoveAll(dir)
		}
	}
	rctx, rcancel := context.WithTimeout(ctx, stackReadyTimeout)
	defer rcancel()
	for _, url := range []string{t.api, t.mcp} {
		if err := waitReady(rctx, url, served); err != nil {
			t.stop()
			return nil, err
		}
	}
	return t, nil
}

// connect targets a stack that runs elsewhere: its URLs from the options, Temporal and the
// database from the settings (TEMPORAL_ADDRESS, TEMPORAL_CODEC_KEYS or the dev key in
// MCP_DATA_DIR, DATABASE_URL).
func connect(ctx context.Context, o Options) (*target, error) {
	cfg := o.Config
	codec, err := temporalx.LoadCodec(cfg)
	if err != nil {
		return nil, err
	}
	tc, err := temporalx.Dial(ctx, cfg.Temporal.Address, cfg.Temporal.Namespace, codec, o.Logger, 30*time.Second, nil)
	if err != nil {
		return nil, err
	}
	t := &target{api: o.APIURL, mcp: o.MCPURL, temporal: tc, pids: o.PIDs,
		describe: "running stack at " + o.APIURL + " and " + o.MCPURL + ", Temporal " + cfg.Temporal.Address}
	if cfg.Database.URL != "" {
		if t.pool, err = store.Open(ctx, cfg.Database.URL); err != nil {
			tc.Close()
			return nil, err
		}
	}
	t.stop = func() {
		if t.pool != nil {
			t.pool.Close()
		}
		tc.Close()
	}
	for _, url := range []string{t.api, t.mcp} {
		if err := waitReady(ctx, url, nil); err != nil {
			t.stop()
			return nil, err
		}
	}
	return t, nil
}

// waitReady polls base's /readyz until it answers 200, ctx ends or the stack stops.
func waitReady(ctx context.Context, base string, stopped <-chan error) error {
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/readyz", nil)
		if err != nil {
			return err
		}
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s never became ready: %w", base, ctx.Err())
		case err := <-stopped:
			return fmt.Errorf("the dev stack stopped before it was ready: %w", errors.Join(err, errors.New("see its log above")))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
