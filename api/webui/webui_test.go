package webui_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/stretchr/testify/require"

	"mcp-platform/api/webui"
)

const indexHTML = `<!doctype html><html><head><script type="module" src="/assets/index-abc123.js"></script></head><body><div id="root"></div></body></html>`

func bundle() fstest.MapFS {
	return fstest.MapFS{
		"index.html":              {Data: []byte(indexHTML)},
		"favicon.svg":             {Data: []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`)},
		"assets/index-abc123.js":  {Data: []byte(`console.log("app")`)},
		"assets/index-def456.css": {Data: []byte(`body{}`)},
		".gitkeep":                {Data: nil},
	}
}

func get(t *testing.T, h http.Handler, method, target string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestHandler(t *testing.T) {
	h := webui.New(bundle(), webui.Options{APIPrefixes: []string{"conversations", "approvals", "chat"}})

	tests := []struct {
		name        string
		method      string
		path        string
		wantStatus  int
		wantType    string
		wantCache   string
		wantBodyHas string
	}{
		{"OK/Root", http.MethodGet, "/", http.StatusOK, "text/html; charset=utf-8", "no-cache", `<div id="root">`},
		{"OK/IndexByName", http.MethodGet, "/index.html", http.StatusOK, "text/html; charset=utf-8", "no-cache", `<div id="root">`},
		{"OK/ClientRoute", http.MethodGet, "/c/6f1c0d3e-1111-2222-3333-444455556666", http.StatusOK, "text/html; charset=utf-8", "no-cache", `<div id="root">`},
		{"OK/ClientRouteNotAPI", http.MethodGet, "/pending-approvals", http.StatusOK, "text/html; charset=utf-8", "no-cache", `<div id="root">`},
		{"OK/HashedAsset", http.MethodGet, "/assets/index-abc123.js", http.StatusOK, "text/javascript; charset=utf-8", "public, max-age=31536000, immutable", `console.log`},
		{"OK/HashedStyle", http.MethodGet, "/assets/index-def456.css", http.StatusOK, "text/css; charset=utf-8", "public, max-age=31536000, immutable", `body{}`},
		{"OK/PublicFile", http.MethodGet, "/favicon.svg", http.StatusOK, "image/svg+xml", "public, max-age=3600", `<svg`},
		{"OK/Head", http.MethodHead, "/", http.StatusOK, "text/html; charset=utf-8", "no-cache", ""},
		{"ErrMissingAsset", http.MethodGet, "/assets/index-gone.js", http.StatusNotFound, "text/plain; charset=utf-8", "", "not found"},
		{"ErrMissingFileWithExtension", http.MethodGet, "/robots.txt", http.StatusNotFound, "text/plain; charset=utf-8", "", "not found"},
		{"ErrDotFileHidden", http.MethodGet, "/.gitkeep", http.StatusNotFound, "text/plain; charset=utf-8", "", "not found"},
		{"ErrUnknownAPIPath", http.MethodGet, "/conversations/x/y", http.StatusNotFound, "application/problem+json", "no-store", `"status":404`},
		{"ErrAPIPrefixExact", http.MethodGet, "/approvals", http.StatusNotFound, "application/problem+json", "no-store", `"title":"Not Found"`},
		{"ErrOpenAPIVariant", http.MethodGet, "/openapi-3.0.yaml", http.StatusNotFound, "application/problem+json", "no-store", ""},
		{"ErrDocsAlwaysAPI", http.MethodGet, "/docs/x", http.StatusNotFound, "application/problem+json", "no-store", ""},
		{"ErrMethod", http.MethodPost, "/", http.StatusMethodNotAllowed, "text/plain; charset=utf-8", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := get(t, h, tt.method, tt.path)
			require.Equal(t, tt.wantStatus, rec.Code)
			require.Equal(t, tt.wantType, rec.Header().Get("Content-Type"))
			if tt.wantCache != "" {
				require.Equal(t, tt.wantCache, rec.Header().Get("Cache-Control"))
			}
			require.Contains(t, rec.Body.String(), tt.wantBodyHas)
		})
	}
}

func TestHandlerIndexHeaders(t *testing.T) {
	h := webui.New(bundle(), webui.Options{})
	rec := get(t, h, http.MethodGet, "/")
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Header().Get("Content-Security-Policy"), "script-src 'self'")
	require.Equal(t, "DENY", rec.Header().Get("X-Frame-Options"))
	require.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
}

func TestHandlerConditionalGet(t *testing.T) {
	h := webui.New(bundle(), webui.Options{})
	first := get(t, h, http.MethodGet, "/assets/index-abc123.js")
	etag := first.Header().Get("ETag")
	require.NotEmpty(t, etag)

	again := get(t, h, http.MethodGet, "/assets/index-abc123.js", "If-None-Match", etag)
	require.Equal(t, http.StatusNotModified, again.Code)
	require.Empty(t, again.Body.String())
}

func TestHandlerNotBuilt(t *testing.T) {
	h := webui.New(fstest.MapFS{".gitkeep": {}}, webui.Options{})
	rec := get(t, h, http.MethodGet, "/")
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	require.Contains(t, rec.Body.String(), "UI not built: run <code>make web</code>")
}

func TestEmbeddedBundle(t *testing.T) {
	// Whether or not `npm run build` ran, the embedded handler answers every page path.
	rec := get(t, webui.Handler(webui.Options{}), http.MethodGet, "/")
	if rec.Code == http.StatusServiceUnavailable {
		require.Contains(t, rec.Body.String(), "UI not built")
		return
	}
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Body.String(), `<div id="root">`)
}

// TestMount checks the UI behind a Huma API on one mux: API routes keep precedence, page paths
// get the app, unknown API paths get problem details.
func TestMount(t *testing.T) {
	mux := http.NewServeMux()
	api := humago.New(mux, huma.DefaultConfig("test", "1.0.0"))
	huma.Register(api, huma.Operation{OperationID: "get-conversation", Method: http.MethodGet, Path: "/conversations/{id}"},
		func(_ context.Context, in *struct {
			ID string `path:"id"`
		}) (*struct{ Body struct{ ID string } }, error) {
			out := &struct{ Body struct{ ID string } }{}
			out.Body.ID = in.ID
			return out, nil
		})
	webui.Mount(mux, api)

	t.Run("OK/APIRoute", func(t *testing.T) {
		rec := get(t, mux, http.MethodGet, "/conversations/abc")
		require.Equal(t, http.StatusOK, rec.Code)
		var body struct{ ID string }
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
		require.Equal(t, "abc", body.ID)
	})
	t.Run("OK/DocsStillServed", func(t *testing.T) {
		rec := get(t, mux, http.MethodGet, "/openapi.json")
		require.Equal(t, http.StatusOK, rec.Code)
		require.True(t, strings.Contains(rec.Body.String(), `"openapi"`))
	})
	t.Run("OK/Page", func(t *testing.T) {
		rec := get(t, mux, http.MethodGet, "/pending-approvals")
		require.Contains(t, []int{http.StatusOK, http.StatusServiceUnavailable}, rec.Code)
		require.Contains(t, rec.Header().Get("Content-Type"), "text/html")
	})
	t.Run("ErrUnknownAPIPath", func(t *testing.T) {
		rec := get(t, mux, http.MethodGet, "/conversations/abc/nope")
		require.Equal(t, http.StatusNotFound, rec.Code)
		require.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	})
}
