package mcpserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"mcp-platform/api/mcpserver"
	"mcp-platform/authz"
	"mcp-platform/domains"
	"mcp-platform/domains/domainconfig"
	"mcp-platform/domains/mcpkind"
	"mcp-platform/domains/registry"
	"mcp-platform/platform"
	"mcp-platform/platform/platformtest"
)

// unprefixedYAML onboards, as domain %[1]s, an upstream MCP server (at %[2]s) whose tools /mcp
// publishes by their own names. The test onboards it as "relay", and again as "mirror", which
// publishes the same names.
const unprefixedYAML = `
name: %[1]s
description: An existing MCP server, proxied under its own tool names.
kind: mcp
mcp:
  url: %[2]s
  publish: unprefixed
permissions:
  - role: clerk
    tools: ["%[1]s.*"]
`

// relay is the upstream server: a plain tool, tools it runs as tasks (one of them only as a
// task), one that blocks until its call is cancelled, and one that fails with a protocol error.
type relay struct {
	url string
	// cancelled is closed when the upstream sees the call of hold cancelled.
	cancelled chan struct{}
	// crashes counts the calls of crash that reached the upstream.
	crashes atomic.Int32
}

func newRelay(t *testing.T) *relay {
	t.Helper()
	r := &relay{cancelled: make(chan struct{})}
	srv := mcp.NewServer(&mcp.Implementation{Name: "relay", Version: "1"}, nil)
	object := json.RawMessage(`{"type":"object"}`)
	reply := func(s string) mcp.ToolHandler {
		return func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: s}}}, nil
		}
	}
	srv.AddTool(&mcp.Tool{Name: "echo", Description: "Answers at once.", InputSchema: object}, reply("echoed"))
	srv.AddTool(&mcp.Tool{Name: "quick", Description: "A task that ends at once.", InputSchema: object}, reply("quick done"))
	srv.AddTool(&mcp.Tool{Name: "must_task", Description: "Runs only as a task.", InputSchema: object}, reply("task done"))
	srv.AddTool(&mcp.Tool{Name: "hold", Description: "Runs until cancelled.", InputSchema: object},
		func(ctx context.Context, _ *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			<-ctx.Done()
			close(r.cancelled)
			return nil, ctx.Err()
		})
	srv.AddTool(&mcp.Tool{Name: "crash", Description: "Fails with a protocol error.", InputSchema: object},
		func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			r.crashes.Add(1)
			return nil, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "the job crashed"}
		})
	mcpserver.PublishExecution(srv, map[string]string{"quick": domains.TaskSupportOptional, "hold": domains.TaskSupportOptional,
		"crash": domains.TaskSupportOptional, "must_task": domains.TaskSupportRequired})
	up := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, nil))
	t.Cleanup(up.Close)
	r.url = up.URL
	return r
}

// settled polls tasks/get until the task is no longer working and returns it.
func settled(t *testing.T, c *rpcClient, id string) map[string]any {
	t.Helper()
	var got map[string]any
	require.Eventually(t, func() bool {
		got = c.result("tasks/get", map[string]any{"taskId": id})
		return got["status"] != "working"
	}, 30*time.Second, 100*time.Millisecond, "last: %v", got)
	return got
}

