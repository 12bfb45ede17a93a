package mcpkind_test

import (
	"context"
	"encoding/base64"
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
	calls map[string]int
	// release ends the calls that stall.
	release chan struct{}
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
	u := &upstream{release: make(chan struct{})}
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
	mcp.AddTool(u.server, &mcp.Tool{Name: "media", Title: "Media", Description: "Returns one block of every kind.",
		Icons:       []mcp.Icon{{Source: "https://wiki.example/icon.png", MIMEType: "image/png", Sizes: []string{"48x48"}}},
		Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, IdempotentHint: true, OpenWorldHint: new(false)}},
		func(ctx context.Context, req *mcp.CallToolRequest, in struct{}) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{Content: mediaContent(), StructuredContent: map[string]any{"pages": 2}}, nil, nil
		})
	mcp.AddTool(u.server, &mcp.Tool{Name: "roots", Description: "Lists the client's roots."},
		func(ctx context.Context, req *mcp.CallToolRequest, in struct{}) (*mcp.CallToolResult, map[string]any, error) {
			if req.Session.InitializeParams().Capabilities.RootsV2 == nil {
				return nil, map[string]any{"advertised": false}, nil
			}
			res, err := req.Session.ListRoots(ctx, nil)
			if err != nil {
				return nil, nil, err
			}
			var uris []string
			for _, r := range res.Roots {
				uris = append(uris, r.URI)
			}
			return nil, map[string]any{"advertised": true, "uris": uris}, nil
		})
	// append_note writes (no annotations: not idempotent) and lookup reads; both block until
	// release is closed or the call is given up, as a server that received a call and stalls.
	mcp.AddTool(u.server, &mcp.Tool{Name: "append_note", Description: "Appends a note."},
		func(ctx context.Context, req *mcp.CallToolRequest, in pageIn) (*mcp.CallToolResult, any, error) {
			return u.stall(ctx, "append_note")
		})
	mcp.AddTool(u.server, &mcp.Tool{Name: "lookup", Description: "Looks a page up.", Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true}},
		func(ctx context.Context, req *mcp.CallToolRequest, in pageIn) (*mcp.CallToolResult, any, error) {
			return u.stall(ctx, "lookup")
		})
	// count reports three steps of progress when the call has a progress token, the last just
	// before its result, and says whether it had one.
	mcp.AddTool(u.server, &mcp.Tool{Name: "count", Description: "Counts to three."},
		func(ctx context.Context, req *mcp.CallToolRequest, in struct{}) (*mcp.CallToolResult, map[string]any, error) {
			token := req.Params.GetProgressToken()
			for i := 1; token != nil && i <= 3; i++ {
				err := req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{ProgressToken: token, Progress: float64(i), Total: 3, Message: "step"})
				if err != nil {
					return nil, nil, err
				}
			}
			return nil, map[string]any{"token": token != nil}, nil
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

// stall counts a call of tool and waits until release is closed or ctx ends.
func (u *upstream) stall(ctx context.Context, tool string) (*mcp.CallToolResult, any, error) {
	u.mu.Lock()
	if u.calls == nil {
		u.calls = map[string]int{}
	}
	u.calls[tool]++
	u.mu.Unlock()
	select {
	case <-u.release:
	case <-ctx.Done():
	}
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "done"}}}, nil, nil
}

func (u *upstream) callsOf(tool string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.calls[tool]
}

// tinyPNG is a 1x1 PNG.
const tinyPNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="

