// Package webui serves the web chat UI (the React app built into web/dist and embedded in the
// binary) from the gateway: the bundle's files, and index.html for every other page path so the
// app's own routes (/c/<conversation>, /pending-approvals, ...) survive a reload.
//
// The gateway mounts it as the fallback for GET requests no API route matches:
//
//	webui.Mount(mux, api)
//
// Paths under the API's own prefixes (/conversations, /approvals, ...) never get index.html:
// a request for an API path that does not exist answers 404 with problem details, as the API
// would, so clients and typos are not served a web page.
package webui

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"mcp-platform/web"
)

// Options configure a Handler.
type Options struct {
	// APIPrefixes are first path segments that belong to the API (such as "conversations");
	// unknown paths under them answer 404 instead of index.html. "docs", "schemas" and any
	// segment starting with "openapi" (Huma's documentation routes) are always included.
	APIPrefixes []string
}

// Mount registers the UI on mux for GET and HEAD requests that no more specific pattern matches
// ("GET /" is the least specific GET pattern, so every API route keeps precedence). The API's
// prefixes are read from its OpenAPI document.
//
// Note: with "GET /" registered, http.ServeMux answers 405 Method Not Allowed (instead of 404)
// to other methods on paths no route matches.
func Mount(mux *http.ServeMux, api huma.API) {
	mux.Handle("GET /", Handler(Options{APIPrefixes: PrefixesOf(api.OpenAPI())}))
}

// Handler serves the embedded build of web/.
func Handler(opts Options) http.Handler {
	dist, err := fs.Sub(web.Dist, "dist")
	if err != nil { // cannot happen: "dist" is a valid path
		panic(err)
	}
	return New(dist, opts)
}

// PrefixesOf returns the first path segments of the document's paths.
func PrefixesOf(doc *huma.OpenAPI) []string {
	if doc == nil {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for p := range doc.Paths {
		seg, _, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
		if seg != "" && !strings.HasPrefix(seg, "{") && !seen[seg] {
			seen[seg] = true
			out = append(out, seg)
		}
	}
	return out
}

// New serves the UI from dist, a file system whose root holds index.html and assets/.
func New(dist fs.FS, opts Options) http.Handler {
	h := &handler{dist: dist, api: map[string]bool{"docs": true, "schemas": true}}
	for _, p := range opts.APIPrefixes {
		h.api[strings.Trim(p, "/")] = true
	}
	return h
}

type handler struct {
	dist fs.FS
	api  map[string]bool
	// etags caches the content hash of each file; the embedded files never change.
	etags sync.Map
}

// Cache lifetimes: Vite puts a content hash in every file name under assets/, so those never
// change; index.html must be revalidated so a new release is picked up at once.
const (
	cacheImmutable = "public, max-age=31536000, immutable"
	cacheShort     = "public, max-age=3600"
	cacheRevalid   = "no-cache"
)

// contentTypes fixes the types of the bundle's usual files, which the machine's MIME tables
// (consulted for anything else) do not always agree on.
var contentTypes = map[string]string{
	".html":  "text/html; charset=utf-8",
	".js":    "text/javascript; charset=utf-8",
	".css":   "text/css; charset=utf-8",
	".svg":   "image/svg+xml",
	".json":  "application/json",
	".map":   "application/json",
	".png":   "image/png",
	".ico":   "image/x-icon",
	".woff2": "font/woff2",
	".txt":   "text/plain; charset=utf-8",
}

// contentSecurityPolicy allows only the app's own scripts and styles and calls to its own
// origin (the gateway API); links to the Temporal UI are navigations, which it does not limit.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := path.Clean("/" + r.URL.Path)
	if h.isAPI(p) {
		notFoundProblem(w, r)
		return
	}
	name := strings.TrimPrefix(p, "/")
	if name != "" && name != "index.html" {
		if served := h.serveFile(w, r, name); served {
			return
		}
		// A missing file (it has an extension, or lives under assets/) is a 404: answering
		// with index.html would hand a script tag an HTML page.
		if strings.HasPrefix(name, "assets/") || strings.Contains(path.Base(name), ".") {
			http.NotFound(w, r)
			return
		}
	}
	h.serveIndex(w, r)
}

// isAPI reports whether the path's first segment belongs to the API.
func (h *handler) isAPI(p string) bool {
	seg, _, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	return h.api[seg] || strings.HasPrefix(seg, "openapi")
}

// serveFile serves a regular file of the bundle; it reports false when there is none.
func (h *handler) serveFile(w http.ResponseWriter, r *http.Request, name string) bool {
	if !fs.ValidPath(name) || strings.HasPrefix(path.Base(name), ".") {
		return false
	}
	data, err := fs.ReadFile(h.dist, name)
	if err != nil {
		return false
	}
	cache := cacheShort
	if strings.HasPrefix(name, "assets/") {
		cache = cacheImmutable
	}
	h.write(w, r, name, data, cache)
	return true
}

// serveIndex serves index.html for the app's pages, or explains how to build the UI.
func (h *handler) serveIndex(w http.ResponseWriter, r *http.Request) {
	data, err := fs.ReadFile(h.dist, "index.html")
	if errors.Is(err, fs.ErrNotExist) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(notBuiltPage))
		return
	}
	if err != nil {
		http.Error(w, "the web UI could not be read", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Security-Policy", contentSecurityPolicy)
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Referrer-Policy", "same-origin")
	h.write(w, r, "index.html", data, cacheRevalid)
}

// write sends a file with its type, caching headers and ETag; http.ServeContent answers
// conditional (If-None-Match) and range requests.
func (h *handler) write(w http.ResponseWriter, r *http.Request, name string, data []byte, cache string) {
	ctype := contentTypes[path.Ext(name)]
	if ctype == "" {
		ctype = mime.TypeByExtension(path.Ext(name))
	}
	if ctype == "" {
		ctype = http.DetectContentType(data)
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", cache)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("ETag", h.etag(name, data))
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(data))
}

func (h *handler) etag(name string, data []byte) string {
	if v, ok := h.etags.Load(name); ok {
		return v.(string)
	}
	sum := sha256.Sum256(data)
	tag := `"` + hex.EncodeToString(sum[:12]) + `"`
	h.etags.Store(name, tag)
	return tag
}

// notFoundProblem answers like the API does for an unknown route (RFC 9457 problem details).
func notFoundProblem(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNotFound)
	if r.Method == http.MethodHead {
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{
		"title":  "Not Found",
		"status": http.StatusNotFound,
		"detail": "no API route matches " + r.URL.Path,
	})
}

const notBuiltPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>MCP Platform — UI not built</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#161a2b}
code{background:#f1f3f9;padding:.1rem .35rem;border-radius:4px}</style></head>
<body><h1>UI not built: run <code>make web</code></h1>
<p>This binary was built before the web UI. Build the UI (<code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code>),
then rebuild the binary (<code>make build</code>) so it embeds <code>web/dist</code>.</p>
<p>The API is available: <a href="/docs">API documentation</a>, <a href="/health">health</a>.</p></body></html>
`
