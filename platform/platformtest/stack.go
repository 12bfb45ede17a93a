// Package platformtest starts the platform's roles in one test process on real dependencies: a fresh
// Postgres database, the shared embedded Temporal server, the gateway API and the MCP server
// on httptest servers, domain workers and the orchestrator worker.
package platformtest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"mcp-platform/authz"
	"mcp-platform/domains"
	"mcp-platform/domains/domainconfig"
	"mcp-platform/domains/kit"
	"mcp-platform/internal/config"
	"mcp-platform/internal/llm"
	"mcp-platform/internal/redact"
	"mcp-platform/internal/temporalx"
	"mcp-platform/internal/testutil/dbtest"
	"mcp-platform/internal/testutil/temporaltest"
	"mcp-platform/platform"
)

// Stack is a running platform for one test.
type Stack struct {
	Env      *platform.Env
	Services *platform.Services
	API      *httptest.Server
	MCP      *httptest.Server
	DB       *dbtest.Database
	Logs     *Buffer
}

// Options configure Start.
type Options struct {
	// LLM is the orchestrator's provider; nil means no orchestrator worker.
	LLM llm.Provider
	// Domains are builtin domains to run, by name, with their configuration from
	// config/domains of the repository.
	Domains map[string]kit.Factory
	// Extra are further domains with their own configuration (test backends).
	Extra []Domain
}

// Domain is a domain configuration with its adapter.
type Domain struct {
	Config  *domains.Config
	Factory kit.Factory
}

// testKeys is one key pair for the whole test process: workflows verify decisions with one
// process-wide keyring (workflows.Trust), as a real worker process does.
var testKeys = sync.OnceValues(func() (*authz.Signer, *authz.Keyring) {
	signer, trust, err := authz.NewKeyPair("test")
	if err != nil {
		panic(err)
	}
	return signer, trust
})

// Keys are the assertion keys of every stack of this test process, for tests that sign (or
// forge) what a front end would.
func Keys() (*authz.Signer, *authz.Keyring) { return testKeys() }

// RepoRoot is the repository's root directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Start runs the platform until the test ends.
func Start(t *testing.T, opts Options) *Stack {
	t.Helper()
	db := dbtest.New(t)
	cfg := config.Default()
	cfg.DomainsDir = filepath.Join(RepoRoot(), "config", "domains")
	cfg.Database.URL = db.URL
	cfg.Server.ShutdownTimeout = 5 * time.Second
	cfg.Temporal.CodecKeys = temporaltest.CodecKeys
	require.NoError(t, cfg.Validate())
	logs := &Buffer{}
	var w io.Writer = logs
	if os.Getenv("TEST_LOGS") != "" {
		w = io.MultiWriter(logs, os.Stderr)
	}
	logger := slog.New(redact.Handler(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo})))
	signer, trust := testKeys()
	// The SDK logs to the stack's logger, as it does in every role (temporalx.Dial), and the
	// client encrypts payloads as every role's does.
	codec := temporaltest.Codec(t)
	tc, err := client.NewClientFromExisting(temporaltest.Client(t), client.Options{
		Namespace: temporaltest.Server(t).Namespace(), Logger: temporalx.SDKLogger(logger),
		DataConverter: codec.DataConverter(), FailureConverter: codec.FailureConverter()})
	require.NoError(t, err)
	t.Cleanup(tc.Close)
	env := &platform.Env{Cfg: cfg, Logger: logger, Pool: db.Pool, Temporal: tc, Codec: codec, Getenv: func(string) string { return "" },
		Signer: signer, Trust: trust}
	ctx, cancel := context.WithCancel(context.Background())
	svc, err := platform.NewServices(ctx, env)
	require.NoError(t, err)
	go svc.Run(ctx)
	s := &Stack{Env: env, Services: svc, DB: db, Logs: logs}
	s.API = httptest.NewServer(platform.APIHandler(env, svc))
	// The MCP server's public URL is in its OAuth metadata, so it must be the test server's.
	s.MCP = httptest.NewUnstartedServer(nil)
	env.Cfg.Server.MCPPort = s.MCP.Listener.Addr().(*net.TCPAddr).Port
	s.MCP.Config.Handler = platform.MCPHandler(env, svc)
	s.MCP.Start()

	var running []chan error
	if opts.LLM != nil {
		done := make(chan error, 1)
		running = append(running, done)
		go func() { done <- platform.RunOrchestrator(ctx, env, opts.LLM) }()
	}
	for name, f := range opts.Domains {
		dc, err := domainconfig.Load(cfg.DomainsDir, name)
		require.NoError(t, err)
		opts.Extra = append(opts.Extra, Domain{Config: dc, Factory: f})
	}
	for _, d := range opts.Extra {
		done := make(chan error, 1)
		running = append(running, done)
		go func() { done <- platform.RunDomainWorker(ctx, env, d.Config, d.Factory) }()
	}
	t.Cleanup(func() {
		s.API.Close()
		s.MCP.Close()
		cancel()
		for _, done := range running {
			require.NoError(t, <-done)
		}
	})
	for _, d := range opts.Extra {
		s.WaitDomain(t, d.Config.Name)
	}
	return s
}

// WaitDomain waits until the domain is registered with a live worker.
func (s *Stack) WaitDomain(t *testing.T, name string) {
	t.Helper()
	require.Eventually(t, func() bool {
		require.NoError(t, s.Services.Catalog.Refresh(context.Background()))
		return s.Services.Catalog.Live(name)
	}, 30*time.Second, 100*time.Millisecond, "domain %s never came up", name)
}

// Token signs a token for a subject with roles.
func (s *Stack) Token(t *testing.T, sub string, roles ...string) string {
	t.Helper()
	tok, _, err := s.Services.Issuer.Issue(authz.Principal{Subject: sub, Roles: roles})
	require.NoError(t, err)
	return tok
}

// DemoToken signs a token for a demo user (alice, bob, carol, dan, fiona, audrey, oscar, admin).
func (s *Stack) DemoToken(t *testing.T, user string) string {
	t.Helper()
	tok, _, _, err := s.Services.Issuer.IssueDemo(user, nil)
	require.NoError(t, err)
	return tok
}
