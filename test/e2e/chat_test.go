package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"mcp-platform/domains"
	"mcp-platform/domains/domainconfig"
	"mcp-platform/domains/hr"
	"mcp-platform/domains/kit"
	"mcp-platform/internal/llm"
	"mcp-platform/internal/testutil/fakeopenai"
	"mcp-platform/internal/testutil/temporaltest"
	"mcp-platform/platform"
	"mcp-platform/platform/platformtest"
)

// ledgerYAML is a test domain with one side-effecting tool.
const ledgerYAML = `
name: ledger
description: A ledger whose entries count how often a side effect really happened.
permissions:
  - role: clerk
    tools: ["ledger.*"]
retry: {max_attempts: 3, initial_interval: 200ms}
tools:
  - name: add_entry
    description: Adds an entry to the ledger.
    annotations: {idempotent: true}
    input_schema:
      type: object
      required: [amount]
      properties:
        amount: {type: integer}
`

// ledger is the test domain's backend: it applies each idempotency key once.
type ledger struct {
	mu      sync.Mutex
	applied map[string]int
}

func (l *ledger) Call(_ context.Context, c domains.Call) (any, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, done := l.applied[c.IdempotencyKey]; !done {
		l.applied[c.IdempotencyKey] = int(c.Args["amount"].(float64))
	}
	return map[string]any{"entries": len(l.applied)}, nil
}

func (l *ledger) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.applied)
}

func ledgerDomain(t *testing.T, l *ledger) platformtest.Domain {
	t.Helper()
	dc, err := domainconfig.Parse("ledger.yaml", []byte(ledgerYAML))
	require.NoError(t, err)
	return platformtest.Domain{Config: dc, Factory: func(context.Context, kit.Deps) (domains.Adapter, error) { return l, nil }}
}

func compatible(t *testing.T, fake *fakeopenai.Server) llm.Provider {
	t.Helper()
	p, err := llm.NewOpenAI(llm.Config{Provider: "openai_compatible", APIBase: fake.BaseURL(), Model: "fake-model"})
	require.NoError(t, err)
	return p
}

func chat(t *testing.T, s *platformtest.Stack, token, message string) map[string]any {
	t.Helper()
	code, _, body := platformtest.Do(t, s.API.URL, http.MethodPost, "/chat", token, map[string]any{"message": message, "wait": true, "timeout_seconds": 120})
	require.Equal(t, http.StatusOK, code, body)
	return body
}

func messageRoles(t *testing.T, s *platformtest.Stack, conv string) []string {
	t.Helper()
	rows, err := s.Env.Pool.Query(context.Background(), `SELECT role FROM messages WHERE conversation_id = $1 ORDER BY turn, seq`, conv)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var r string
		require.NoError(t, rows.Scan(&r))
		out = append(out, r)
	}
	return out
}

