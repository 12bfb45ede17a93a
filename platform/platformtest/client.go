package platformtest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"
)

// Buffer is a log sink safe for concurrent writers; tests search it for leaked secrets.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Do sends a JSON request with a bearer token (when given) to base+path and decodes the JSON
// answer.
func Do(t *testing.T, base, method, path, token string, body any) (int, http.Header, map[string]any) {
	t.Helper()
	return DoWith(t, base, method, path, token, body, nil)
}

// DoWith is Do with further request headers (an MCP client's Accept and protocol version, say).
func DoWith(t *testing.T, base, method, path, token string, body any, header http.Header) (int, http.Header, map[string]any) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, base+path, r)
	require.NoError(t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var out map[string]any
	if len(raw) > 0 {
		require.NoError(t, json.Unmarshal(raw, &out), string(raw))
	}
	return resp.StatusCode, resp.Header, out
}

// bearer adds a token to every request of a real MCP client.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// MCPSession connects a real MCP client (the go-sdk's, over Streamable HTTP) to endpoint with a
// bearer token, closed when the test ends.
func MCPSession(t *testing.T, endpoint, token string) *mcp.ClientSession {
	t.Helper()
	return MCPSessionWith(t, endpoint, token, nil)
}

// MCPSessionWith is MCPSession with client options (handlers of notifications, for example).
func MCPSessionWith(t *testing.T, endpoint, token string, opts *mcp.ClientOptions) *mcp.ClientSession {
	t.Helper()
	client := mcp.NewClient(&mcp.Implementation{Name: "test-client", Version: "1.0"}, opts)
	cs, err := client.Connect(context.Background(), &mcp.StreamableClientTransport{
		Endpoint: endpoint, HTTPClient: &http.Client{Transport: bearer{token, http.DefaultTransport}},
	}, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

// Replicas reads a production deployment's replica count through POST /execute, as token.
func (s *Stack) Replicas(t *testing.T, token, deployment string) float64 {
	t.Helper()
	code, _, body := Do(t, s.MCP.URL, http.MethodPost, "/execute", token,
		map[string]any{"tool": "devops.list_deployments", "arguments": map[string]any{"namespace": "production"}})
	require.Equal(t, http.StatusOK, code, body)
	for _, d := range body["result"].(map[string]any)["deployments"].([]any) {
		if d := d.(map[string]any); d["name"] == deployment {
			return d["replicas"].(float64)
		}
	}
	t.Fatalf("no deployment %s", deployment)
	return 0
}
