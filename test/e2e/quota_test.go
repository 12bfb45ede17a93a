package e2e_test

import (
	"context"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"mcp-platform/domains/hr"
	"mcp-platform/domains/kit"
	"mcp-platform/internal/config"
	"mcp-platform/internal/llm"
	"mcp-platform/internal/llm/mock"
	"mcp-platform/platform/platformtest"
)

// countingLLM counts the calls that reach the model.
type countingLLM struct {
	llm.Provider
	calls atomic.Int64
}

func (c *countingLLM) Complete(ctx context.Context, req llm.Request, onDelta func(string)) (llm.Response, error) {
	c.calls.Add(1)
	return c.Provider.Complete(ctx, req, onDelta)
}

// postMCP sends one JSON-RPC message to /mcp as token and returns the status, headers and body.
func postMCP(t *testing.T, s *platformtest.Stack, token string, msg map[string]any) (int, http.Header, map[string]any) {
	t.Helper()
	return platformtest.DoWith(t, s.MCP.URL, http.MethodPost, "/mcp", token, msg, http.Header{
		"Accept": {"application/json, text/event-stream"}, "Mcp-Protocol-Version": {"2025-11-25"}})
}

// TestRequestQuota: a user past the per-minute limit gets 429 with Retry-After, at the gateway
// API and at the MCP server (REST and /mcp share the bucket), while other users go on.
func TestRequestQuota(t *testing.T) {
	s := platformtest.Start(t, platformtest.Options{
		Domains: map[string]kit.Factory{"hr": hr.New},
		Config: func(c *config.Config) {
			c.Quota.APIRequestsPerMinute = 3
			c.Quota.MCPRequestsPerMinute = 3
		},
	})
	alice, bob := s.DemoToken(t, "alice"), s.DemoToken(t, "bob")

	t.Run("API", func(t *testing.T) {
		for i := range 3 {
			code, _, body := platformtest.Do(t, s.API.URL, http.MethodGet, "/conversations", alice, nil)
			require.Equal(t, http.StatusOK, code, "request %d: %v", i+1, body)
		}
		code, hdr, body := platformtest.Do(t, s.API.URL, http.MethodPost, "/chat", alice, map[string]any{"message": "get employee E001"})
		require.Equal(t, http.StatusTooManyRequests, code, body)
		after, err := strconv.Atoi(hdr.Get("Retry-After"))
		require.NoError(t, err, "Retry-After is whole seconds")
		require.InDelta(t, 20, after, 1, "one request comes back every 60/3 s")
		require.Contains(t, body["detail"], "each user may send 3 a minute")
		require.Zero(t, countRows(t, s, "SELECT count(*) FROM conversations"), "the refused turn wrote nothing")

		code, _, body = platformtest.Do(t, s.API.URL, http.MethodGet, "/conversations", bob, nil)
		require.Equal(t, http.StatusOK, code, body)
		code, _, _ = platformtest.Do(t, s.API.URL, http.MethodGet, "/livez", "", nil)
		require.Equal(t, http.StatusOK, code, "health checks are not a user's requests")
	})

	t.Run("MCP", func(t *testing.T) {
		// The API's requests above do not count here: each server has its own limit.
		code, _, body := platformtest.Do(t, s.MCP.URL, http.MethodGet, "/tools", alice, nil)
		require.Equal(t, http.StatusOK, code, body)
		cs := platformtest.MCPSession(t, s.MCP.URL+"/mcp", alice) // however many requests connecting takes
		var code2 int
		var hdr http.Header
		for i := 1; i <= 3; i++ {
			code2, hdr, body = postMCP(t, s, alice, map[string]any{"jsonrpc": "2.0", "id": 7, "method": "tools/list"})
			if code2 != http.StatusOK {
				break
			}
		}
		require.Equal(t, http.StatusTooManyRequests, code2, body)
		require.NotEmpty(t, hdr.Get("Retry-After"))
		require.Equal(t, float64(7), body["id"], "the JSON-RPC error answers the request")
		rpcErr := body["error"].(map[string]any)
		require.Equal(t, float64(-32000), rpcErr["code"])
		require.Contains(t, rpcErr["message"], "Try again in "+hdr.Get("Retry-After")+" s")
		require.Equal(t, hdr.Get("Retry-After"), strconv.Itoa(int(rpcErr["data"].(map[string]any)["retry_after_seconds"].(float64))))

		_, err := cs.ListTools(context.Background(), &mcp.ListToolsParams{})
		require.ErrorContains(t, err, "Too Many Requests", "a real MCP client sees the 429")
		code, _, _ = platformtest.Do(t, s.MCP.URL, http.MethodPost, "/execute", alice,
			map[string]any{"tool": "hr.get_employee", "arguments": map[string]any{"employee_id": "E001"}})
		require.Equal(t, http.StatusTooManyRequests, code, "REST shares the user's bucket with /mcp")

		bobs := platformtest.MCPSession(t, s.MCP.URL+"/mcp", bob)
		tools, err := bobs.ListTools(context.Background(), &mcp.ListToolsParams{})
		require.NoError(t, err, "other users are not affected")
		require.NotEmpty(t, tools.Tools)
	})
}

