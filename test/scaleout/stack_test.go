package scaleout

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"mcp-platform/authz"
	"mcp-platform/internal/config"
	"mcp-platform/internal/devserver/pgcluster"
	"mcp-platform/internal/store"
	"mcp-platform/internal/temporalx"
	"mcp-platform/internal/testutil/fakeopenai"
	"mcp-platform/platform/platformtest"
)

// binDir holds the binary that every test of the package runs; TestMain removes it.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "scaleout-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// binary builds cmd/mcp-platform once for all tests of the package.
var binary = sync.OnceValues(func() (string, error) {
	bin := filepath.Join(binDir, "mcp-platform")
	build := exec.Command("go", "build", "-o", bin, "./cmd/mcp-platform")
	build.Dir = platformtest.RepoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// topology says how many processes of each role a test runs.
type topology struct {
	apis, mcps, orchestrators, erpWorkers int
	// model answers the orchestrators' LLM requests.
	model func(request map[string]any) fakeopenai.Reply
	// domains are domain files (file name → YAML) every process reads beside those of
	// config/domains, as an operator onboards a domain; the test starts their workers.
	domains map[string]string
}

// stack is the production topology as separate processes on one machine: a private PostgreSQL
// cluster holding the platform's database and Temporal's two, the `temporal` role persisting
// there, and the roles of a topology.
type stack struct {
	bin      string
	pgDir    string
	pg       *pgcluster.Cluster
	pool     *pgxpool.Pool
	temporal client.Client
	apis     []string
	// mcps are the MCP server processes' URLs (REST /execute and /mcp).
	mcps          []string
	orchestrators []*proc
	erpWorkers    []*proc
	// env is what every process of the stack is started with.
	env    []string
	issuer *authz.Issuer
	token  string
}

// launch starts everything of topo and waits until the API and MCP server processes are ready
// and the ERP workers' tools (when it runs any) are available. All of it stops when the test
// ends.
func launch(t *testing.T, topo topology) *stack {
	t.Helper()
	bin, err := binary()
	require.NoError(t, err)
	s := &stack{bin: bin}
	s.startPostgres(t)

	fake := fakeopenai.NewResponder(t, topo.model)
	temporalPort := freePort(t)
	// The front ends sign with the private key; the workers only verify with the public one.
	signer, _, err := authz.NewKeyPair("scaleout")
	require.NoError(t, err)
	env := []string{
		"MCP_ASSERTION_PUBLIC_KEYS=" + signer.Public().Format(),
		"MCP_ENVIRONMENT=production", "JWT_SECRET=" + jwtSecret, "TEMPORAL_CODEC_KEYS=" + codecKeys, "MCP_LOG_FORMAT=text",
		"DATABASE_URL=" + s.pg.URL(), "TEMPORAL_ADDRESS=127.0.0.1:" + strconv.Itoa(temporalPort),
		"TEMPORAL_DB_URL=" + s.pg.DatabaseURL("temporal"),
		"LLM_PROVIDER=openai_compatible", "LLM_API_BASE=" + fake.BaseURL(), "LLM_MODEL=fake-model",
		"MCP_DOMAINS_DIR=" + domainsDir(t, topo.domains), "MCP_SHUTDOWN_TIMEOUT=3s",
	}
	s.env = env
	migrate := exec.Command(bin, "migrate", "up")
	migrate.Env = append(os.Environ(), env...)
	out, err := migrate.CombinedOutput()
	require.NoError(t, err, string(out))

	// The Temporal server persists to PostgreSQL (TEMPORAL_DB_URL), as in production.
	start(t, bin, "temporal", env, "temporal", "-port", strconv.Itoa(temporalPort), "-ui-port", "0")
	for i := range topo.apis {
		port := freePort(t)
		start(t, bin, fmt.Sprintf("api-%d", i+1), append(env, "ORCHESTRATOR_PORT="+strconv.Itoa(port),
			"MCP_SERVER_PORT="+strconv.Itoa(freePort(t)), "MCP_ASSERTION_KEY="+signer.Format()), "api")
		s.apis = append(s.apis, fmt.Sprintf("http://127.0.0.1:%d", port))
	}
	for i := range topo.mcps {
		port := freePort(t)
		start(t, bin, fmt.Sprintf("mcp-%d", i+1), append(env, "MCP_SERVER_PORT="+strconv.Itoa(port),
			"MCP_ASSERTION_KEY="+signer.Format()), "mcp")
		s.mcps = append(s.mcps, fmt.Sprintf("http://127.0.0.1:%d", port))
	}
	for i := range topo.orchestrators {
		s.orchestrators = append(s.orchestrators, start(t, bin, fmt.Sprintf("orchestrator-%d", i+1), env, "worker", "-orchestrator"))
	}
	for i := range topo.erpWorkers {
		s.erpWorkers = append(s.erpWorkers, s.worker(t, fmt.Sprintf("erp-%d", i+1), "erp"))
	}
	for _, a := range append(slices.Clone(s.apis), s.mcps...) {
		waitReady(t, a+"/readyz")
	}

	s.issuer, err = authz.NewIssuer(config.JWT{Secret: jwtSecret, Issuer: "mcp-platform", Audience: "mcp-platform", TokenTTL: time.Hour}, true)
	require.NoError(t, err)
	s.token = s.issue(t, "fiona", "finance_clerk")
	if topo.erpWorkers > 0 {
		s.waitAvailable(t, s.token, "erp.create_invoice")
	}

	keys, err := config.ParseCodecKeys(codecKeys, "codecKeys")
	require.NoError(t, err)
	codec, err := temporalx.NewCodec(keys)
	require.NoError(t, err)
	s.temporal, err = client.Dial(temporalx.ClientOptions("127.0.0.1:"+strconv.Itoa(temporalPort), "default", codec,
		slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	require.NoError(t, err)
	t.Cleanup(s.temporal.Close)
	return s
}

// domainsDir returns the domains folder of the stack's processes: config/domains itself, or a
// copy of it with extra's files added.
func domainsDir(t *testing.T, extra map[string]string) string {
	t.Helper()
	repo := filepath.Join(platformtest.RepoRoot(), "config", "domains")
	if len(extra) == 0 {
		return repo
	}
	dir := t.TempDir()
	files, err := filepath.Glob(filepath.Join(repo, "*.yaml"))
	require.NoError(t, err)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644))
	}
	for name, yaml := range extra {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(yaml), 0o644))
	}
	return dir
}