func TestMCPUnprefixedUpstreamTasks(t *testing.T) {
	f := newFixture(t)
	up := newRelay(t)
	f.runDomainWith(t, fmt.Sprintf(unprefixedYAML, "relay", up.url), mcpkind.New)
	f.waitTool(t, "relay.hold", true)
	endpoint := f.MCP.URL + "/mcp"
	carl := &rpcClient{t: t, url: endpoint, token: f.Token(t, "carl", "clerk"), tasks: true}
	plain := &rpcClient{t: t, url: endpoint, token: carl.token}

	t.Run("OK tools/list publishes the upstream's names, with their task support", func(t *testing.T) {
		support := map[string]any{}
		for _, tool := range carl.result("tools/list", nil)["tools"].([]any) {
			m := tool.(map[string]any)
			support[m["name"].(string)] = m["execution"]
		}
		require.Equal(t, map[string]any{"echo": nil, "quick": map[string]any{"taskSupport": "optional"},
			"hold": map[string]any{"taskSupport": "optional"}, "crash": map[string]any{"taskSupport": "optional"},
			"must_task": map[string]any{"taskSupport": "required"}}, support)
	})

	t.Run("OK a call by the published name runs and is audited under the canonical name", func(t *testing.T) {
		res := plain.result("tools/call", map[string]any{"name": "echo", "arguments": map[string]any{}})
		require.Equal(t, "echoed", res["content"].([]any)[0].(map[string]any)["text"])
		require.Equal(t, 1, auditRows(t, f, "tool = 'relay.echo' AND user_id = 'carl' AND outcome = 'succeeded'"))
		code, _, info := f.do(t, http.MethodGet, "/tools/relay.echo", carl.token, nil)
		require.Equal(t, http.StatusOK, code, info)
		require.Equal(t, "relay.echo", info["name"], "REST keeps the canonical name")
		require.Equal(t, "echo", info["mcp_name"])
	})

	t.Run("ErrNameTaken a second domain publishing the same names is refused", func(t *testing.T) {
		dc, err := domainconfig.Parse("", []byte(fmt.Sprintf(unprefixedYAML, "mirror", up.url)))
		require.NoError(t, err)
		err = platform.RunDomainWorker(t.Context(), f.Env, dc, mcpkind.New)
		require.ErrorIs(t, err, registry.ErrNameTaken)
		require.Contains(t, err.Error(), `which is relay.crash's name there`)
		require.Equal(t, 1, auditRows(t, f, "tool = 'mirror.(register)' AND outcome = 'denied'"))
		require.Equal(t, "echoed", plain.result("tools/call", map[string]any{"name": "echo", "arguments": map[string]any{}})["content"].([]any)[0].(map[string]any)["text"],
			"the name stays relay's")
	})

	t.Run("ErrInsufficientScope names the canonical tool of a published name", func(t *testing.T) {
		tok, _, err := f.Services.Issuer.Issue(authz.Principal{Subject: "sam", Roles: []string{"clerk"}, Scopes: []string{"tools:other.*"}})
		require.NoError(t, err)
		code, h, body := platformtest.Do(t, f.MCP.URL, http.MethodPost, "/mcp", tok, map[string]any{"jsonrpc": "2.0", "id": 1,
			"method": "tools/call", "params": map[string]any{"name": "echo", "arguments": map[string]any{}}})
		require.Equal(t, http.StatusForbidden, code, body)
		require.Contains(t, h.Get("WWW-Authenticate"), `scope="tools:relay.echo"`)
	})

	t.Run("OK a task-supporting tool is a task at once, even one that ends at once", func(t *testing.T) {
		res := carl.result("tools/call", map[string]any{"name": "quick", "arguments": map[string]any{}})
		require.Equal(t, "task", res["resultType"], "%v", res)
		got := settled(t, carl, res["taskId"].(string))
		require.Equal(t, "completed", got["status"])
		require.Equal(t, "quick done", got["result"].(map[string]any)["content"].([]any)[0].(map[string]any)["text"])
	})

	t.Run("OK without the extension a task-supporting tool is a plain call", func(t *testing.T) {
		res := plain.result("tools/call", map[string]any{"name": "quick", "arguments": map[string]any{}})
		require.NotContains(t, res, "taskId")
		require.Equal(t, "complete", res["resultType"])
		require.Equal(t, "quick done", res["content"].([]any)[0].(map[string]any)["text"])
	})

	t.Run("ErrMissingCapability for a tool that runs only as a task", func(t *testing.T) {
		_, out := plain.call("tools/call", map[string]any{"name": "must_task", "arguments": map[string]any{}})
		e := out["error"].(map[string]any)
		require.Equal(t, float64(-32021), e["code"])
		require.Contains(t, fmt.Sprint(e["data"]), "io.modelcontextprotocol/tasks")
	})

	t.Run("ErrProtocolError is a failed task with the error and no result, not retried", func(t *testing.T) {
		res := carl.result("tools/call", map[string]any{"name": "crash", "arguments": map[string]any{}})
		got := settled(t, carl, res["taskId"].(string))
		require.Equal(t, "failed", got["status"], "%v", got)
		require.NotContains(t, got, "result")
		e := got["error"].(map[string]any)
		require.Equal(t, float64(jsonrpc.CodeInternalError), e["code"])
		require.Contains(t, e["message"], "the relay MCP server failed the call")
		require.Contains(t, e["message"], "the job crashed")
		require.Equal(t, int32(1), up.crashes.Load(), "an answered call is not sent again")
		require.Equal(t, 1, auditRows(t, f, "tool = 'relay.crash' AND outcome = 'failed'"))
	})

	t.Run("OK tasks/cancel cancels the upstream call and the task", func(t *testing.T) {
		res := carl.result("tools/call", map[string]any{"name": "hold", "arguments": map[string]any{}})
		id := res["taskId"].(string)
		require.Equal(t, "working", res["status"])
		require.Equal(t, "complete", carl.result("tasks/cancel", map[string]any{"taskId": id})["resultType"])
		require.Equal(t, "cancelled", settled(t, carl, id)["status"])
		select {
		case <-up.cancelled:
		case <-time.After(30 * time.Second):
			t.Fatal("the upstream call of hold was not cancelled")
		}

		t.Run("ErrHeaderMismatch when Mcp-Name is not the taskId", func(t *testing.T) {
			header := http.Header{"Mcp-Protocol-Version": {"2026-07-28"}, "Mcp-Method": {"tasks/get"}, "Mcp-Name": {"tool-another"}}
			code, _, body := platformtest.DoWith(t, f.MCP.URL, http.MethodPost, "/mcp", carl.token,
				map[string]any{"jsonrpc": "2.0", "id": 1, "method": "tasks/get", "params": map[string]any{"taskId": id}}, header)
			require.Equal(t, http.StatusBadRequest, code, body)
			require.Equal(t, float64(mcp.CodeHeaderMismatch), body["error"].(map[string]any)["code"])
		})
	})
}
