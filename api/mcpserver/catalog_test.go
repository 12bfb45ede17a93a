package mcpserver_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"mcp-platform/api/mcpserver"
	"mcp-platform/authz"
	"mcp-platform/domains/registry"
	"mcp-platform/domains/registry/synthetic"
	"mcp-platform/internal/audit"
	"mcp-platform/internal/config"
	"mcp-platform/internal/testutil/dbtest"
	"mcp-platform/toolcall"
)

// bigServer serves the MCP server's routes over HTTP with a registered domain of n generated
// tools (role analyst; its worker live), and returns its URL and a token of an analyst. Only
// listing is served: its executor has no Temporal.
func bigServer(tb testing.TB, n int) (url, token string) {
	tb.Helper()
	ctx := context.Background()
	db := dbtest.New(tb)
	reg := registry.New(db.Pool)
	gen, err := synthetic.Domain("gen", n, "analyst")
	require.NoError(tb, err)
	require.NoError(tb, reg.Register(ctx, registry.Registration{Config: gen, Identity: "worker-gen"}))
	enf, err := authz.NewEnforcer()
	require.NoError(tb, err)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	cat := registry.NewCatalog(reg, enf, logger)
	require.NoError(tb, cat.Refresh(ctx))
	jwt := config.JWT{Secret: "catalog-benchmark-secret-of-32-bytes!", Issuer: "mcp-platform", Audience: "mcp-platform", TokenTTL: time.Hour}
	ver, err := authz.NewVerifier(ctx, jwt)
	require.NoError(tb, err)
	iss, err := authz.NewIssuer(jwt, true)
	require.NoError(tb, err)
	token, _, err = iss.Issue(authz.Principal{Subject: "ann", Roles: []string{"analyst"}})
	require.NoError(tb, err)
	planner := &toolcall.Planner{Catalog: cat, Authz: enf, Audit: audit.New(db.Pool), Logger: logger}
	_, handler := mcpserver.New(mcpserver.Deps{Verifier: ver, Catalog: cat, Authz: enf, Tools: planner, Audit: planner.Audit,
		Executor: &mcpserver.Executor{Tools: planner}, Logger: logger, PublicURL: "http://127.0.0.1"})
	srv := httptest.NewServer(handler)
	tb.Cleanup(srv.Close)
	return srv.URL, token
}

func session(tb testing.TB, url, token string) *mcp.ClientSession {
	tb.Helper()
	client := mcp.NewClient(&mcp.Implementation{Name: "bench-client", Version: "1.0"}, nil)
	cs, err := client.Connect(context.Background(), &mcp.StreamableClientTransport{
		Endpoint: url + "/mcp", HTTPClient: &http.Client{Transport: bearerTransport(token)},
	}, nil)
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = cs.Close() })
	return cs
}

type bearerTransport string

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+string(b))
	return http.DefaultTransport.RoundTrip(r)
}

// listAll reads every page of tools/list and returns the tool names and the number of pages.
func listAll(tb testing.TB, cs *mcp.ClientSession) ([]string, int) {
	tb.Helper()
	var names []string
	pages := 0
	params := &mcp.ListToolsParams{}
	for {
		res, err := cs.ListTools(context.Background(), params)
		require.NoError(tb, err)
		pages++
		for _, t := range res.Tools {
			names = append(names, t.Name)
		}
		if res.NextCursor == "" {
			return names, pages
		}
		params = &mcp.ListToolsParams{Cursor: res.NextCursor}
	}
}

func TestBigCatalog(t *testing.T) {
	url, token := bigServer(t, 1000)

	t.Run("OK tools/list is complete and paginated", func(t *testing.T) {
		names, pages := listAll(t, session(t, url, token))
		require.Len(t, names, 1000)
		require.Equal(t, 20, pages) // 50 per page
		require.True(t, sort.StringsAreSorted(names))
		require.Len(t, slices.Compact(slices.Clone(names)), 1000)
		require.Equal(t, "gen__archive_asset_0024", names[0])
	})

	t.Run("OK GET /tools lists them all", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodGet, url+"/tools", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		var body struct{ Tools []struct{ Name string } }
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
		require.Len(t, body.Tools, 1000)
	})
}

// BenchmarkToolsList1000 measures MCP tools/list over HTTP (the go-sdk client and server) with
// 1,000 tools the caller may use: one page (50 tools) per request, and every page in turn.
// It reports p50 and p99 of each in milliseconds.
func BenchmarkToolsList1000(b *testing.B) {
	url, token := bigServer(b, 1000)
	cs := session(b, url, token)
	b.Run("page", func(b *testing.B) {
		var d []time.Duration
		cpu0 := cpuTime()
		for b.Loop() {
			start := time.Now()
			res, err := cs.ListTools(context.Background(), &mcp.ListToolsParams{})
			d = append(d, time.Since(start))
			if err != nil || len(res.Tools) != 50 {
				b.Fatalf("list: %v (%d tools)", err, len(res.Tools))
			}
		}
		reportPercentiles(b, d, cpu0)
	})
	b.Run("page-raw", func(b *testing.B) {
		// The same request as plain JSON-RPC over HTTP: the server's latency without the SDK
		// client's own decoding and schema checks of every tool.
		var d []time.Duration
		cpu0 := cpuTime()
		body := `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}`
		for b.Loop() {
			start := time.Now()
			req, _ := http.NewRequest(http.MethodPost, url+"/mcp", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			var out struct {
				Result struct{ Tools []json.RawMessage } `json:"result"`
			}
			err = json.NewDecoder(resp.Body).Decode(&out)
			resp.Body.Close()
			d = append(d, time.Since(start))
			if err != nil || len(out.Result.Tools) != 50 {
				b.Fatalf("tools/list: %v, %d tools (status %d)", err, len(out.Result.Tools), resp.StatusCode)
			}
		}
		reportPercentiles(b, d, cpu0)
	})
	b.Run("all-pages", func(b *testing.B) {
		var d []time.Duration
		cpu0 := cpuTime()
		for b.Loop() {
			start := time.Now()
			names, _ := listAll(b, cs)
			d = append(d, time.Since(start))
			if len(names) != 1000 {
				b.Fatalf("listed %d tools", len(names))
			}
		}
		reportPercentiles(b, d, cpu0)
	})
	b.Run("rest", func(b *testing.B) {
		var d []time.Duration
		cpu0 := cpuTime()
		for b.Loop() {
			start := time.Now()
			req, _ := http.NewRequest(http.MethodGet, url+"/tools", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			d = append(d, time.Since(start))
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("GET /tools: %d", resp.StatusCode)
			}
		}
		reportPercentiles(b, d, cpu0)
	})
}

// reportPercentiles adds p50 and p99 of the measured durations (ms) to the benchmark's output,
// and the process's CPU time per operation (client and server together), which does not grow
// with the machine's load as wall-clock latency does.
func reportPercentiles(b *testing.B, d []time.Duration, cpu0 time.Duration) {
	b.Helper()
	if len(d) == 0 {
		return
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(len(d))/1e6, "cpu-ms/op")
	slices.Sort(d)
	at := func(q float64) float64 {
		return float64(d[min(len(d)-1, int(q*float64(len(d))))].Microseconds()) / 1000
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}

// cpuTime is the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
