package mcpkind_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"mcp-platform/domains"
	"mcp-platform/domains/domainconfig"
	"mcp-platform/domains/kit"
	"mcp-platform/domains/mcpkind"
)

const (
	testToken = "s3cret-token"
	// stdioServerEnv makes the test binary serve the upstream over stdio instead of testing
	// (see TestMain); the adapter passes it through because the domain lists it in mcp.env.
	stdioServerEnv = "MCPKIND_TEST_STDIO_SERVER"
)

// TestMain lets the test binary double as a stdio MCP server, which is faster than building a
// separate program.
func TestMain(m *testing.M) {
	if os.Getenv(stdioServerEnv) == "1" {
		u := newUpstream()
		if err := u.server.Run(context.Background(), &mcp.StdioTransport{}); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// upstream is the MCP server the tests import: it records the _meta of the calls it gets.
type upstream struct {
	server *mcp.Server
	// deny makes the HTTP handler answer 403, as a server that stopped accepting our token.
	deny  atomic.Bool
	mu    sync.Mutex
	metas []map[string]any
}

type searchIn struct {
	Query string `json:"query" jsonschema:"text to look for"`
}

type searchOut struct {
	Pages []string `json:"pages"`
	Count int      `json:"count"`
}

type pageIn struct {
	ID string `json:"id"`
}

func newUpstream() *upstream {
	u := &upstream{}
	// A small page size makes discovery follow the pagination cursor.
	u.server = mcp.NewServer(&mcp.Implementation{Name: "wiki", Version: "1.0"}, &mcp.ServerOptions{PageSize: 2})
	yes := true
	mcp.AddTool(u.server, &mcp.Tool{
		Name:        "Search-Pages",
		Description: "Finds wiki pages.",
		Annotations: &mcp.ToolAnnotations{DestructiveHint: &yes, ReadOnlyHint: false, OpenWorldHint: &yes},
	}, func(ctx context.Context, req *mcp.CallToolRequest, in searchIn) (*mcp.CallToolResult, searchOut, error) {
		u.record(req)
		return nil, searchOut{Pages: []string{"Onboarding: " + in.Query}, Count: 1}, nil
	})
	mcp.AddTool(u.server, &mcp.Tool{Name: "get.page", Description: "Returns a page as text."},
		func(ctx context.Context, req *mcp.CallToolRequest, in pageIn) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{
				&mcp.TextContent{Text: "# Page " + in.ID},
				&mcp.TextContent{Text: "Welcome."},
			}}, nil, nil
		})
	mcp.AddTool(u.server, &mcp.Tool{Name: "delete_page", Title: "Delete a page"},
		func(ctx context.Context, req *mcp.CallToolRequest, in pageIn) (*mcp.CallToolResult, any, error) {
			return nil, nil, errors.New("page " + in.ID + " is protected")
		})
	mcp.AddTool(u.server, &mcp.Tool{Name: "env", Description: "Lists the server's environment variable names."},
		func(ctx context.Context, req *mcp.CallToolRequest, in struct{}) (*mcp.CallToolResult, map[string]any, error) {
			var names []string
			for _, kv := range os.Environ() {
				k, _, _ := strings.Cut(kv, "=")
				names = append(names, k)
			}
			return nil, map[string]any{"names": names}, nil
		})
	return u
}

func (u *upstream) record(req *mcp.CallToolRequest) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.metas = append(u.metas, req.Params.Meta)
}

func (u *upstream) lastMeta() map[string]any {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.metas) == 0 {
		return nil
	}
	return u.metas[len(u.metas)-1]
}

