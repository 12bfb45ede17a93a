package mcpserver_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// vaultYAML is a domain with a write that an officer must approve first.
const vaultYAML = `
name: %[1]s
description: A vault whose writes need an officer's approval.
version: 1.0.0
permissions:
  - role: clerk
    tools: ["%[1]s.*"]
  - role: officer
    tools: ["%[1]s.*"]
tools:
  - name: get_record
    description: Fetch a record by its ID.
    annotations: {read_only: true, idempotent: true}
    input_schema: {type: object, properties: {record_id: {type: string}}}
  - name: guarded_write
    description: Writes a value once an officer approves.
    approval:
      approvers: [officer]
      timeout: 1h
      reason: Vault writes need an officer's approval.
    annotations: {destructive: true, idempotent: true, requires_approval: true}
    input_schema: {type: object, additionalProperties: false, properties: {value: {type: integer}}}
  - name: slow_write
    description: Writes a value, slowly.
    annotations: {idempotent: true}
    timeout: 2m
    input_schema: {type: object, properties: {value: {type: integer}}}
`

// rpcClient speaks JSON-RPC to /mcp as a 2026-07-28 client does: every request carries the
// protocol version, its client's identity and capabilities in _meta, and the routing headers.
type rpcClient struct {
	t      *testing.T
	url    string
	token  string
	tasks  bool
	nextID int
}

