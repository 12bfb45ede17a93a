package gateway_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"

	"mcp-platform/api/gateway"
	"mcp-platform/api/mcpserver"
	"mcp-platform/authz"
	"mcp-platform/domains"
	"mcp-platform/domains/devops"
	"mcp-platform/domains/domainconfig"
	"mcp-platform/domains/kit"
	"mcp-platform/internal/approvals"
	"mcp-platform/internal/llm"
	"mcp-platform/internal/llm/mock"
	"mcp-platform/internal/testutil/fakeopenai"
	"mcp-platform/internal/testutil/temporaltest"
	"mcp-platform/platform"
	"mcp-platform/platform/platformtest"
)

func chatFor(t *testing.T, s *platformtest.Stack, token string, body map[string]any) map[string]any {
	t.Helper()
	code, _, out := platformtest.Do(t, s.API.URL, http.MethodPost, "/chat", token, body)
	require.Contains(t, []int{http.StatusOK, http.StatusAccepted}, code, out)
	return out
}

// waitTurn waits for a turn's workflow and returns its result.
func waitTurn(t *testing.T, workflowID string) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var res map[string]any
	require.NoError(t, temporaltest.Client(t).GetWorkflow(ctx, workflowID, "").Get(ctx, &res))
	return res
}

// pendingFor waits until the user has exactly n approvals to decide and returns them.
func pendingFor(t *testing.T, s *platformtest.Stack, token string, n int) []map[string]any {
	t.Helper()
	var list []map[string]any
	require.Eventually(t, func() bool {
		_, _, body := platformtest.Do(t, s.API.URL, http.MethodGet, "/approvals", token, nil)
		list = nil
		for _, a := range body["approvals"].([]any) {
			list = append(list, a.(map[string]any))
		}
		return len(list) == n
	}, 20*time.Second, 100*time.Millisecond)
	return list
}

func decide(t *testing.T, s *platformtest.Stack, token string, a map[string]any, decision, comment string) (int, map[string]any) {
	t.Helper()
	code, _, body := platformtest.Do(t, s.API.URL, http.MethodPost, "/approvals/"+a["id"].(string)+"/decision", token,
		map[string]any{"decision": decision, "comment": comment, "args_hash": a["args_hash"]})
	return code, body
}

func searchAttr(t *testing.T, workflowID, name string) any {
	t.Helper()
	desc, err := temporaltest.Client(t).DescribeWorkflowExecution(context.Background(), workflowID, "")
	require.NoError(t, err)
	var v any
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(desc.GetWorkflowExecutionInfo().GetSearchAttributes().GetIndexedFields()[name], &v))
	return v
}

func countAudit(t *testing.T, s *platformtest.Stack, where string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, s.Env.Pool.QueryRow(context.Background(), "SELECT count(*) FROM audit_log WHERE "+where, args...).Scan(&n))
	return n
}

