package mcpserver

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// reached is the handler behind the layers under test: it answers 299 so a test sees it ran.
var reached = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(299) })

func TestOrigins(t *testing.T) {
	h := origins("http://127.0.0.1:8001", []string{"https://app.example.com"}, reached)
	serve := func(method, origin string, headers map[string]string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, "/mcp", strings.NewReader(`{}`))
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		for k, v := range headers {
			r.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}

	t.Run("OK no Origin (not a browser) passes without CORS", func(t *testing.T) {
		w := serve(http.MethodPost, "", nil)
		require.Equal(t, 299, w.Code)
		require.Empty(t, w.Header().Get("Access-Control-Allow-Origin"))
	})
	t.Run("OK the server's own origin and allowed ones pass with CORS", func(t *testing.T) {
		for _, o := range []string{"http://127.0.0.1:8001", "https://app.example.com"} {
			w := serve(http.MethodPost, o, nil)
			require.Equal(t, 299, w.Code, o)
			require.Equal(t, o, w.Header().Get("Access-Control-Allow-Origin"))
			require.Contains(t, w.Header().Get("Access-Control-Expose-Headers"), "Mcp-Session-Id")
		}
	})
	t.Run("OK a loopback origin only on a loopback address", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodPost, "/mcp", strings.NewReader(`{}`))
		r.Header.Set("Origin", "http://localhost:6274")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8001})))
		require.Equal(t, 299, w.Code)
		w = httptest.NewRecorder()
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, &net.TCPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 8001})))
		require.Equal(t, http.StatusForbidden, w.Code)
	})
	t.Run("ErrForeignOrigin is 403 with a JSON-RPC error", func(t *testing.T) {
		w := serve(http.MethodPost, "http://evil.example", nil)
		require.Equal(t, http.StatusForbidden, w.Code)
		var body map[string]any
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body))
		require.Equal(t, "2.0", body["jsonrpc"])
		require.NotContains(t, body, "id")
		require.Contains(t, body["error"].(map[string]any)["message"], "http://evil.example")
		require.Empty(t, w.Header().Get("Access-Control-Allow-Origin"))
	})
	t.Run("OK preflight of an allowed origin is answered before authentication", func(t *testing.T) {
		w := serve(http.MethodOptions, "https://app.example.com", map[string]string{
			"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type, mcp-protocol-version"})
		require.Equal(t, http.StatusNoContent, w.Code)
		require.Equal(t, "https://app.example.com", w.Header().Get("Access-Control-Allow-Origin"))
		require.Contains(t, w.Header().Get("Access-Control-Allow-Methods"), "POST")
		require.Equal(t, "authorization, content-type, mcp-protocol-version", w.Header().Get("Access-Control-Allow-Headers"))
	})
	t.Run("ErrPreflightForeignOrigin is 403", func(t *testing.T) {
		w := serve(http.MethodOptions, "http://evil.example", map[string]string{"Access-Control-Request-Method": "POST"})
		require.Equal(t, http.StatusForbidden, w.Code)
	})
}

func TestMethods(t *testing.T) {
	var body string
	h := methods([]string{"tools/list", "ping"}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		body = string(b)
		w.WriteHeader(299)
	}))
	post := func(msg, version string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/mcp", strings.NewReader(msg))
		if version != "" {
			r.Header.Set("Mcp-Protocol-Version", version)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	t.Run("OK a served method reaches the handler with its whole body", func(t *testing.T) {
		msg := `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`
		require.Equal(t, 299, post(msg, "").Code)
		require.Equal(t, msg, body)
	})
	t.Run("ErrRemovedMethod is -32601 at 2026-07-28 only", func(t *testing.T) {
		require.Equal(t, 299, post(`{"jsonrpc":"2.0","id":2,"method":"ping"}`, "2025-11-25").Code)
		w := post(`{"jsonrpc":"2.0","id":3,"method":"ping"}`, "2026-07-28")
		require.Equal(t, http.StatusNotFound, w.Code)
		require.Contains(t, w.Body.String(), "-32601")
	})
	t.Run("OK notifications and malformed bodies are the handler's", func(t *testing.T) {
		require.Equal(t, 299, post(`{"jsonrpc":"2.0","method":"notifications/initialized"}`, "").Code)
		require.Equal(t, 299, post(`not json`, "").Code)
	})
	for _, tt := range []struct {
		name, version string
		status        int
	}{{"2025-11-25", "2025-11-25", http.StatusOK}, {"2026-07-28", "2026-07-28", http.StatusNotFound}} {
		t.Run("ErrUnknownMethod is JSON-RPC -32601 at "+tt.name, func(t *testing.T) {
			w := post(`{"jsonrpc":"2.0","id":"a7","method":"prompts/list"}`, tt.version)
			require.Equal(t, tt.status, w.Code)
			require.Equal(t, "application/json", w.Header().Get("Content-Type"))
			var resp map[string]any
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &resp))
			require.Equal(t, "a7", resp["id"])
			require.Equal(t, float64(-32601), resp["error"].(map[string]any)["code"])
		})
	}
}
