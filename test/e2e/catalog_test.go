package e2e_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"mcp-platform/domains"
	"mcp-platform/domains/hr"
	"mcp-platform/domains/kit"
	"mcp-platform/domains/registry/synthetic"
	"mcp-platform/internal/config"
	"mcp-platform/internal/llm/mock"
	"mcp-platform/platform/platformtest"
)

// idle is the generated domain's backend; the test never calls its tools.
type idle struct{}

func (idle) Call(context.Context, domains.Call) (any, error) {
	return nil, errors.New("the generated tools are only listed")
}

// TestBigCatalogTurn runs a chat turn for a user who may call over a thousand tools, with the
// LLM offered two at a time: the tool the request needs is not among them, the (mock) LLM
// finds it with search_tools and calls it in the same turn, through the usual checks.
func TestBigCatalogTurn(t *testing.T) {
	gen, err := synthetic.Domain("gen", 1000, "hr_manager")
	require.NoError(t, err)
	s := platformtest.Start(t, platformtest.Options{
		LLM:     mock.New(hr.MockDemo()),
		Domains: map[string]kit.Factory{"hr": hr.New},
		Extra: []platformtest.Domain{{Config: gen, Factory: func(context.Context, kit.Deps) (domains.Adapter, error) {
			return idle{}, nil
		}}},
		Config: func(c *config.Config) { c.Limits.LLMTools = 2 },
	})
	alice, _, principal, err := s.Services.Issuer.IssueDemo("alice", nil)
	require.NoError(t, err)
	require.Greater(t, s.Services.Tools.Offer(principal, nil).Visible, 1000)

	// One tool is offered beside search_tools, the best ranked for the message's words
	// (hr.get_department, which mentions Engineering); the request needs hr.search_employees.
	body := chat(t, s, alice, "who works in Engineering?")
	require.Equal(t, "completed", body["status"], body)
	conv := body["conversation_id"].(string)

	rows, err := s.Env.Pool.Query(context.Background(),
		`SELECT role, content, tool_name, tool_status FROM messages WHERE conversation_id = $1 ORDER BY turn, seq`, conv)
	require.NoError(t, err)
	defer rows.Close()
	var first string
	ran := map[string]string{}
	for rows.Next() {
		var role, content, tool, status string
		require.NoError(t, rows.Scan(&role, &content, &tool, &status))
		if role == "assistant" && first == "" {
			first = content
		}
		if role == "tool" {
			ran[tool] = status
		}
	}
	require.NoError(t, rows.Err())
	require.Contains(t, first, "Let me find the right tools.")
	require.Equal(t, map[string]string{"hr.search_employees": "ok"}, ran)
	require.NotEmpty(t, body["answer"])
}
