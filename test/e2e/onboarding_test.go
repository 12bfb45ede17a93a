package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"mcp-platform/domains"
	"mcp-platform/domains/httpkind"
	"mcp-platform/domains/kit"
	"mcp-platform/domains/mcpkind"
	"mcp-platform/internal/testutil/fakeopenai"
	"mcp-platform/platform"
	"mcp-platform/platform/platformtest"
)

// helpdeskServer is an existing application that speaks MCP: a ticket desk behind a bearer
// token.
func helpdeskServer(t *testing.T, token string) *httptest.Server {
	t.Helper()
	srv := mcp.NewServer(&mcp.Implementation{Name: "helpdesk", Version: "2.1"}, nil)
	type ticketIn struct {
		TicketID string `json:"ticket_id" jsonschema:"ticket number such as T-100"`
	}
	type ticketOut struct {
		TicketID string `json:"ticket_id"`
		Title    string `json:"title"`
		Status   string `json:"status"`
	}
	destructive := true
	mcp.AddTool(srv, &mcp.Tool{Name: "Lookup-Ticket", Description: "Look up a support ticket.",
		Annotations: &mcp.ToolAnnotations{DestructiveHint: &destructive}},
		func(_ context.Context, _ *mcp.CallToolRequest, in ticketIn) (*mcp.CallToolResult, ticketOut, error) {
			return nil, ticketOut{TicketID: in.TicketID, Title: "Printer on fire", Status: "open"}, nil
		})
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, &mcp.StreamableHTTPOptions{Stateless: true})
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// billingServer is an internal REST service.
func billingServer(t *testing.T) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/accounts/A-7" {
			w.WriteHeader(http.StatusNotFound)
			_ = json.NewEncoder(w).Encode(map[string]any{"error": "no such account"})
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{"account_id": "A-7", "balance": 1234.5, "currency": "EUR"}})
	}))
	t.Cleanup(s.Close)
	return s
}

const helpdeskYAML = `
name: helpdesk
description: The support ticket desk, an MCP server.
kind: mcp
mcp:
  url: %s
  bearer_token_env: HELPDESK_TOKEN
permissions:
  - role: agent
    tools: ["helpdesk.*"]
tools:
  - name: lookup_ticket
    remote: Lookup-Ticket
    description: Look up a support ticket by its number.
    annotations: {read_only: true, idempotent: true}
`

const billingYAML = `
name: billing
description: Customer accounts in the billing service.
kind: http
http:
  base_url: %s
permissions:
  - role: agent
    tools: ["billing.*"]
tools:
  - name: get_account
    description: Get a billing account by ID.
    annotations: {read_only: true}
    http: {method: GET, path: "/accounts/{account_id}", result: data}
    input_schema:
      type: object
      required: [account_id]
      properties:
        account_id: {type: string}
`

// TestOnboardingByConfiguration adds two applications to a running platform with YAML only:
// their tools appear in /tools and /mcp and run from /execute and chat, with no restart.
func TestOnboardingByConfiguration(t *testing.T) {
	fake := fakeopenai.New(t,
		fakeopenai.Reply{ToolCalls: []fakeopenai.ToolCall{{Name: "helpdesk__lookup_ticket", Arguments: `{"ticket_id": "T-100"}`}}},
		fakeopenai.Reply{Text: "Ticket T-100 is open: Printer on fire."},
	)
	s := platformtest.Start(t, platformtest.Options{LLM: compatible(t, fake)})
	agent := s.Token(t, "ann", "agent")
	_, _, before := platformtest.Do(t, s.API.URL, http.MethodGet, "/tools", agent, nil)
	require.Empty(t, before["tools"])

	// Configuration only: two YAML files and a worker process for them.
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "helpdesk.yaml"), []byte(fmt.Sprintf(helpdeskYAML, helpdeskServer(t, "s3cret").URL)), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "billing.yaml"), []byte(fmt.Sprintf(billingYAML, billingServer(t).URL)), 0o600))
	env := *s.Env
	env.Cfg.DomainsDir = dir
	env.Getenv = func(k string) string { return map[string]string{"HELPDESK_TOKEN": "s3cret"}[k] }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- platform.RunWorkers(ctx, &env, platform.WorkerSelection{Domains: []string{"helpdesk", "billing"}},
			platform.Adapters{Kinds: map[string]kit.Factory{domains.KindMCP: mcpkind.New, domains.KindHTTP: httpkind.New}})
	}()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})

	t.Run("OK tools appear in /tools of both servers within seconds", func(t *testing.T) {
		for _, base := range []string{s.API.URL, s.MCP.URL} {
			require.Eventually(t, func() bool {
				_, _, body := platformtest.Do(t, base, http.MethodGet, "/tools", agent, nil)
				return len(body["tools"].([]any)) == 2
			}, 15*time.Second, 200*time.Millisecond)
		}
		_, _, body := platformtest.Do(t, s.MCP.URL, http.MethodGet, "/tools/helpdesk.lookup_ticket", agent, nil)
		ann := body["annotations"].(map[string]any)
		// The upstream says the tool is destructive: the YAML may tighten annotations, never
		// make a tool that writes look read-only or idempotent.
		require.Equal(t, false, ann["read_only"], "the YAML's read_only cannot override the upstream's destructive hint")
		require.Equal(t, true, ann["destructive"])
		require.Equal(t, false, ann["idempotent"])
	})

	t.Run("OK over MCP", func(t *testing.T) {
		cs := platformtest.MCPSession(t, s.MCP.URL+"/mcp", agent)
		list, err := cs.ListTools(context.Background(), nil)
		require.NoError(t, err)
		var names []string
		for _, tl := range list.Tools {
			names = append(names, tl.Name)
		}
		require.Equal(t, []string{"billing__get_account", "helpdesk__lookup_ticket"}, names)
		res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "helpdesk__lookup_ticket", Arguments: map[string]any{"ticket_id": "T-100"}})
		require.NoError(t, err)
		require.False(t, res.IsError, res.Content)
		require.Equal(t, "Printer on fire", res.StructuredContent.(map[string]any)["title"])
	})

	t.Run("OK through /execute", func(t *testing.T) {
		code, _, body := platformtest.Do(t, s.MCP.URL, http.MethodPost, "/execute", agent, map[string]any{"tool": "billing.get_account", "arguments": map[string]any{"account_id": "A-7"}})
		require.Equal(t, http.StatusOK, code, body)
		require.Equal(t, 1234.5, body["result"].(map[string]any)["balance"])
		code, _, body = platformtest.Do(t, s.MCP.URL, http.MethodPost, "/execute", agent, map[string]any{"tool": "billing.get_account", "arguments": map[string]any{"account_id": "A-9"}})
		require.Equal(t, http.StatusNotFound, code, body)
		require.Contains(t, body["detail"], "no such account")
	})

	t.Run("OK in chat", func(t *testing.T) {
		body := chat(t, s, agent, "what about ticket T-100?")
		require.Equal(t, "completed", body["status"])
		require.Equal(t, 1, countRows(t, s, `SELECT count(*) FROM audit_log WHERE tool = 'helpdesk.lookup_ticket' AND outcome = 'succeeded' AND workflow_id LIKE 'chat-%'`))
	})
}

func countRows(t *testing.T, s *platformtest.Stack, query string) int {
	t.Helper()
	var n int
	require.NoError(t, s.Env.Pool.QueryRow(context.Background(), query).Scan(&n))
	return n
}