// TestOpenAICompatibleTurn runs a turn through the openai_compatible provider against a server
// speaking the real protocol: two tool calls in one message, arguments split across deltas.
func TestOpenAICompatibleTurn(t *testing.T) {
	fake := fakeopenai.New(t,
		fakeopenai.Reply{Text: "Let me look.", ToolCalls: []fakeopenai.ToolCall{
			{Name: "hr__get_employee", Arguments: `{"employee_id": "E001"}`},
			{Name: "ledger__add_entry", Arguments: `{"amount": 42}`},
		}},
		fakeopenai.Reply{Text: "E001 is Sarah Johnson; the ledger has 1 entry."},
	)
	l := &ledger{applied: map[string]int{}}
	s := platformtest.Start(t, platformtest.Options{LLM: compatible(t, fake), Domains: map[string]kit.Factory{"hr": hr.New}, Extra: []platformtest.Domain{ledgerDomain(t, l)}})

	body := chat(t, s, s.Token(t, "pat", "hr_manager", "clerk"), "Who is E001? And add 42 to the ledger.")
	require.Equal(t, "completed", body["status"])
	require.Equal(t, "E001 is Sarah Johnson; the ledger has 1 entry.", body["answer"])
	require.Equal(t, 1, l.count())
	require.Equal(t, []string{"user", "assistant", "tool", "tool", "assistant"}, messageRoles(t, s, body["conversation_id"].(string)))

	reqs := fake.Requests()
	require.Len(t, reqs, 2)
	var offered []string
	for _, tl := range reqs[0]["tools"].([]any) {
		offered = append(offered, tl.(map[string]any)["function"].(map[string]any)["name"].(string))
	}
	require.Contains(t, offered, "hr__get_employee")
	require.Contains(t, offered, "ledger__add_entry")
	msgs := reqs[1]["messages"].([]any)
	last := msgs[len(msgs)-1].(map[string]any)
	require.Equal(t, "tool", last["role"])
	require.Equal(t, "call_1_1", last["tool_call_id"])

	// Each call's tokens are recorded as the server reported them (stream_options.include_usage).
	require.Equal(t, map[string]any{"include_usage": true}, reqs[0]["stream_options"])
	rows, err := s.Env.Pool.Query(context.Background(), `SELECT user_id, provider, model, prompt_tokens, completion_tokens
		FROM llm_usage WHERE conversation_id = $1 ORDER BY step`, body["conversation_id"])
	require.NoError(t, err)
	var got [][]any
	for rows.Next() {
		var user, provider, model string
		var prompt, completion int
		require.NoError(t, rows.Scan(&user, &provider, &model, &prompt, &completion))
		got = append(got, []any{user, provider, model, prompt, completion})
	}
	require.NoError(t, rows.Err())
	require.Len(t, got, 2, "one row per LLM call")
	require.Equal(t, []any{"pat", "fake-model"}, []any{got[0][0], got[0][2]}, "whose turn, and the model that answered")
	require.Equal(t, fakeopenai.Tokens("Let me look.")+fakeopenai.Tokens("hr__get_employee"+`{"employee_id": "E001"}`)+
		fakeopenai.Tokens("ledger__add_entry"+`{"amount": 42}`), got[0][4])
	require.Equal(t, fakeopenai.Tokens("E001 is Sarah Johnson; the ledger has 1 entry."), got[1][4])
	require.Greater(t, got[1][3], got[0][3], "the second prompt holds the first answer and the tool results")
}

// TestLLMFailures: transient errors are retried until the model answers; bad credentials fail
// the turn with a message that names the LLM configuration.
func TestLLMFailures(t *testing.T) {
	t.Run("OK two 503s then an answer", func(t *testing.T) {
		fake := fakeopenai.New(t, fakeopenai.Reply{Status: 503}, fakeopenai.Reply{Status: 503}, fakeopenai.Reply{Text: "Hello after retries."})
		s := platformtest.Start(t, platformtest.Options{LLM: compatible(t, fake)})
		body := chat(t, s, s.Token(t, "pat", "clerk"), "hi")
		require.Equal(t, "completed", body["status"])
		require.Equal(t, "Hello after retries.", body["answer"])
		require.Len(t, fake.Requests(), 3)
	})
	t.Run("ErrUnauthorized fails the turn naming the LLM settings", func(t *testing.T) {
		fake := fakeopenai.New(t, fakeopenai.Reply{Status: 401})
		s := platformtest.Start(t, platformtest.Options{LLM: compatible(t, fake)})
		body := chat(t, s, s.Token(t, "pat", "clerk"), "hi")
		require.Equal(t, "failed", body["status"])
		require.Contains(t, body["error"], "LLM_API_KEY")
		require.Len(t, fake.Requests(), 1, "bad credentials are not retried")
	})
}