// TestTokenBudget: LLM tokens are recorded per call with the user and model; once a user's
// daily budget is spent, the next turn ends with a plain answer saying so and when it resets,
// and nothing runs: no LLM call, no tool call, no audit row.
func TestTokenBudget(t *testing.T) {
	model := &countingLLM{Provider: mock.New(hr.MockDemo())}
	s := platformtest.Start(t, platformtest.Options{
		LLM:     model,
		Domains: map[string]kit.Factory{"hr": hr.New},
		// One token: the first call of the day runs (nothing is spent yet) and spends it.
		Config: func(c *config.Config) { c.Quota.TokensPerDay = 1 },
	})
	alice := s.DemoToken(t, "alice")

	first := chat(t, s, alice, "hello")
	require.Equal(t, "completed", first["status"])
	require.Equal(t, int64(1), model.calls.Load())
	var user, modelName string
	var prompt, completion int
	require.NoError(t, s.Env.Pool.QueryRow(context.Background(), `SELECT user_id, model, prompt_tokens, completion_tokens
		FROM llm_usage WHERE conversation_id = $1 AND turn = 1 AND step = 1`, first["conversation_id"]).Scan(&user, &modelName, &prompt, &completion))
	require.Equal(t, "alice", user)
	require.Equal(t, mock.ModelName, modelName)
	require.Greater(t, prompt, 100, "the system prompt and the tools offered count")
	require.Positive(t, completion)

	conv := first["conversation_id"].(string)
	code, _, second := platformtest.Do(t, s.API.URL, http.MethodPost, "/chat", alice, map[string]any{
		"conversation_id": conv, "message": "get employee E001", "wait": true, "timeout_seconds": 120})
	require.Equal(t, http.StatusOK, code, second)
	require.Equal(t, "completed", second["status"])
	answer := second["answer"].(string)
	require.Contains(t, answer, "today's allowance of 1 LLM tokens")
	require.Contains(t, answer, "nothing more was run")
	require.Contains(t, answer, "resets at 00:00 UTC")
	require.Equal(t, int64(1), model.calls.Load(), "no LLM call")
	require.Zero(t, countRows(t, s, "SELECT count(*) FROM audit_log"), "no tool call, not even a refused one")
	require.Equal(t, []string{"user", "assistant", "user", "assistant"}, messageRoles(t, s, conv), "the notice is an assistant message")

	// The user reads it in their usage; bob, whose budget is untouched, chats on.
	code, _, rep := platformtest.Do(t, s.API.URL, http.MethodGet, "/usage", alice, nil)
	require.Equal(t, http.StatusOK, code, rep)
	require.Equal(t, true, rep["budget"].(map[string]any)["exceeded"])
	require.Equal(t, float64(prompt+completion), rep["today"].(map[string]any)["total_tokens"])
	bob := chat(t, s, s.DemoToken(t, "bob"), "hello")
	require.Equal(t, "completed", bob["status"])
	require.Equal(t, int64(2), model.calls.Load())
}
