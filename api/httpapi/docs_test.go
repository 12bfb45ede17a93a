package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"mcp-platform/api/httpapi"
)

// TestDocsOffline: /docs works on a machine without internet: the page and its viewer come from
// the binary, and the page loads nothing from anywhere else.
func TestDocsOffline(t *testing.T) {
	mux := http.NewServeMux()
	httpapi.New(mux, httpapi.Spec{Title: "Test API"})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		b := make([]byte, 0, 1<<21)
		buf := make([]byte, 32<<10)
		for {
			n, err := resp.Body.Read(buf)
			b = append(b, buf[:n]...)
			if err != nil {
				break
			}
		}
		return resp, string(b)
	}
	resp, page := get("/docs")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Content-Type"), "text/html")
	require.Contains(t, page, "Test API")
	require.Regexp(t, `/openapi\.json`, page)
	require.Empty(t, regexp.MustCompile(`(?i)(src|href)="https?://`).FindAllString(page, -1), "nothing is loaded from elsewhere")
	for _, asset := range regexp.MustCompile(`(?:src|href)="(/docs/assets/[^"]+)"`).FindAllStringSubmatch(page, -1) {
		resp, body := get(asset[1])
		require.Equal(t, http.StatusOK, resp.StatusCode, asset[1])
		require.Greater(t, len(body), 10000, asset[1])
	}
	resp, _ = get("/docs/assets/nothing.js")
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, spec := get("/openapi.json")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, spec, `"openapi"`)
}