// TestApprovalDevOps follows a scale request from chat to an SRE lead's decision.
func TestApprovalDevOps(t *testing.T) {
	s := platformtest.Start(t, platformtest.Options{LLM: mock.New(devops.MockDemo()), Domains: map[string]kit.Factory{"devops": devops.New}})
	carol, dan, bob := s.DemoToken(t, "carol"), s.DemoToken(t, "dan"), s.DemoToken(t, "bob")

	turn := chatFor(t, s, carol, map[string]any{"message": "scale api-server to 4 replicas", "wait": true, "timeout_seconds": 3})
	conv, wf := turn["conversation_id"].(string), turn["workflow_id"].(string)
	require.Equal(t, "awaiting_approval", turn["status"], turn)
	require.Equal(t, "awaiting_approval", searchAttr(t, wf, "TurnStatus"), "findable in the Temporal UI")
	before := s.Replicas(t, carol, "api-server")

	t.Run("OK the pending approval shows in the conversation and its stream", func(t *testing.T) {
		_, _, body := platformtest.Do(t, s.API.URL, http.MethodGet, "/conversations/"+conv, carol, nil)
		apr := body["approvals"].([]any)
		require.Len(t, apr, 1)
		require.Equal(t, "pending", apr[0].(map[string]any)["status"])
		require.Equal(t, "awaiting_approval", body["turns"].([]any)[0].(map[string]any)["status"])
		evs := readEvents(t, s, carol, conv, 0, func(e gateway.StreamEvent) bool { return e.Type == "approval_requested" })
		var data map[string]any
		require.NoError(t, json.Unmarshal(evs[len(evs)-1].Data, &data))
		require.Equal(t, "devops.scale_deployment", data["tool"])
		require.Equal(t, float64(4), data["arguments"].(map[string]any)["replicas"])
	})

	var pending map[string]any
	t.Run("ErrFourEyes: the requester cannot approve", func(t *testing.T) {
		_, _, body := platformtest.Do(t, s.API.URL, http.MethodGet, "/approvals", carol, nil)
		require.Empty(t, body["approvals"])
		_, _, c := platformtest.Do(t, s.API.URL, http.MethodGet, "/conversations/"+conv, carol, nil)
		pending = c["approvals"].([]any)[0].(map[string]any)
		code, out := decide(t, s, carol, pending, "approve", "")
		require.Equal(t, http.StatusForbidden, code, out)
		require.Contains(t, out["detail"], "four eyes")
	})

	t.Run("ErrNotApprover is refused by the validator and audited", func(t *testing.T) {
		code, out := decide(t, s, bob, pending, "approve", "looks fine")
		require.Equal(t, http.StatusForbidden, code, out)
		require.Equal(t, 1, countAudit(t, s, "user_id = 'bob' AND outcome = 'denied' AND error LIKE 'approval decision refused%'"))
	})

	t.Run("ErrArgsMismatch", func(t *testing.T) {
		wrong := map[string]any{"id": pending["id"], "args_hash": "0000000000000000000000000000000000000000000000000000000000000000"}
		code, out := decide(t, s, dan, wrong, "approve", "")
		require.Equal(t, http.StatusConflict, code, out)
	})

	t.Run("ErrScopeNarrowed: a token whose scopes miss the tool neither sees nor decides", func(t *testing.T) {
		tok, _, _, err := s.Services.Issuer.IssueDemo("dan", []string{"tools:hr.list_departments"})
		require.NoError(t, err)
		_, _, body := platformtest.Do(t, s.API.URL, http.MethodGet, "/approvals", tok, nil)
		require.Empty(t, body["approvals"])
		code, _, _ := platformtest.Do(t, s.API.URL, http.MethodGet, "/approvals/"+pending["id"].(string), tok, nil)
		require.Equal(t, http.StatusNotFound, code)
		code, out := decide(t, s, tok, pending, "approve", "")
		require.Equal(t, http.StatusForbidden, code, out)
		require.Contains(t, out["detail"], "scopes")
		require.Equal(t, 1, countAudit(t, s, "user_id = 'dan' AND outcome = 'denied' AND error LIKE 'approval decision refused%'"))
	})

	t.Run("OK approve runs the call once", func(t *testing.T) {
		list := pendingFor(t, s, dan, 1)
		code, out := decide(t, s, dan, list[0], "approve", "ok for the launch")
		require.Equal(t, http.StatusOK, code, out)
		require.Equal(t, "approved", out["status"])
		res := waitTurn(t, wf)
		require.Equal(t, "completed", res["status"])
		require.Equal(t, float64(4), s.Replicas(t, carol, "api-server"))
		require.NotEqual(t, before, float64(4))
		require.Equal(t, 1, countAudit(t, s, "tool = 'devops.scale_deployment' AND outcome = 'succeeded' AND approver = 'dan'"))
		code, _ = decide(t, s, dan, list[0], "approve", "")
		require.Equal(t, http.StatusConflict, code, "a decided call is not pending any more")
	})

	t.Run("OK reject does not run and the answer says so", func(t *testing.T) {
		turn := chatFor(t, s, carol, map[string]any{"message": "scale web-frontend to 7 replicas"})
		list := pendingFor(t, s, dan, 1)
		code, _ := decide(t, s, dan, list[0], "reject", "not during the freeze")
		require.Equal(t, http.StatusOK, code)
		res := waitTurn(t, turn["workflow_id"].(string))
		require.Contains(t, res["answer"], "rejected")
		require.NotEqual(t, float64(7), s.Replicas(t, carol, "web-frontend"))
		require.Equal(t, 1, countAudit(t, s, "tool = 'devops.scale_deployment' AND outcome = 'rejected' AND approver = 'dan'"))
	})
}