// call sends one request and returns the HTTP status and the decoded JSON-RPC response.
func (c *rpcClient) call(method string, params map[string]any) (int, map[string]any) {
	c.t.Helper()
	if params == nil {
		params = map[string]any{}
	}
	caps := map[string]any{}
	if c.tasks {
		caps["extensions"] = map[string]any{"io.modelcontextprotocol/tasks": map[string]any{}}
	}
	params["_meta"] = map[string]any{
		"io.modelcontextprotocol/protocolVersion":    "2026-07-28",
		"io.modelcontextprotocol/clientInfo":         map[string]any{"name": "tasks-test", "version": "1"},
		"io.modelcontextprotocol/clientCapabilities": caps,
	}
	c.nextID++
	b, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": c.nextID, "method": method, "params": params})
	require.NoError(c.t, err)
	req, err := http.NewRequest(http.MethodPost, c.url, bytes.NewReader(b))
	require.NoError(c.t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Mcp-Protocol-Version", "2026-07-28")
	req.Header.Set("Mcp-Method", method)
	if name, ok := params["name"].(string); ok {
		req.Header.Set("Mcp-Name", name)
	}
	if id, ok := params["taskId"].(string); ok {
		req.Header.Set("Mcp-Name", id)
	}
	if uri, ok := params["uri"].(string); ok {
		req.Header.Set("Mcp-Name", uri)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	var out map[string]any
	require.NoError(c.t, json.Unmarshal(raw, &out), string(raw))
	return resp.StatusCode, out
}

// result calls and requires a result.
func (c *rpcClient) result(method string, params map[string]any) map[string]any {
	c.t.Helper()
	_, out := c.call(method, params)
	require.Nil(c.t, out["error"], "%s answered an error", method)
	return out["result"].(map[string]any)
}

// rpcError calls and requires an error, returning its code.
func (c *rpcClient) rpcError(method string, params map[string]any) float64 {
	c.t.Helper()
	_, out := c.call(method, params)
	require.NotNil(c.t, out["error"], "%s answered %v", method, out["result"])
	return out["error"].(map[string]any)["code"].(float64)
}

func TestMCPTasks(t *testing.T) {
	f := newFixture(t)
	f.runDomainYAML(t, "vault", vaultYAML)
	f.waitTool(t, "vault.guarded_write", true)
	endpoint := f.MCP.URL + "/mcp"
	carl := &rpcClient{t: t, url: endpoint, token: f.Token(t, "carl", "clerk"), tasks: true}
	olga := f.Token(t, "olga", "officer")

	t.Run("OK server/discover declares what is served and the tasks extension", func(t *testing.T) {
		caps := carl.result("server/discover", nil)["capabilities"].(map[string]any)
		require.Contains(t, caps["extensions"], "io.modelcontextprotocol/tasks")
		require.NotContains(t, caps, "tasks", "the 2025-11-25 slot is not used")
		require.NotContains(t, caps, "completions")
		require.Equal(t, map[string]any{"listChanged": true}, caps["tools"], "tool list changes are notified to subscribers")
		for _, c := range []string{"prompts", "resources"} {
			require.Equal(t, map[string]any{}, caps[c], "%s: no list changes notified, no subscriptions", c)
		}
	})

	t.Run("OK the tool list is the caller's own: private cache scope", func(t *testing.T) {
		res := carl.result("tools/list", nil)
		require.Equal(t, "private", res["cacheScope"])
		require.Len(t, res["tools"], 3)
	})

	t.Run("OK prompts and resources: declared, and empty", func(t *testing.T) {
		require.Empty(t, carl.result("prompts/list", nil)["prompts"])
		require.Empty(t, carl.result("resources/list", nil)["resources"])
		require.Equal(t, float64(-32602), carl.rpcError("resources/read", map[string]any{"uri": "file:///etc/passwd"}))
	})

	t.Run("ErrUndeclaredMethods are methods not found", func(t *testing.T) {
		for _, m := range []string{"completion/complete", "tasks/list", "tasks/result", "ping"} {
			status, out := carl.call(m, nil)
			require.Equal(t, http.StatusNotFound, status, m)
			require.Equal(t, float64(-32601), out["error"].(map[string]any)["code"], m)
		}
	})

	t.Run("OK a call that needs no approval answers at once with its result", func(t *testing.T) {
		res := carl.result("tools/call", map[string]any{"name": "vault__get_record", "arguments": map[string]any{"record_id": "R001"}})
		require.NotContains(t, res, "taskId")
		require.Equal(t, "complete", res["resultType"])
	})

	var taskID, approvalID string
	t.Run("OK an approval-needing call returns a task in input_required, its ID the workflow's", func(t *testing.T) {
		res := carl.result("tools/call", map[string]any{"name": "vault__guarded_write", "arguments": map[string]any{"value": 7}})
		require.Equal(t, "task", res["resultType"])
		require.Equal(t, "input_required", res["status"])
		require.Equal(t, map[string]any{}, res["inputRequests"])
		require.Positive(t, res["ttlMs"])
		require.Positive(t, res["pollIntervalMs"])
		taskID = res["taskId"].(string)
		require.True(t, strings.HasPrefix(taskID, "tool-"))
		desc, err := f.Env.Temporal.DescribeWorkflowExecution(t.Context(), taskID, "")
		require.NoError(t, err)
		require.Equal(t, taskID, desc.GetWorkflowExecutionInfo().GetExecution().GetWorkflowId())
		approvalID = res["_meta"].(map[string]any)["mcp-platform/approval"].(map[string]any)["id"].(string)

		got := carl.result("tasks/get", map[string]any{"taskId": taskID})
		require.Equal(t, "complete", got["resultType"])
		require.Equal(t, "input_required", got["status"])
		require.Contains(t, got["statusMessage"], approvalID)
		require.NotContains(t, got, "result")
	})

	t.Run("ErrOtherCaller does not see the task", func(t *testing.T) {
		other := &rpcClient{t: t, url: endpoint, token: f.Token(t, "cleo", "clerk"), tasks: true}
		require.Equal(t, float64(-32602), other.rpcError("tasks/get", map[string]any{"taskId": taskID}))
		require.Equal(t, float64(-32602), other.rpcError("tasks/cancel", map[string]any{"taskId": taskID}))
		admin := &rpcClient{t: t, url: endpoint, token: f.Token(t, "root", "admin"), tasks: true}
		require.Equal(t, "input_required", admin.result("tasks/get", map[string]any{"taskId": taskID})["status"], "an admin sees every task")
	})

	t.Run("ErrNoTasksCapability is -32021 on task methods, and no task from tools/call", func(t *testing.T) {
		plain := &rpcClient{t: t, url: endpoint, token: carl.token}
		require.Equal(t, float64(-32021), plain.rpcError("tasks/get", map[string]any{"taskId": taskID}))
		res := plain.result("tools/call", map[string]any{"name": "vault__guarded_write", "arguments": map[string]any{"value": 1}})
		require.NotContains(t, res, "taskId")
		require.NotEqual(t, true, res["isError"], "a call waiting for approval has not failed")
		require.Contains(t, res["content"].([]any)[0].(map[string]any)["text"], "Approval required")
	})

	t.Run("OK after the approver decides, tasks/get reports completed with the result", func(t *testing.T) {
		code, _, apr := f.do(t, http.MethodGet, "/approvals/"+approvalID, olga, nil)
		require.Equal(t, http.StatusOK, code, apr)
		code, _, body := f.do(t, http.MethodPost, "/approvals/"+approvalID+"/decision", olga,
			map[string]any{"decision": "approve", "args_hash": apr["args_hash"]})
		require.Equal(t, http.StatusOK, code, body)
		var got map[string]any
		require.Eventually(t, func() bool {
			got = carl.result("tasks/get", map[string]any{"taskId": taskID})
			return got["status"] != "input_required" && got["status"] != "working"
		}, 30*time.Second, 200*time.Millisecond)
		require.Equal(t, "completed", got["status"])
		result := got["result"].(map[string]any)
		require.NotEqual(t, true, result["isError"])
		require.Equal(t, map[string]any{"written": float64(7)}, result["structuredContent"])
	})

	t.Run("OK tasks/cancel cancels the workflow; cancelling again is acknowledged", func(t *testing.T) {
		res := carl.result("tools/call", map[string]any{"name": "vault__guarded_write", "arguments": map[string]any{"value": 9}})
		id := res["taskId"].(string)
		require.Equal(t, "complete", carl.result("tasks/cancel", map[string]any{"taskId": id})["resultType"])
		var got map[string]any
		require.Eventually(t, func() bool {
			got = carl.result("tasks/get", map[string]any{"taskId": id})
			return got["status"] == "cancelled"
		}, 30*time.Second, 200*time.Millisecond, "last: %v", got)
		require.Equal(t, "complete", carl.result("tasks/cancel", map[string]any{"taskId": id})["resultType"])
		require.Equal(t, 1, auditRows(t, f, "tool = 'vault.guarded_write' AND outcome = 'succeeded'"), "only the approved call ran")
	})

	t.Run("OK a call still running after a moment becomes a working task, then completes", func(t *testing.T) {
		res := carl.result("tools/call", map[string]any{"name": "vault__slow_write", "arguments": map[string]any{"value": 3}})
		require.Equal(t, "task", res["resultType"])
		require.Equal(t, "working", res["status"])
		id := res["taskId"].(string)
		require.Equal(t, "working", carl.result("tasks/get", map[string]any{"taskId": id})["status"])
		close(f.backend.release)
		var got map[string]any
		require.Eventually(t, func() bool {
			got = carl.result("tasks/get", map[string]any{"taskId": id})
			return got["status"] == "completed"
		}, 30*time.Second, 200*time.Millisecond, "last: %v", got)
		require.Equal(t, map[string]any{"written": float64(3)}, got["result"].(map[string]any)["structuredContent"])
	})

	t.Run("ErrUnknownTask is -32602", func(t *testing.T) {
		require.Equal(t, float64(-32602), carl.rpcError("tasks/get", map[string]any{"taskId": "tool-00000000-0000-0000-0000-000000000000"}))
		require.Equal(t, float64(-32602), carl.rpcError("tasks/update", map[string]any{"taskId": "chat-x-1", "inputResponses": map[string]any{}}))
	})
}
