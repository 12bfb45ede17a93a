// Package upstreams_test onboards real third-party MCP servers from the npm registry as domains
// of kind mcp, by YAML only, and checks that what they return reaches MCP clients (/mcp) and
// REST callers (/execute) unchanged. The servers are the packages of package.json beside this
// file, pinned by its lockfile; the test installs them with npm ci when they are missing, so it
// needs Node.js and npm (as the web UI's tests do).
package upstreams_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"mcp-platform/domains/domainconfig"
	"mcp-platform/domains/mcpkind"
	"mcp-platform/platform/platformtest"
)

// everythingYAML onboards @modelcontextprotocol/server-everything; %s is its mcp block. The YAML
// tightens get-sum (destructive, which also ends its upstream read-only hint) and claims echo is
// idempotent, which it already is upstream.
const everythingYAML = `
name: %s
description: The MCP reference server that exercises every feature of the protocol.
kind: mcp
mcp:
%s
permissions:
  - role: tester
    tools: ["%s.*"]
tools:
  - name: get_sum
    remote: get-sum
    description: Adds two numbers.
    annotations: {destructive: true}
`

// everythingDir is where npm installs the server.
func everythingDir(t *testing.T) string {
	t.Helper()
	root := filepath.Join(platformtest.RepoRoot(), "test", "upstreams")
	dist := filepath.Join(root, "node_modules", "@modelcontextprotocol", "server-everything", "dist", "index.js")
	installOnce.Do(func() {
		if _, err := os.Stat(dist); err == nil {
			return
		}
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		installErr = fmt.Errorf("npm ci in %s: %w\n%s", root, err, out)
		if err == nil {
			installErr = nil
		}
	})
	require.NoError(t, installErr, "the test needs Node.js and npm to install test/upstreams (see package.json there)")
	return dist
}

var (
	installOnce sync.Once
	installErr  error
)

// node is the Node.js binary.
func node(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("node")
	require.NoError(t, err, "the test needs Node.js")
	return p
}

// serveHTTP starts server-everything over Streamable HTTP on a free port and returns its URL.
func serveHTTP(t *testing.T, dist string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	cmd := exec.Command(node(t), dist, "streamableHttp")
	cmd.Env = append(os.Environ(), fmt.Sprintf("PORT=%d", port))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	url := fmt.Sprintf("http://127.0.0.1:%d/mcp", port)
	require.Eventually(t, func() bool {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			_ = c.Close()
		}
		return err == nil
	}, 60*time.Second, 100*time.Millisecond, "server-everything did not listen")
	return url
}