// vaultYAML is a test domain whose transfers above 100 need a treasurer, and whose releases
// expire quickly.
const vaultYAML = `
name: vault
description: A vault.
permissions:
  - role: teller
    tools: ["vault.*"]
  - role: treasurer
    tools: ["vault.*"]
    actions: [execute, approve]
tools:
  - name: transfer
    description: Transfers an amount.
    annotations: {idempotent: true}
    approval: {when: 'args.amount > 100', timeout: 1h}
    input_schema: {type: object, required: [amount], properties: {amount: {type: integer}}}
  - name: release
    description: Releases the vault.
    annotations: {requires_approval: true}
    approval: {timeout: 2s}
`

type vault struct {
	mu   sync.Mutex
	done map[string]string
}

func (v *vault) Call(_ context.Context, c domains.Call) (any, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.done[c.IdempotencyKey] = c.Tool
	return map[string]any{"ok": true}, nil
}

func (v *vault) count(tool string) int {
	v.mu.Lock()
	defer v.mu.Unlock()
	n := 0
	for _, t := range v.done {
		if t == tool {
			n++
		}
	}
	return n
}

func vaultStack(t *testing.T, fake *fakeopenai.Server, withOrchestrator bool) (*platformtest.Stack, *vault, llm.Provider) {
	t.Helper()
	v := &vault{done: map[string]string{}}
	dc, err := domainconfig.Parse("vault.yaml", []byte(vaultYAML))
	require.NoError(t, err)
	p, err := llm.NewOpenAI(llm.Config{Provider: "openai_compatible", APIBase: fake.BaseURL(), Model: "fake"})
	require.NoError(t, err)
	opts := platformtest.Options{Extra: []platformtest.Domain{{Config: dc, Factory: func(context.Context, kit.Deps) (domains.Adapter, error) { return v, nil }}}}
	if withOrchestrator {
		opts.LLM = p
	}
	return platformtest.Start(t, opts), v, p
}

func transfer(amount string) fakeopenai.ToolCall {
	return fakeopenai.ToolCall{Name: "vault__transfer", Arguments: `{"amount": ` + amount + `}`}
}