// mediaContent is one content block of every MCP type, with annotations and _meta.
func mediaContent() []mcp.Content {
	png, _ := base64.StdEncoding.DecodeString(tinyPNG)
	size := int64(1234)
	return []mcp.Content{
		&mcp.TextContent{Text: "Two pages.", Annotations: &mcp.Annotations{Audience: []mcp.Role{"user"}, Priority: 0.5}},
		&mcp.ImageContent{Data: png, MIMEType: "image/png", Annotations: &mcp.Annotations{Priority: 1}, Meta: mcp.Meta{"alt": "logo"}},
		&mcp.AudioContent{Data: []byte("RIFF....WAVE"), MIMEType: "audio/wav"},
		&mcp.ResourceLink{URI: "https://wiki.example/p/1", Name: "p1", Title: "Page 1", MIMEType: "text/html", Size: &size,
			Annotations: &mcp.Annotations{LastModified: "2026-01-02T03:04:05Z"}},
		&mcp.EmbeddedResource{Resource: &mcp.ResourceContents{URI: "wiki://p/2", MIMEType: "text/markdown", Text: "# Page 2"}},
		&mcp.EmbeddedResource{Resource: &mcp.ResourceContents{URI: "wiki://p/2.pdf", MIMEType: "application/pdf", Blob: []byte("%PDF-1.7")}},
	}
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

func requireResult(tb testing.TB, got any) *domains.Result {
	tb.Helper()
	r, ok := got.(*domains.Result)
	require.True(tb, ok, "a *domains.Result, not %T", got)
	return r
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
		require.Equal(t, []string{"wiki.append_note", "wiki.count", "wiki.delete_page", "wiki.env", "wiki.get_page", "wiki.lookup", "wiki.media", "wiki.roots", "wiki.search_pages"}, names(tools))
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
		// The upstream's annotations are kept; hints it leaves out take MCP's defaults.
		require.Equal(t, domains.Annotations{Destructive: true, OpenWorld: true}, search.Annotations)
		require.Equal(t, domains.Annotations{ReadOnly: true, Idempotent: true}, byName["wiki.media"].Annotations)
		require.Equal(t, "Media", byName["wiki.media"].Title)
		require.Equal(t, []map[string]any{{"src": "https://wiki.example/icon.png", "mimeType": "image/png", "sizes": []any{"48x48"}}}, byName["wiki.media"].Icons)
		require.Equal(t, domains.Annotations{Destructive: true, OpenWorld: true}, byName["wiki.append_note"].Annotations, "no annotations: MCP's defaults")
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
		r := requireResult(t, got)
		require.Equal(t, map[string]any{"pages": []any{"Onboarding: vpn"}, "count": float64(1)}, r.Structured)
		require.False(t, r.IsError)
	})

	t.Run("OK every content block passes through unchanged", func(t *testing.T) {
		got, err := call(a, "wiki.media", nil)
		require.NoError(t, err)
		r := requireResult(t, got)
		require.Equal(t, map[string]any{"pages": float64(2)}, r.Structured)
		require.Equal(t, []domains.Content{
			{"type": "text", "text": "Two pages.", "annotations": map[string]any{"audience": []any{"user"}, "priority": 0.5}},
			{"type": "image", "data": tinyPNG, "mimeType": "image/png", "annotations": map[string]any{"priority": float64(1)}, "_meta": map[string]any{"alt": "logo"}},
			{"type": "audio", "data": base64.StdEncoding.EncodeToString([]byte("RIFF....WAVE")), "mimeType": "audio/wav"},
			{"type": "resource_link", "uri": "https://wiki.example/p/1", "name": "p1", "title": "Page 1", "mimeType": "text/html", "size": float64(1234),
				"annotations": map[string]any{"lastModified": "2026-01-02T03:04:05Z"}},
			{"type": "resource", "resource": map[string]any{"uri": "wiki://p/2", "mimeType": "text/markdown", "text": "# Page 2"}},
			{"type": "resource", "resource": map[string]any{"uri": "wiki://p/2.pdf", "mimeType": "application/pdf", "blob": base64.StdEncoding.EncodeToString([]byte("%PDF-1.7"))}},
		}, r.Content)
	})

	t.Run("OK roots are not advertised unless configured", func(t *testing.T) {
		got, err := call(a, "wiki.roots", nil)
		require.NoError(t, err)
		require.Equal(t, map[string]any{"advertised": false}, requireResult(t, got).Structured)
	})

	t.Run("ErrOutcomeUnknown for a writing tool that got no answer", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		_, err := a.Call(ctx, domains.Call{Tool: "wiki.append_note", Args: map[string]any{"id": "1"}, IdempotencyKey: "wf-2/call-1"})
		requireCode(t, err, domains.CodeOutcomeUnknown)
		require.Contains(t, err.Error(), "not sent again")
		require.Equal(t, 1, u.callsOf("append_note"))
	})

	t.Run("ErrUnavailable for a read-only tool that got no answer", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		_, err := a.Call(ctx, domains.Call{Tool: "wiki.lookup", Args: map[string]any{"id": "1"}})
		requireCode(t, err, domains.CodeUnavailable)
	})

	t.Run("OK idempotency key in the request meta", func(t *testing.T) {
		_, err := call(a, "wiki.search_pages", map[string]any{"query": "x"})
		require.NoError(t, err)
		require.Equal(t, "wf-1/call-1", u.lastMeta()[mcpkind.IdempotencyMetaKey])
	})

	t.Run("OK text result", func(t *testing.T) {
		got, err := call(a, "wiki.get_page", map[string]any{"id": "42"})
		require.NoError(t, err)
		// Plain text stays plain text: two blocks, not one re-wrapped {"text": ...}.
		require.Equal(t, []domains.Content{{"type": "text", "text": "# Page 42"}, {"type": "text", "text": "Welcome."}}, requireResult(t, got).Content)
	})

	t.Run("OK the upstream tool's own error is its result", func(t *testing.T) {
		got, err := call(a, "wiki.delete_page", map[string]any{"id": "7"})
		require.NoError(t, err)
		r := requireResult(t, got)
		require.True(t, r.IsError)
		require.Equal(t, []domains.Content{{"type": "text", "text": "page 7 is protected"}}, r.Content)
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
		require.Equal(t, []string{"wiki.append_note", "wiki.count", "wiki.delete_page", "wiki.env", "wiki.find", "wiki.get_page", "wiki.lookup", "wiki.media", "wiki.roots"}, names(tools))
		got, err := call(a, "wiki.find", map[string]any{"query": "q"})
		require.NoError(t, err)
		require.Equal(t, float64(1), requireResult(t, got).Structured.(map[string]any)["count"])
	})
}

