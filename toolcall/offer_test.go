package toolcall_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"

	"mcp-platform/authz"
	"mcp-platform/domains"
	"mcp-platform/domains/domainconfig"
	"mcp-platform/domains/registry"
	"mcp-platform/domains/registry/synthetic"
	"mcp-platform/internal/audit"
	"mcp-platform/internal/llm"
	"mcp-platform/internal/llm/mock"
	"mcp-platform/internal/testutil/dbtest"
	"mcp-platform/toolcall"
)

// legalYAML is a small domain beside the generated one, with a tool only lawyers may call.
const legalYAML = `
name: legal
description: Legal department.
permissions:
  - role: lawyer
    tools: ["legal.*"]
tools:
  - name: find_patent
    title: Find a patent
    description: Finds a patent filing by its number and returns its claims and status.
    input_schema: {type: object, required: [number], properties: {number: {type: string}}}
`

// bigCatalog registers a generated domain of n tools (role analyst) beside shop and legal, as
// their workers would, and returns a planner on the catalog with the given cap.
func bigCatalog(tb testing.TB, n, llmTools int) (*toolcall.Planner, *registry.Registry) {
	tb.Helper()
	ctx := context.Background()
	db := dbtest.New(tb)
	reg := registry.New(db.Pool)
	gen, err := synthetic.Domain("gen", n, "analyst")
	require.NoError(tb, err)
	shop, err := domainconfig.Parse("shop.yaml", []byte(shopYAML))
	require.NoError(tb, err)
	legal, err := domainconfig.Parse("legal.yaml", []byte(legalYAML))
	require.NoError(tb, err)
	for _, cfg := range []*domains.Config{gen, shop, legal} {
		require.NoError(tb, reg.Register(ctx, registry.Registration{Config: cfg, Identity: "worker-" + cfg.Name}))
	}
	enf, err := authz.NewEnforcer()
	require.NoError(tb, err)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	cat := registry.NewCatalog(reg, enf, logger)
	require.NoError(tb, cat.Refresh(ctx))
	return &toolcall.Planner{Catalog: cat, Authz: enf, Audit: audit.New(db.Pool), Logger: logger, LLMTools: llmTools}, reg
}

func defNames(defs []llm.ToolDef) []string {
	out := make([]string, len(defs))
	for i, d := range defs {
		out[i] = d.Name
	}
	return out
}

func TestVisibleBigCatalog(t *testing.T) {
	planner, reg := bigCatalog(t, 1000, 0)
	ctx := context.Background()
	analyst := authz.Principal{Subject: "ann", Roles: []string{"analyst"}}
	both := authz.Principal{Subject: "bo", Roles: []string{"lawyer", "analyst"}}

	t.Run("OK complete and in name order", func(t *testing.T) {
		got := planner.Visible(analyst, toolcall.VisibleOptions{})
		require.Len(t, got, 1000)
		names := make([]string, len(got))
		for i, v := range got {
			names[i] = v.Tool.Name
			require.True(t, v.Live)
		}
		require.True(t, sort.StringsAreSorted(names))
		require.Len(t, planner.Visible(both, toolcall.VisibleOptions{}), 1001)
		require.Len(t, planner.Visible(both, toolcall.VisibleOptions{Domain: "legal"}), 1)
	})

	t.Run("OK roles in another order share the decision", func(t *testing.T) {
		swapped := authz.Principal{Subject: "cy", Roles: []string{"analyst", "lawyer"}}
		require.Equal(t, planner.Visible(both, toolcall.VisibleOptions{}), planner.Visible(swapped, toolcall.VisibleOptions{}))
	})

	t.Run("OK scopes narrow, and are part of the cached decision", func(t *testing.T) {
		narrow := authz.Principal{Subject: "ann", Roles: []string{"analyst", "lawyer"}, Scopes: []string{"tools:legal.*"}}
		got := planner.Visible(narrow, toolcall.VisibleOptions{})
		require.Len(t, got, 1)
		require.Equal(t, "legal.find_patent", got[0].Tool.Name)
	})

	t.Run("OK a permission change applies at once", func(t *testing.T) {
		require.Len(t, planner.Visible(authz.Principal{Subject: "ann", Roles: []string{"lawyer"}}, toolcall.VisibleOptions{}), 1)
		legal, err := domainconfig.Parse("legal.yaml", []byte(legalYAML+"  - name: file_patent\n    description: Files a patent.\n    input_schema: {type: object}\n"))
		require.NoError(t, err)
		legal.Permissions[0].Tools = []string{"legal.file_patent"}
		require.NoError(t, reg.Register(ctx, registry.Registration{Config: legal, Identity: "worker-legal"}))
		require.NoError(t, planner.Catalog.Refresh(ctx))
		got := planner.Visible(authz.Principal{Subject: "ann", Roles: []string{"lawyer"}}, toolcall.VisibleOptions{})
		require.Len(t, got, 1)
		require.Equal(t, "legal.file_patent", got[0].Tool.Name)
	})

	t.Run("OK a rule change outside the catalog applies at once", func(t *testing.T) {
		require.Len(t, planner.Visible(analyst, toolcall.VisibleOptions{}), 1000)
		planner.Authz.RemoveDomain("gen")
		require.Empty(t, planner.Visible(analyst, toolcall.VisibleOptions{}))
	})
}