func TestApprovalPolicy(t *testing.T) {
	t.Run("OK the condition: a small transfer runs, a large one waits", func(t *testing.T) {
		fake := fakeopenai.New(t,
			fakeopenai.Reply{ToolCalls: []fakeopenai.ToolCall{transfer("50")}}, fakeopenai.Reply{Text: "done"},
			fakeopenai.Reply{ToolCalls: []fakeopenai.ToolCall{transfer("500")}}, fakeopenai.Reply{Text: "done"})
		s, v, _ := vaultStack(t, fake, true)
		tok := s.Token(t, "tim", "teller")
		small := chatFor(t, s, tok, map[string]any{"message": "send 50", "wait": true})
		require.Equal(t, "completed", small["status"])
		require.Equal(t, 1, v.count("vault.transfer"))
		large := chatFor(t, s, tok, map[string]any{"message": "send 500", "wait": true, "timeout_seconds": 2, "conversation_id": small["conversation_id"]})
		require.Equal(t, "awaiting_approval", large["status"])
		require.Equal(t, 1, v.count("vault.transfer"), "the large transfer waits")
	})

	t.Run("OK expiry: the call does not run", func(t *testing.T) {
		fake := fakeopenai.New(t, fakeopenai.Reply{ToolCalls: []fakeopenai.ToolCall{{Name: "vault__release", Arguments: `{}`}}}, fakeopenai.Reply{Text: "It expired."})
		s, v, _ := vaultStack(t, fake, true)
		turn := chatFor(t, s, s.Token(t, "tim", "teller"), map[string]any{"message": "release"})
		res := waitTurn(t, turn["workflow_id"].(string))
		require.Equal(t, "completed", res["status"])
		require.Zero(t, v.count("vault.release"))
		msgs := fake.Requests()[1]["messages"].([]any)
		require.Contains(t, msgs[len(msgs)-1].(map[string]any)["content"], "expired", "the LLM is told")
		require.Equal(t, 1, countAudit(t, s, "tool = 'vault.release' AND outcome = 'expired'"))
	})

	t.Run("OK two pending calls are decided independently", func(t *testing.T) {
		fake := fakeopenai.New(t, fakeopenai.Reply{ToolCalls: []fakeopenai.ToolCall{transfer("200"), transfer("300")}}, fakeopenai.Reply{Text: "One went through."})
		s, v, _ := vaultStack(t, fake, true)
		turn := chatFor(t, s, s.Token(t, "tim", "teller"), map[string]any{"message": "send 200 and 300"})
		ted := s.Token(t, "ted", "treasurer")
		list := pendingFor(t, s, ted, 2)
		for _, a := range list {
			decision := "reject"
			if a["arguments"].(map[string]any)["amount"] == float64(200) {
				decision = "approve"
			}
			code, out := decide(t, s, ted, a, decision, "")
			require.Equal(t, http.StatusOK, code, out)
		}
		waitTurn(t, turn["workflow_id"].(string))
		require.Equal(t, 1, v.count("vault.transfer"))
		require.Equal(t, 1, countAudit(t, s, "tool = 'vault.transfer' AND outcome = 'succeeded' AND params->>'amount' = '200'"))
		require.Equal(t, 1, countAudit(t, s, "tool = 'vault.transfer' AND outcome = 'rejected' AND params->>'amount' = '300'"))
	})

	t.Run("OK a worker restart while waiting loses nothing", func(t *testing.T) {
		fake := fakeopenai.New(t, fakeopenai.Reply{ToolCalls: []fakeopenai.ToolCall{transfer("900")}}, fakeopenai.Reply{Text: "Sent."})
		s, v, provider := vaultStack(t, fake, false)
		ctx1, stop1 := context.WithCancel(context.Background())
		done1 := make(chan error, 1)
		go func() { done1 <- platform.RunOrchestrator(ctx1, s.Env, provider) }()
		turn := chatFor(t, s, s.Token(t, "tim", "teller"), map[string]any{"message": "send 900"})
		ted := s.Token(t, "ted", "treasurer")
		list := pendingFor(t, s, ted, 1)
		stop1()
		require.NoError(t, <-done1)

		ctx2, stop2 := context.WithCancel(context.Background())
		defer stop2()
		go func() { _ = platform.RunOrchestrator(ctx2, s.Env, provider) }()
		code, out := decide(t, s, ted, list[0], "approve", "")
		require.Equal(t, http.StatusOK, code, out)
		res := waitTurn(t, turn["workflow_id"].(string))
		require.Equal(t, "Sent.", res["answer"])
		require.Equal(t, 1, v.count("vault.transfer"))
	})
}

