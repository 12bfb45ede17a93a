package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// The HTTP layers in front of the MCP handler, outermost first: origins (DNS rebinding
// protection and CORS, before authentication so that a browser's preflight is answered), then
// bearer authentication, then methods (JSON-RPC "method not found" for what /mcp does not serve).

// maxMethodPeek bounds how much of a request body methods reads to find the JSON-RPC method; the
// MCP handler reads the rest as usual.
const maxMethodPeek = 4 << 20

// corsAllowMethods are the methods of the Streamable HTTP transport.
const corsAllowMethods = "GET, POST, DELETE, OPTIONS"

// corsExposeHeaders are the response headers a browser client must be able to read.
const corsExposeHeaders = "Mcp-Session-Id, Mcp-Protocol-Version, WWW-Authenticate"

// origins refuses a request whose Origin header is present and neither the server's own origin
// nor one of allowed, with 403 and a JSON-RPC error (the spec's DNS rebinding protection), and
// answers CORS for the allowed ones, preflights included. A request that reached the server on
// a loopback address may also come from a loopback origin (a local tool such as the MCP
// Inspector on another port); the SDK refuses a non-loopback Host there. Requests without
// Origin (non-browser clients) pass.
func origins(self string, allowed []string, next http.Handler) http.Handler {
	ok := map[string]bool{}
	if u, err := url.Parse(self); err == nil && u.Host != "" {
		ok[u.Scheme+"://"+u.Host] = true
	}
	for _, o := range allowed {
		ok[strings.TrimRight(o, "/")] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Origin")
		origin := r.Header.Get("Origin")
		if origin == "" {
			next.ServeHTTP(w, r)
			return
		}
		if !ok[origin] && !(loopback(origin) && receivedOnLoopback(r)) {
			writeRPCError(w, http.StatusForbidden, nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidRequest,
				Message: "Forbidden: origin " + origin + " may not call this server (MCP_ALLOWED_ORIGINS lists the allowed ones)"})
			return
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", corsAllowMethods)
			if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
				h.Set("Access-Control-Allow-Headers", req)
			}
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// removedIn20260728 are the methods the 2026-07-28 revision removed (its clients discover
// instead of initializing, and set a log level per request).
var removedIn20260728 = []string{"initialize", "ping", "logging/setLevel", "resources/subscribe", "resources/unsubscribe"}

// loopback reports whether origin is http(s) on localhost, 127.0.0.1 or [::1].
func loopback(origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	switch u.Hostname() {
	case "localhost", "127.0.0.1", "::1":
		return true
	}
	return false
}

// receivedOnLoopback reports whether r arrived on a loopback address of this server.
func receivedOnLoopback(r *http.Request) bool {
	addr, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok || addr == nil {
		return false
	}
	host, _, err := net.SplitHostPort(addr.String())
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// methods answers a JSON-RPC request for a method /mcp does not serve with the JSON-RPC error
// -32601 (method not found) instead of the SDK's plain-text HTTP 400: what the capabilities do
// not declare (completions, resource subscriptions), what the request's revision removed, and
// anything unknown. served lists the methods that pass, noting in their context the method and
// whether the request carries a progress token (wantsProgress).
func methods(served []string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Body == nil {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxMethodPeek))
		if err != nil {
			http.Error(w, "could not read the request body", http.StatusBadRequest)
			return
		}
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}
		var msg struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
			Params json.RawMessage `json:"params"`
		}
		// Batches, responses, notifications and malformed bodies are the SDK's to judge.
		if json.Unmarshal(body, &msg) != nil || msg.Method == "" || len(msg.ID) == 0 || strings.HasPrefix(msg.Method, "notifications/") {
			next.ServeHTTP(w, r)
			return
		}
		current := r.Header.Get("Mcp-Protocol-Version") >= "2026-07-28"
		if name := strings.TrimSpace(r.Header.Get("Mcp-Name")); current && name != "" && slices.Contains(taskMethods, msg.Method) && name != taskIDOf(msg.Params) {
			// The tasks extension routes its methods by Mcp-Name, which must be the body's taskId.
			writeRPCError(w, http.StatusBadRequest, msg.ID, &jsonrpc.Error{Code: mcp.CodeHeaderMismatch,
				Message: "header mismatch: the Mcp-Name header is not the request's taskId"})
			return
		}
		if slices.Contains(served, msg.Method) && !(current && slices.Contains(removedIn20260728, msg.Method)) {
			ctx := context.WithValue(r.Context(), rpcMethodKey{}, msg.Method)
			if hasProgressToken(msg.Params) {
				ctx = context.WithValue(ctx, wantsProgressKey{}, true)
			}
			next.ServeHTTP(w, r.WithContext(ctx))
			return
		}
		status := http.StatusOK
		if current {
			// The 2026-07-28 transport answers an unknown method with 404, as the SDK does.
			status = http.StatusNotFound
		}
		writeRPCError(w, status, msg.ID, &jsonrpc.Error{Code: jsonrpc.CodeMethodNotFound, Message: "method not found: " + msg.Method})
	})
}

// taskIDOf is the taskId of a request's params, or "" (params of another shape included).
func taskIDOf(params json.RawMessage) string {
	var p struct {
		TaskID string `json:"taskId"`
	}
	_ = json.Unmarshal(params, &p)
	return p.TaskID
}

// writeRPCError writes a JSON-RPC error response; id is the request's, or nil when there is
// none to answer.
func writeRPCError(w http.ResponseWriter, status int, id json.RawMessage, e *jsonrpc.Error) {
	resp := map[string]any{"jsonrpc": "2.0", "error": e}
	if id != nil {
		resp["id"] = id
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(resp)
}

type rpcMethodKey struct{}

// rpcMethod is the JSON-RPC method of the request methods let through, or "".
func rpcMethod(ctx context.Context) string {
	m, _ := ctx.Value(rpcMethodKey{}).(string)
	return m
}