func TestOffer(t *testing.T) {
	planner, _ := bigCatalog(t, 1000, 12)
	ctx := context.Background()
	analyst := authz.Principal{Subject: "ann", Roles: []string{"analyst"}}
	both := authz.Principal{Subject: "bo", Roles: []string{"analyst", "lawyer"}}
	clerk := authz.Principal{Subject: "cleo", Roles: []string{"clerk"}}
	user := func(text string) []llm.Message {
		return []llm.Message{{Role: llm.RoleSystem, Content: "system"}, {Role: llm.RoleUser, Content: text}}
	}

	t.Run("OK few tools are all offered, without search", func(t *testing.T) {
		o := planner.Offer(clerk, user("get item ABC-123"))
		require.Equal(t, []string{"shop.get_item"}, defNames(o.Tools))
		require.False(t, o.Searchable)
	})

	t.Run("OK past the cap the most relevant and search_tools", func(t *testing.T) {
		o := planner.Offer(analyst, user("please reconcile the vehicle records"))
		require.Equal(t, 1000, o.Visible)
		require.True(t, o.Searchable)
		require.Len(t, o.Tools, 12)
		names := defNames(o.Tools)
		require.Equal(t, toolcall.SearchToolName, names[len(names)-1])
		// Exactly one generated tool both reconciles and is about vehicles: it ranks first.
		require.Regexp(t, `^gen\.reconcile_vehicle_\d{4}$`, names[0])
	})

	t.Run("OK tools called in this turn stay offered", func(t *testing.T) {
		msgs := append(user("reconcile the vehicle records"),
			llm.Message{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "1", Name: "gen.get_ticket_0000", Arguments: "{}"}}},
			llm.Message{Role: llm.RoleTool, ToolCallID: "1", Content: "{}"})
		o := planner.Offer(analyst, msgs)
		require.Equal(t, "gen.get_ticket_0000", o.Tools[0].Name)
		require.Len(t, o.Tools, 12)
	})

	t.Run("OK search finds a tool by a description word, only among allowed tools", func(t *testing.T) {
		// "patent" is only in legal.find_patent's description.
		p := &scripted{replies: []llm.Response{
			{Content: "Let me look for a tool.", ToolCalls: []llm.ToolCall{{ID: "s1", Name: toolcall.SearchToolName, Arguments: `{"query":"patent claims"}`}}, FinishReason: "tool_calls"},
			{Content: "Found it.", ToolCalls: []llm.ToolCall{{ID: "c1", Name: "legal.find_patent", Arguments: `{"number":"EP1"}`}}, FinishReason: "tool_calls"},
		}}
		o := planner.Offer(both, user("what do the ticket records say about EP1?"))
		require.NotContains(t, defNames(o.Tools), "legal.find_patent")
		var deltas string
		resp, err := o.Complete(ctx, p, llm.Request{Messages: user("what do the ticket records say about EP1?")}, func(s string) { deltas += s })
		require.NoError(t, err)
		require.Equal(t, []llm.ToolCall{{ID: "c1", Name: "legal.find_patent", Arguments: `{"number":"EP1"}`}}, resp.ToolCalls)
		require.Equal(t, "Let me look for a tool.\n\nFound it.", resp.Content)
		require.Equal(t, resp.Content, deltas)

		// The second request carried the search and its result, and offered the tool found
		// within the cap.
		require.Len(t, p.seen, 2)
		second := p.seen[1]
		require.Len(t, second.Tools, 12)
		require.Equal(t, "legal.find_patent", second.Tools[0].Name)
		require.Equal(t, toolcall.SearchToolName, second.Tools[11].Name)
		result := second.Messages[len(second.Messages)-1]
		require.Equal(t, llm.RoleTool, result.Role)
		require.Equal(t, "s1", result.ToolCallID)
		var found struct{ Tools []struct{ Name string } }
		require.NoError(t, json.Unmarshal([]byte(result.Content), &found))
		require.Equal(t, "legal.find_patent", found.Tools[0].Name)

		// An analyst who is no lawyer finds nothing of legal's.
		p = &scripted{replies: []llm.Response{
			{ToolCalls: []llm.ToolCall{{ID: "s1", Name: toolcall.SearchToolName, Arguments: `{"query":"patent claims"}`}}, FinishReason: "tool_calls"},
			{Content: "I cannot do that.", FinishReason: "stop"},
		}}
		o = planner.Offer(analyst, user("what do the ticket records say about EP1?"))
		resp, err = o.Complete(ctx, p, llm.Request{Messages: user("what do the ticket records say about EP1?")}, nil)
		require.NoError(t, err)
		require.Empty(t, resp.ToolCalls)
		res := p.seen[1].Messages[len(p.seen[1].Messages)-1].Content
		require.NotContains(t, res, "legal.")
		require.NotContains(t, defNames(p.seen[1].Tools), "legal.find_patent")
	})

	t.Run("ErrBadSearchArguments are told to the LLM", func(t *testing.T) {
		p := &scripted{replies: []llm.Response{
			{ToolCalls: []llm.ToolCall{{ID: "s1", Name: toolcall.SearchToolName, Arguments: `{"q":1}`}}, FinishReason: "tool_calls"},
			{Content: "Sorry.", FinishReason: "stop"},
		}}
		_, err := planner.Offer(analyst, user("x")).Complete(ctx, p, llm.Request{Messages: user("x")}, nil)
		require.NoError(t, err)
		require.Contains(t, p.seen[1].Messages[len(p.seen[1].Messages)-1].Content, `"type":"invalid"`)
	})

	t.Run("ErrEndlessSearch stops after a few rounds", func(t *testing.T) {
		search := llm.Response{Content: "searching", ToolCalls: []llm.ToolCall{{ID: "s", Name: toolcall.SearchToolName, Arguments: `{"query":"ticket"}`}}, FinishReason: "tool_calls"}
		p := &scripted{replies: slices.Repeat([]llm.Response{search}, 10)}
		resp, err := planner.Offer(analyst, user("x")).Complete(ctx, p, llm.Request{Messages: user("x")}, nil)
		require.NoError(t, err)
		require.Empty(t, resp.ToolCalls)
		require.Equal(t, "stop", resp.FinishReason)
		require.Len(t, p.seen, 4)
	})

	t.Run("OK PromptStats", func(t *testing.T) {
		st, err := planner.PromptStats(analyst, "reconcile the vehicle records")
		require.NoError(t, err)
		require.Equal(t, 1000, st.Visible)
		require.Equal(t, 12, st.Tools)
		require.True(t, st.Searchable)
		require.Greater(t, st.Bytes, 12*200)
		all := make([]llm.ToolDef, 0, 1000)
		for _, v := range planner.Visible(analyst, toolcall.VisibleOptions{}) {
			all = append(all, toolcall.ToolDef(v.Entry))
		}
		full, err := toolcall.ToolDefsSize(all)
		require.NoError(t, err)
		require.Less(t, st.Bytes*50, full)
	})
}