// handler serves u over Streamable HTTP behind a bearer token check.
func (u *upstream) handler() http.Handler {
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return u.server }, nil)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u.deny.Load() {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+testToken {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// serve starts u on addr ("" for any free port) and returns the server.
func serve(tb testing.TB, u *upstream, addr string) *httptest.Server {
	tb.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var l net.Listener
	var err error
	for range 50 { // the port of a server just closed may take a moment to free
		if l, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	require.NoError(tb, err)
	srv := httptest.NewUnstartedServer(u.handler())
	srv.Listener = l
	srv.Start()
	tb.Cleanup(srv.Close)
	return srv
}

func wikiConfig(tb testing.TB, src *domains.MCPSource, tools ...domains.Tool) *domains.Config {
	tb.Helper()
	cfg := &domains.Config{Name: "wiki", Description: "Wiki.", Kind: domains.KindMCP, MCP: src, Tools: tools}
	require.NoError(tb, domainconfig.Normalize(cfg))
	return cfg
}

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func newAdapter(tb testing.TB, cfg *domains.Config, getenv func(string) string) domains.Adapter {
	tb.Helper()
	a, err := mcpkind.New(context.Background(), kit.Deps{Config: cfg, Getenv: getenv})
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = a.(domains.Closer).Close() })
	return a
}

func requireCode(tb testing.TB, err error, code domains.ErrorCode) {
	tb.Helper()
	require.Error(tb, err)
	require.Equal(tb, code, domains.CodeOf(err), "error: %v", err)
}

func call(a domains.Adapter, tool string, args map[string]any) (any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return a.Call(ctx, domains.Call{Tool: tool, Args: args, IdempotencyKey: "wf-1/call-1", Subject: "tester"})
}

func names(tools []domains.Tool) []string {
	out := make([]string, 0, len(tools))
	for _, t := range tools {
		out = append(out, t.Name)
	}
	return out
}

func TestHTTP(t *testing.T) {
	u := newUpstream()
	srv := serve(t, u, "")
	src := &domains.MCPSource{URL: srv.URL, BearerTokenEnv: "WIKI_TOKEN"}
	a := newAdapter(t, wikiConfig(t, src), env(map[string]string{"WIKI_TOKEN": testToken}))
	src2 := a.(domains.ToolSource)

	t.Run("OK discovers every tool with sanitised names", func(t *testing.T) {
		tools, err := src2.DiscoverTools(context.Background())
		require.NoError(t, err)
		require.Equal(t, []string{"wiki.delete_page", "wiki.env", "wiki.get_page", "wiki.search_pages"}, names(tools))
		byName := map[string]domains.Tool{}
		for _, tl := range tools {
			byName[tl.Name] = tl
		}
		search := byName["wiki.search_pages"]
		require.Equal(t, "Search-Pages", search.Remote)
		require.Equal(t, "Finds wiki pages.", search.Description)
		require.Equal(t, "object", search.InputSchema["type"])
		require.Contains(t, search.InputSchema["properties"], "query")
		require.Equal(t, "object", search.OutputSchema["type"])
		// The upstream says destructive and open world; only our configuration may say so.
		require.Equal(t, domains.Annotations{}, search.Annotations)
		require.Equal(t, "get.page", byName["wiki.get_page"].Remote)
		require.Nil(t, byName["wiki.get_page"].OutputSchema)
		require.Equal(t, "Delete a page", byName["wiki.delete_page"].Description, "the title stands in for a missing description")
	})

	t.Run("OK imported tools pass the configuration's validation", func(t *testing.T) {
		tools, err := src2.DiscoverTools(context.Background())
		require.NoError(t, err)
		cfg := wikiConfig(t, src)
		cfg.Tools = tools
		require.NoError(t, domainconfig.Normalize(cfg))
	})

	t.Run("OK structured result", func(t *testing.T) {
		got, err := call(a, "wiki.search_pages", map[string]any{"query": "vpn"})
		require.NoError(t, err)
		require.Equal(t, map[string]any{"pages": []any{"Onboarding: vpn"}, "count": float64(1)}, got)
	})

	t.Run("OK idempotency key in the request meta", func(t *testing.T) {
		_, err := call(a, "wiki.search_pages", map[string]any{"query": "x"})
		require.NoError(t, err)
		require.Equal(t, "wf-1/call-1", u.lastMeta()[mcpkind.IdempotencyMetaKey])
	})

	t.Run("OK text result", func(t *testing.T) {
		got, err := call(a, "wiki.get_page", map[string]any{"id": "42"})
		require.NoError(t, err)
		require.Equal(t, map[string]any{"text": "# Page 42\nWelcome."}, got)
	})

	t.Run("ErrUpstreamToolError", func(t *testing.T) {
		_, err := call(a, "wiki.delete_page", map[string]any{"id": "7"})
		requireCode(t, err, domains.CodeInvalid)
		require.Contains(t, err.Error(), "page 7 is protected")
	})

	t.Run("ErrCredentialsRefused", func(t *testing.T) {
		u.deny.Store(true)
		_, err := call(a, "wiki.search_pages", map[string]any{"query": "x"})
		u.deny.Store(false)
		requireCode(t, err, domains.CodeDenied)
		require.Contains(t, err.Error(), "the wiki service refused the platform's credentials")
		_, err = call(a, "wiki.search_pages", map[string]any{"query": "x"})
		require.NoError(t, err, "the session survives a refused call")
	})

	t.Run("ErrUnknownUpstreamTool", func(t *testing.T) {
		_, err := call(a, "wiki.no_such_tool", nil)
		requireCode(t, err, domains.CodeInvalid)
	})
}

func TestConfiguredRemote(t *testing.T) {
	u := newUpstream()
	srv := serve(t, u, "")
	src := &domains.MCPSource{URL: srv.URL, BearerTokenEnv: "WIKI_TOKEN"}
	cfg := wikiConfig(t, src, domains.Tool{
		Name: "find", Description: "Finds pages.", Remote: "Search-Pages",
		Annotations: domains.Annotations{ReadOnly: true},
	})
	a := newAdapter(t, cfg, env(map[string]string{"WIKI_TOKEN": testToken}))

	t.Run("OK the configured name wins", func(t *testing.T) {
		tools, err := a.(domains.ToolSource).DiscoverTools(context.Background())
		require.NoError(t, err)
		require.Equal(t, []string{"wiki.delete_page", "wiki.env", "wiki.find", "wiki.get_page"}, names(tools))
		got, err := call(a, "wiki.find", map[string]any{"query": "q"})
		require.NoError(t, err)
		require.Equal(t, float64(1), got.(map[string]any)["count"])
	})
}

func TestDiscoveryErrors(t *testing.T) {
	tests := map[string]struct {
		tools []string
		want  string
	}{
		"ErrCollision":     {tools: []string{"get-page", "Get_Page"}, want: `both become "wiki.get_page"`},
		"ErrNotALetter":    {tools: []string{"2fa-reset"}, want: "does not start with a letter"},
		"ErrUnderscoreLed": {tools: []string{"_internal"}, want: "does not start with a letter"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			u := &upstream{server: mcp.NewServer(&mcp.Implementation{Name: "x", Version: "1"}, nil)}
			for _, n := range tc.tools {
				mcp.AddTool(u.server, &mcp.Tool{Name: n, Description: "d"},
					func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
						return nil, nil, nil
					})
			}
			srv := serve(t, u, "")
			a := newAdapter(t, wikiConfig(t, &domains.MCPSource{URL: srv.URL, BearerTokenEnv: "T"}), env(map[string]string{"T": testToken}))
			_, err := a.(domains.ToolSource).DiscoverTools(context.Background())
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestStartErrors(t *testing.T) {
	srv := serve(t, newUpstream(), "")

	t.Run("ErrMissingBearerEnv", func(t *testing.T) {
		cfg := wikiConfig(t, &domains.MCPSource{URL: srv.URL, BearerTokenEnv: "WIKI_MCP_TOKEN"})
		_, err := mcpkind.New(context.Background(), kit.Deps{Config: cfg, Getenv: env(nil)})
		require.ErrorContains(t, err, "WIKI_MCP_TOKEN")
	})

	t.Run("ErrWrongToken", func(t *testing.T) {
		cfg := wikiConfig(t, &domains.MCPSource{URL: srv.URL, BearerTokenEnv: "WIKI_MCP_TOKEN"})
		_, err := mcpkind.New(context.Background(), kit.Deps{Config: cfg, Getenv: env(map[string]string{"WIKI_MCP_TOKEN": "wrong"})})
		require.ErrorContains(t, err, "refused the platform's credentials")
		require.NotContains(t, err.Error(), "wrong", "the token must not appear in errors")
	})

	t.Run("ErrServerDown", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := l.Addr().String()
		require.NoError(t, l.Close())
		cfg := wikiConfig(t, &domains.MCPSource{URL: "http://" + addr + "/mcp"})
		_, err = mcpkind.New(context.Background(), kit.Deps{Config: cfg, Getenv: env(nil)})
		require.ErrorContains(t, err, "connect to the MCP server")
	})
}

func TestReconnect(t *testing.T) {
	u := newUpstream()
	srv := serve(t, u, "")
	addr := srv.Listener.Addr().String()
	a := newAdapter(t, wikiConfig(t, &domains.MCPSource{URL: srv.URL, BearerTokenEnv: "T"}), env(map[string]string{"T": testToken}))
	_, err := a.(domains.ToolSource).DiscoverTools(context.Background())
	require.NoError(t, err)
	args := map[string]any{"query": "q"}
	_, err = call(a, "wiki.search_pages", args)
	require.NoError(t, err)

	t.Run("ErrServerDown", func(t *testing.T) {
		srv.Close()
		_, err := call(a, "wiki.search_pages", args)
		requireCode(t, err, domains.CodeUnavailable)
		_, err = call(a, "wiki.search_pages", args)
		requireCode(t, err, domains.CodeUnavailable)
	})

	// The servers below are the test's, not the subtests', so they outlive their subtest.
	parent := t
	t.Run("OK recovers when the server is back", func(t *testing.T) {
		srv = serve(parent, newUpstream(), addr)
		_, err := call(a, "wiki.search_pages", args)
		require.NoError(t, err)
	})

	t.Run("OK new session after a restart between calls", func(t *testing.T) {
		srv.Close()
		srv = serve(parent, newUpstream(), addr)
		_, err := call(a, "wiki.search_pages", args)
		require.NoError(t, err)
	})

	t.Run("ErrClosed", func(t *testing.T) {
		require.NoError(t, a.(domains.Closer).Close())
		_, err := call(a, "wiki.search_pages", args)
		requireCode(t, err, domains.CodeUnavailable)
	})
}

func TestStdio(t *testing.T) {
	exe, err := os.Executable()
	require.NoError(t, err)
	cfg := wikiConfig(t, &domains.MCPSource{Command: exe, Args: []string{"-test.run=^$"}, Env: []string{stdioServerEnv}})
	a := newAdapter(t, cfg, env(map[string]string{
		stdioServerEnv: "1", "PATH": os.Getenv("PATH"), "HOME": t.TempDir(), "OTHER_SECRET": "x",
	}))

	t.Run("OK discovers and calls", func(t *testing.T) {
		tools, err := a.(domains.ToolSource).DiscoverTools(context.Background())
		require.NoError(t, err)
		require.Contains(t, names(tools), "wiki.search_pages")
		got, err := call(a, "wiki.search_pages", map[string]any{"query": "vpn"})
		require.NoError(t, err)
		require.Equal(t, float64(1), got.(map[string]any)["count"])
	})

	t.Run("OK passes only the listed environment", func(t *testing.T) {
		got, err := call(a, "wiki.env", nil)
		require.NoError(t, err)
		var vars []string
		for _, v := range got.(map[string]any)["names"].([]any) {
			vars = append(vars, v.(string))
		}
		slices.Sort(vars)
		require.Equal(t, []string{"HOME", stdioServerEnv, "PATH"}, vars)
	})
}

func TestExampleConfig(t *testing.T) {
	t.Run("OK wiki", func(t *testing.T) {
		cfg, err := domainconfig.Load("../../config/examples/domains", "wiki")
		require.NoError(t, err)
		require.Equal(t, domains.KindMCP, cfg.Kind)
		require.Equal(t, "WIKI_MCP_TOKEN", cfg.MCP.BearerTokenEnv)
		require.NotEmpty(t, cfg.Tools)
	})
}