// TestOrchestratorCrashMidTurn stops the orchestrator worker while the LLM's second step is in
// flight (after a tool ran) and starts a new one: the turn completes, the side effect happened
// once and no message is duplicated.
func TestOrchestratorCrashMidTurn(t *testing.T) {
	hold := make(chan struct{})
	t.Cleanup(func() { close(hold) })
	fake := fakeopenai.New(t,
		fakeopenai.Reply{ToolCalls: []fakeopenai.ToolCall{{Name: "ledger__add_entry", Arguments: `{"amount": 7}`}}},
		fakeopenai.Reply{Hold: hold}, // the crashed worker's step never returns
		fakeopenai.Reply{Text: "Added 7 to the ledger."},
	)
	l := &ledger{applied: map[string]int{}}
	s := platformtest.Start(t, platformtest.Options{Extra: []platformtest.Domain{ledgerDomain(t, l)}})
	provider := compatible(t, fake)

	// The first orchestrator has its own connection to Temporal, lost with it as in a crash.
	crashCtx, crash := context.WithCancel(context.Background())
	crashEnv := *s.Env
	crashEnv.Temporal = temporaltest.Client(t)
	crashed := make(chan error, 1)
	go func() { crashed <- platform.RunOrchestrator(crashCtx, &crashEnv, provider) }()

	code, _, body := platformtest.Do(t, s.API.URL, http.MethodPost, "/chat", s.Token(t, "pat", "clerk"), map[string]any{"message": "add 7"})
	require.Equal(t, http.StatusAccepted, code, body)
	conv, workflowID := body["conversation_id"].(string), body["workflow_id"].(string)

	for n := range fake.Arrived() {
		if n == 2 {
			break // the tool has run and the second LLM step is in flight
		}
	}
	require.Equal(t, 1, l.count())
	crash()
	require.NoError(t, <-crashed)
	crashEnv.Temporal.Close()

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go func() { _ = platform.RunOrchestrator(ctx, s.Env, provider) }()

	run := s.Env.Temporal.GetWorkflow(context.Background(), workflowID, "")
	wctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var res struct{ Status, Answer string }
	require.NoError(t, run.Get(wctx, &res))
	require.Equal(t, "completed", res.Status)
	require.Equal(t, "Added 7 to the ledger.", res.Answer)
	require.Equal(t, 1, l.count(), "the side effect happened once")
	require.Equal(t, []string{"user", "assistant", "tool", "assistant"}, messageRoles(t, s, conv), "no message duplicated")
	require.Len(t, fake.Requests(), 3)
}

// TestToolCallBounds: an LLM step proposing 300 calls runs at most the per-step limit; the
// excess is refused, audited once and told to the LLM.
func TestToolCallBounds(t *testing.T) {
	calls := make([]fakeopenai.ToolCall, 300)
	for i := range calls {
		calls[i] = fakeopenai.ToolCall{Name: "ledger__add_entry", Arguments: fmt.Sprintf(`{"amount": %d}`, i)}
	}
	fake := fakeopenai.New(t, fakeopenai.Reply{ToolCalls: calls}, fakeopenai.Reply{Text: "Done."})
	l := &ledger{applied: map[string]int{}}
	s := platformtest.Start(t, platformtest.Options{LLM: compatible(t, fake), Extra: []platformtest.Domain{ledgerDomain(t, l)}})

	body := chat(t, s, s.Token(t, "pat", "clerk"), "add everything")
	require.Equal(t, "completed", body["status"], body)
	require.Equal(t, 16, l.count(), "the default limit of one step")
	var refused int
	require.NoError(t, s.Env.Pool.QueryRow(context.Background(),
		`SELECT count(*) FROM audit_log WHERE user_id = 'pat' AND outcome = 'denied' AND error LIKE '284 tool calls were not run%'`).Scan(&refused))
	require.Equal(t, 1, refused)
	msgs := fake.Requests()[1]["messages"].([]any)
	var told bool
	for _, m := range msgs {
		if c, _ := m.(map[string]any)["content"].(string); strings.Contains(c, "284 tool calls were not run") {
			told = true
		}
	}
	require.True(t, told, "the LLM reads why the rest did not run")
}
