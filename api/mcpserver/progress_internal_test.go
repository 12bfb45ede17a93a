package mcpserver

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestStreamProgressSelection(t *testing.T) {
	plain := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(298) })
	streaming := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(299) })
	h := methods(servedMethods, streamProgress(plain, streaming))
	for _, c := range []struct {
		name, body string
		want       int
	}{
		{"string token", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","_meta":{"progressToken":"abc"}}}`, 299},
		{"integer token", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","_meta":{"progressToken":7}}}`, 299},
		{"no token", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","_meta":{"traceparent":"00-1"}}}`, 298},
		{"null token", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","_meta":{"progressToken":null}}}`, 298},
		{"no params", `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, 298},
		{"positional params", `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":[1]}`, 298},
	} {
		t.Run("OK "+c.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/mcp", strings.NewReader(c.body)))
			require.Equal(t, c.want, w.Code)
		})
	}
	t.Run("ErrUnknownMethod with positional params is still method not found", func(t *testing.T) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"nope","params":[1]}`)))
		require.Equal(t, http.StatusOK, w.Code)
		require.Contains(t, w.Body.String(), "-32601")
	})
}