func TestSearchToolNameIsTheMocks(t *testing.T) {
	// The mock LLM searches with this name; it cannot import toolcall (internal/ imports
	// nothing above it).
	require.Equal(t, toolcall.SearchToolName, mock.SearchTool)
}

// scripted is an LLM that answers with its replies in turn and records each request: the
// outer boundary of the offer, as the OpenAI API would be.
type scripted struct {
	replies []llm.Response
	seen    []llm.Request
}

func (s *scripted) Complete(_ context.Context, req llm.Request, onDelta func(string)) (llm.Response, error) {
	req.Messages = slices.Clone(req.Messages)
	s.seen = append(s.seen, req)
	if len(s.replies) == 0 {
		return llm.Response{}, fmt.Errorf("no reply scripted")
	}
	r := s.replies[0]
	s.replies = s.replies[1:]
	if onDelta != nil && r.Content != "" {
		onDelta(r.Content)
	}
	return r, nil
}

// BenchmarkVisible1000 measures the visible-tools computation behind GET /tools, MCP
// tools/list and the LLM's tools, with 1,000 tools: warm (the decision cached) and cold (after
// a rules change, as right after a registry change).
func BenchmarkVisible1000(b *testing.B) {
	planner, _ := bigCatalog(b, 1000, 0)
	analyst := authz.Principal{Subject: "ann", Roles: []string{"analyst"}}
	b.Run("warm", func(b *testing.B) {
		for b.Loop() {
			if len(planner.Visible(analyst, toolcall.VisibleOptions{LiveOnly: true})) != 1000 {
				b.Fatal("incomplete")
			}
		}
	})
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			planner.Authz.RemoveDomain("nothing") // a rules change: the cache starts afresh
			if len(planner.Visible(analyst, toolcall.VisibleOptions{LiveOnly: true})) != 1000 {
				b.Fatal("incomplete")
			}
		}
	})
}

// BenchmarkOffer1000 measures choosing the LLM's tools from 1,000 (ranking against the
// message) and reports the prompt's tool count and size.
func BenchmarkOffer1000(b *testing.B) {
	planner, _ := bigCatalog(b, 1000, 0)
	analyst := authz.Principal{Subject: "ann", Roles: []string{"analyst"}}
	msgs := []llm.Message{{Role: llm.RoleUser, Content: "reconcile the vehicle records of the north region"}}
	for b.Loop() {
		planner.Offer(analyst, msgs)
	}
	st, err := planner.PromptStats(analyst, msgs[0].Content)
	require.NoError(b, err)
	b.ReportMetric(float64(st.Tools), "prompt-tools")
	b.ReportMetric(float64(st.Bytes), "prompt-bytes")
	var all []llm.ToolDef
	for _, v := range planner.Visible(analyst, toolcall.VisibleOptions{LiveOnly: true}) {
		all = append(all, toolcall.ToolDef(v.Entry))
	}
	full, err := toolcall.ToolDefsSize(all)
	require.NoError(b, err)
	b.ReportMetric(float64(full), "uncapped-bytes")
}