func TestRoots(t *testing.T) {
	u := newUpstream()
	srv := serve(t, u, "")
	src := &domains.MCPSource{URL: srv.URL, BearerTokenEnv: "WIKI_TOKEN", Roots: []domains.Root{{URI: "file:///srv/wiki", Name: "wiki"}}}
	a := newAdapter(t, wikiConfig(t, src), env(map[string]string{"WIKI_TOKEN": testToken}))

	t.Run("OK configured roots are advertised and listed", func(t *testing.T) {
		got, err := call(a, "wiki.roots", nil)
		require.NoError(t, err)
		require.Equal(t, map[string]any{"advertised": true, "uris": []any{"file:///srv/wiki"}}, requireResult(t, got).Structured)
	})
}

func TestBinaryContentCap(t *testing.T) {
	u := newUpstream()
	big := make([]byte, mcpkind.MaxBinaryContent) // base64 makes it larger than the cap
	mcp.AddTool(u.server, &mcp.Tool{Name: "photo", Description: "A big photo."},
		func(ctx context.Context, req *mcp.CallToolRequest, in struct{}) (*mcp.CallToolResult, any, error) {
			png, _ := base64.StdEncoding.DecodeString(tinyPNG)
			return &mcp.CallToolResult{Content: []mcp.Content{
				&mcp.ImageContent{Data: png, MIMEType: "image/png"},
				&mcp.ImageContent{Data: big, MIMEType: "image/jpeg", Annotations: &mcp.Annotations{Priority: 0.2}},
			}}, nil, nil
		})
	srv := serve(t, u, "")
	a := newAdapter(t, wikiConfig(t, &domains.MCPSource{URL: srv.URL, BearerTokenEnv: "T"}), env(map[string]string{"T": testToken}))

	t.Run("OK a block past the cap is replaced by a note", func(t *testing.T) {
		got, err := call(a, "wiki.photo", nil)
		require.NoError(t, err)
		r := requireResult(t, got)
		require.Len(t, r.Content, 2)
		require.Equal(t, tinyPNG, r.Content[0]["data"], "a small image passes")
		note := r.Content[1]
		require.Equal(t, "text", note["type"])
		require.Contains(t, note["text"], "image content (image/jpeg")
		require.Contains(t, note["text"], "left out")
		require.Equal(t, map[string]any{"priority": 0.2}, note["annotations"])
		require.Equal(t, "image", note["_meta"].(map[string]any)[mcpkind.OmittedMetaKey].(map[string]any)["type"])
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
		require.Equal(t, float64(1), requireResult(t, got).Structured.(map[string]any)["count"])
	})

	t.Run("OK passes only the listed environment", func(t *testing.T) {
		got, err := call(a, "wiki.env", nil)
		require.NoError(t, err)
		var vars []string
		for _, v := range requireResult(t, got).Structured.(map[string]any)["names"].([]any) {
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