// direct connects an MCP client straight to the upstream, for what it answers without us.
func direct(t *testing.T, transport mcp.Transport) *mcp.ClientSession {
	t.Helper()
	c := mcp.NewClient(&mcp.Implementation{Name: "direct", Version: "1"}, &mcp.ClientOptions{Capabilities: &mcp.ClientCapabilities{}})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := c.Connect(ctx, transport, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// wire is a tools/call result in its JSON form.
type wire struct {
	Content           []map[string]any `json:"content"`
	StructuredContent any              `json:"structuredContent,omitempty"`
	IsError           bool             `json:"isError,omitempty"`
}

func asWire(t *testing.T, res *mcp.CallToolResult) wire {
	t.Helper()
	b, err := json.Marshal(res)
	require.NoError(t, err)
	var w wire
	require.NoError(t, json.Unmarshal(b, &w))
	return w
}

// clock is the time of day server-everything writes into the resources it makes on each call.
var clock = regexp.MustCompile(`\d{1,2}:\d{2}:\d{2}\s?[AP]M`)

// steady replaces, in place, the time of day in w's embedded resources (their text, or their
// base64 blob) by a placeholder: two calls a second apart then compare equal.
func steady(t *testing.T, w wire) wire {
	t.Helper()
	for _, b := range w.Content {
		r, ok := b["resource"].(map[string]any)
		if !ok {
			continue
		}
		if text, ok := r["text"].(string); ok {
			r["text"] = clock.ReplaceAllString(text, "<time>")
		}
		if blob, ok := r["blob"].(string); ok {
			raw, err := base64.StdEncoding.DecodeString(blob)
			require.NoError(t, err)
			r["blob"] = base64.StdEncoding.EncodeToString(clock.ReplaceAll(raw, []byte("<time>")))
		}
	}
	return w
}

// calls are the tools and arguments compared, and what each must hold.
var calls = []struct {
	remote string
	args   map[string]any
	holds  []string // content block types the answer must contain
	// structured: the answer must have structured content
	structured bool
}{
	{remote: "echo", args: map[string]any{"message": "hi there"}, holds: []string{"text"}},
	{remote: "get-tiny-image", args: map[string]any{}, holds: []string{"text", "image"}},
	{remote: "get-annotated-message", args: map[string]any{"messageType": "error", "includeImage": true}, holds: []string{"text", "image"}},
	{remote: "get-resource-links", args: map[string]any{"count": 2}, holds: []string{"text", "resource_link"}},
	{remote: "get-resource-reference", args: map[string]any{"resourceType": "Text", "resourceId": 2}, holds: []string{"text", "resource"}},
	{remote: "get-resource-reference", args: map[string]any{"resourceType": "Blob", "resourceId": 3}, holds: []string{"resource"}},
	{remote: "get-structured-content", args: map[string]any{"location": "Chicago"}, holds: []string{"text"}, structured: true},
}

func TestServerEverything(t *testing.T) {
	dist := everythingDir(t)
	httpURL := serveHTTP(t, dist)
	transports := []struct {
		name, mcpBlock string
		direct         func() mcp.Transport
	}{
		{name: "stdio", mcpBlock: fmt.Sprintf("  command: %s\n  args: [%q, stdio]", node(t), dist),
			direct: func() mcp.Transport { return &mcp.CommandTransport{Command: exec.Command(node(t), dist, "stdio")} }},
		{name: "http", mcpBlock: fmt.Sprintf("  url: %s", httpURL),
			direct: func() mcp.Transport {
				return &mcp.StreamableClientTransport{Endpoint: httpURL, DisableStandaloneSSE: true}
			}},
	}
	var extra []platformtest.Domain
	for _, tr := range transports {
		name := "every" + tr.name
		cfg, err := domainconfig.Parse(name+".yaml", []byte(fmt.Sprintf(everythingYAML, name, tr.mcpBlock, name)))
		require.NoError(t, err)
		extra = append(extra, platformtest.Domain{Config: cfg, Factory: mcpkind.New})
	}
	s := platformtest.Start(t, platformtest.Options{Extra: extra})
	token := s.Token(t, "tess", "tester")
	client := platformtest.MCPSession(t, s.MCP.URL+"/mcp", token)

	for _, tr := range transports {
		name := "every" + tr.name
		t.Run(tr.name, func(t *testing.T) {
			up := direct(t, tr.direct())
			listed := map[string]*mcp.Tool{}
			for tool, err := range client.Tools(context.Background(), nil) {
				require.NoError(t, err)
				listed[tool.Name] = tool
			}

			t.Run("OK annotations and titles are the upstream's, tightened by the YAML", func(t *testing.T) {
				image := listed[name+"__get_tiny_image"]
				require.NotNil(t, image, "tools/list lists the upstream's tools")
				require.Equal(t, "Get Tiny Image Tool", image.Title)
				require.True(t, image.Annotations.ReadOnlyHint)
				require.True(t, image.Annotations.IdempotentHint)
				require.False(t, *image.Annotations.DestructiveHint)
				require.False(t, *image.Annotations.OpenWorldHint)
				sum := listed[name+"__get_sum"]
				require.NotNil(t, sum)
				require.False(t, sum.Annotations.ReadOnlyHint, "destructive in the YAML: no longer read-only")
				require.True(t, *sum.Annotations.DestructiveHint)
				logging := listed[name+"__toggle_simulated_logging"]
				require.NotNil(t, logging)
				require.False(t, logging.Annotations.IdempotentHint)
			})

			for _, c := range calls {
				safe := name + "__" + mcpkind.SanitizeName(c.remote)
				t.Run("OK "+c.remote+" arrives unchanged", func(t *testing.T) {
					ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
					defer cancel()
					want, err := up.CallTool(ctx, &mcp.CallToolParams{Name: c.remote, Arguments: c.args})
					require.NoError(t, err)
					wantWire := steady(t, asWire(t, want))
					var types []string
					for _, b := range wantWire.Content {
						types = append(types, b["type"].(string))
					}
					require.Subset(t, types, c.holds, "the upstream answers with these blocks")
					require.Equal(t, c.structured, wantWire.StructuredContent != nil)

					got, err := client.CallTool(ctx, &mcp.CallToolParams{Name: safe, Arguments: c.args})
					require.NoError(t, err)
					require.Equal(t, wantWire, steady(t, asWire(t, got)), "over /mcp")

					code, _, body := platformtest.Do(t, s.MCP.URL, http.MethodPost, "/execute", token,
						map[string]any{"tool": safe, "arguments": c.args})
					require.Equal(t, http.StatusOK, code, body)
					rest := wire{StructuredContent: body["result"], IsError: body["is_error"] == true}
					for _, b := range body["content"].([]any) {
						rest.Content = append(rest.Content, b.(map[string]any))
					}
					require.Equal(t, wantWire, steady(t, rest), "over /execute")
				})
			}

			testUpstreamProgress(t, s, token, name)

			t.Run("OK plain text is not re-wrapped", func(t *testing.T) {
				got, err := client.CallTool(context.Background(), &mcp.CallToolParams{Name: name + "__echo", Arguments: map[string]any{"message": "hi"}})
				require.NoError(t, err)
				require.Equal(t, []map[string]any{{"type": "text", "text": "Echo: hi"}}, asWire(t, got).Content)
			})
		})
	}
}