// TestExecuteNeedsApproval: /execute and MCP never hang on a person, and answer only once the
// request for approval is recorded, so that it can be decided at once.
func TestExecuteNeedsApproval(t *testing.T) {
	s, v, _ := vaultStack(t, fakeopenai.New(t, fakeopenai.Reply{Text: "unused"}), false)
	tim, ted := s.Token(t, "tim", "teller"), s.Token(t, "ted", "treasurer")
	execute := func(t *testing.T, amount int) (follow string, apr map[string]any) {
		t.Helper()
		code, _, body := platformtest.Do(t, s.MCP.URL, http.MethodPost, "/execute", tim, map[string]any{"tool": "vault.transfer", "arguments": map[string]any{"amount": amount}})
		require.Equal(t, http.StatusAccepted, code, body)
		require.Equal(t, "pending_approval", body["status"])
		return body["follow_url"].(string), body["approval"].(map[string]any)
	}
	followed := func(t *testing.T, follow string) (int, map[string]any) {
		t.Helper()
		code, _, body := platformtest.Do(t, s.MCP.URL, http.MethodGet, follow, tim, nil)
		return code, body
	}

	t.Run("OK the approver decides as soon as /execute answers", func(t *testing.T) {
		for i := range 3 {
			follow, apr := execute(t, 700+i)
			code, _, out := platformtest.Do(t, s.MCP.URL, http.MethodPost, apr["decision_url"].(string), ted, map[string]any{"decision": "approve", "args_hash": apr["args_hash"]})
			require.Equal(t, http.StatusOK, code, "decision %d at once: %v", i, out)
			require.Eventually(t, func() bool {
				code, _ := followed(t, follow)
				return code == http.StatusOK
			}, 20*time.Second, 100*time.Millisecond)
			_, res := followed(t, follow)
			require.Equal(t, "completed", res["status"])
			require.Equal(t, true, res["result"].(map[string]any)["ok"])
		}
		require.Equal(t, 3, v.count("vault.transfer"))
	})

	t.Run("OK while it waits, following it shows pending_approval with the approval", func(t *testing.T) {
		follow, apr := execute(t, 900)
		code, body := followed(t, follow)
		require.Equal(t, http.StatusAccepted, code, body)
		require.Equal(t, "pending_approval", body["status"])
		waiting := body["approval"].(map[string]any)
		for _, field := range []string{"id", "args_hash", "decision_url", "expires_at", "requested_at"} {
			require.Equal(t, apr[field], waiting[field], field)
		}
		code, _, _ = platformtest.Do(t, s.MCP.URL, http.MethodGet, follow, ted, nil)
		require.Equal(t, http.StatusNotFound, code, "only the caller follows their call")

		code, _, out := platformtest.Do(t, s.MCP.URL, http.MethodPost, waiting["decision_url"].(string), ted, map[string]any{"decision": "reject", "args_hash": waiting["args_hash"]})
		require.Equal(t, http.StatusOK, code, out)
		require.Eventually(t, func() bool {
			code, _ := followed(t, follow)
			return code == http.StatusConflict
		}, 20*time.Second, 100*time.Millisecond, "a rejected call is 409")
		require.Equal(t, 3, v.count("vault.transfer"), "the rejected transfer did not run")
	})

	t.Run("OK MCP tools/call answers at once with the pending approval", func(t *testing.T) {
		cs := platformtest.MCPSession(t, s.MCP.URL+"/mcp", tim)
		call, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "vault__transfer", Arguments: map[string]any{"amount": 800}})
		require.NoError(t, err)
		require.False(t, call.IsError, "a call waiting for approval has not failed")
		require.Contains(t, call.Content[0].(*mcp.TextContent).Text, "Approval required")
		require.Equal(t, 3, v.count("vault.transfer"), "nothing ran")
		_, _, list := platformtest.Do(t, s.MCP.URL, http.MethodGet, "/approvals", ted, nil)
		require.Len(t, list["approvals"], 1, "the request is recorded when tools/call answers")
	})

	t.Run("OK a run slow to record its request is answered running, and followed to pending_approval", func(t *testing.T) {
		x := &mcpserver.Executor{Tools: s.Services.Tools, Signer: s.Env.Signer, Temporal: s.Env.Temporal,
			Approvals: approvals.NewStore(s.Env.Pool), ApprovalWait: time.Microsecond, Logger: s.Env.Logger}
		tim := authz.Principal{Subject: "tim", Roles: []string{"teller"}}
		res, err := x.Execute(context.Background(), tim, "vault.transfer", map[string]any{"amount": 950})
		require.NoError(t, err)
		require.Equal(t, mcpserver.StatusRunning, res.Status, "no wait for the request at all")
		require.Nil(t, res.Approval)
		require.Eventually(t, func() bool {
			res, err = x.Follow(context.Background(), tim, res.WorkflowID)
			require.NoError(t, err)
			return res.Status == mcpserver.StatusPendingApproval
		}, 20*time.Second, 50*time.Millisecond)
		require.Equal(t, "vault.transfer", res.Approval.Tool)
		require.Equal(t, approvals.StatusPending, res.Approval.Status)
		require.NoError(t, s.Env.Temporal.CancelWorkflow(context.Background(), res.WorkflowID, ""))
	})
}