// issue returns a bearer token of the stack's issuer for subject with roles.
func (s *stack) issue(t *testing.T, subject string, roles ...string) string {
	t.Helper()
	token, _, err := s.issuer.Issue(authz.Principal{Subject: subject, Roles: roles})
	require.NoError(t, err)
	return token
}

// waitAvailable waits until the caller of token sees tool as available: a worker of its domain
// has registered it.
func (s *stack) waitAvailable(t *testing.T, token, tool string) {
	t.Helper()
	require.Eventually(t, func() bool {
		_, _, body := platformtest.Do(t, s.apis[0], http.MethodGet, "/tools", token, nil)
		tools, _ := body["tools"].([]any)
		for _, tl := range tools {
			if tl.(map[string]any)["name"] == tool && tl.(map[string]any)["available"] == true {
				return true
			}
		}
		return false
	}, 60*time.Second, 250*time.Millisecond, "no worker registered %s", tool)
}

// worker starts a domain worker process named name for domain.
func (s *stack) worker(t *testing.T, name, domain string) *proc {
	t.Helper()
	return start(t, s.bin, name, s.env, "worker", "-domains", domain)
}

// startPostgres starts the private cluster, stopped after everything else when the test ends.
func (s *stack) startPostgres(t *testing.T) {
	t.Helper()
	base := t.TempDir()
	if os.Geteuid() == 0 {
		// PostgreSQL runs as the postgres user, which cannot enter t.TempDir's 0700 directories.
		require.NoError(t, os.Chmod(filepath.Dir(base), 0o755))
		require.NoError(t, os.Chmod(base, 0o755))
	}
	s.pgDir = filepath.Join(base, "postgres")
	s.pg = s.postgres(t, 0)
	t.Cleanup(func() { _ = s.pg.Stop(context.Background()) })
	var err error
	s.pool, err = store.Open(context.Background(), s.pg.URL())
	require.NoError(t, err)
	t.Cleanup(s.pool.Close)
}

// postgres starts the cluster in s.pgDir on port (0: a free one).
func (s *stack) postgres(t *testing.T, port int) *pgcluster.Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pg, err := pgcluster.Start(ctx, pgcluster.Options{DataDir: s.pgDir, Port: port,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	require.NoError(t, err)
	return pg
}

// restartPostgres stops the cluster (a fast shutdown: every session is cut), leaves it down for
// downtime and starts it again on the same port and data.
func (s *stack) restartPostgres(t *testing.T, downtime time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	port := s.pg.Port()
	require.NoError(t, s.pg.Stop(ctx))
	time.Sleep(downtime)
	s.pg = s.postgres(t, port)
}
