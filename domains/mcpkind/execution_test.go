package mcpkind_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"mcp-platform/api/mcpserver"
	"mcp-platform/domains"
)

// jobsServer is an upstream whose tools report, run as a task when asked, run only as a task,
// and fail with a protocol error.
func jobsServer(t *testing.T, opts *mcp.StreamableHTTPOptions) string {
	t.Helper()
	srv := mcp.NewServer(&mcp.Implementation{Name: "jobs", Version: "1"}, nil)
	object := json.RawMessage(`{"type":"object"}`)
	done := func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "done"}}}, nil
	}
	for _, name := range []string{"report", "export", "rebuild"} {
		srv.AddTool(&mcp.Tool{Name: name, Description: "A job.", InputSchema: object}, done)
	}
	srv.AddTool(&mcp.Tool{Name: "crash", Description: "Fails.", InputSchema: object},
		func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return nil, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "the job crashed: password=hunter2\ngoroutine 7 [running]:\nmain.crash()"}
		})
	mcpserver.PublishExecution(srv, map[string]string{"export": domains.TaskSupportOptional, "rebuild": domains.TaskSupportRequired})
	up := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, opts))
	t.Cleanup(up.Close)
	return up.URL
}

func TestTaskSupport(t *testing.T) {
	for name, opts := range map[string]*mcp.StreamableHTTPOptions{
		"event stream answers": nil,
		"JSON answers":         {JSONResponse: true},
	} {
		t.Run("OK discovery keeps each tool's task support, "+name, func(t *testing.T) {
			a := newAdapter(t, wikiConfig(t, &domains.MCPSource{URL: jobsServer(t, opts)}), env(nil))
			tools, err := a.(domains.ToolSource).DiscoverTools(context.Background())
			require.NoError(t, err)
			support := map[string]string{}
			for _, tool := range tools {
				support[tool.Name] = tool.TaskSupport
			}
			require.Equal(t, map[string]string{"wiki.report": "", "wiki.export": "optional", "wiki.rebuild": "required", "wiki.crash": ""}, support)
		})
	}

	t.Run("ErrFailed for a protocol error of the upstream", func(t *testing.T) {
		a := newAdapter(t, wikiConfig(t, &domains.MCPSource{URL: jobsServer(t, nil)}), env(nil))
		_, err := call(a, "wiki.crash", nil)
		requireCode(t, err, domains.CodeFailed)
		var de *domains.Error
		require.ErrorAs(t, err, &de)
		require.Equal(t, "the wiki MCP server failed the call (error -32603): the job crashed: password=[REDACTED]", de.Message,
			"the first line only, without secrets")
	})
}
