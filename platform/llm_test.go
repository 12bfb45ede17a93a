package platform_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"mcp-platform/internal/config"
	"mcp-platform/internal/llm"
	"mcp-platform/internal/llm/mock"
	"mcp-platform/internal/llm/mock/mocktest"
	"mcp-platform/platform"
)

func TestNewLLM(t *testing.T) {
	demos := platform.BuiltinAdapters().MockDemos

	t.Run("OK mock needs no key", func(t *testing.T) {
		p, err := platform.NewLLM(config.LLM{Provider: "mock"}, demos)
		require.NoError(t, err)
		require.IsType(t, &mock.Mock{}, p)
	})

	t.Run("OK the OpenAI family", func(t *testing.T) {
		p, err := platform.NewLLM(config.LLM{Provider: "openai_compatible", APIBase: "http://127.0.0.1:11434/v1", Model: "llama3.1"}, demos)
		require.NoError(t, err)
		_, isMock := p.(*mock.Mock)
		require.False(t, isMock)
	})

	bad := []struct {
		name string
		cfg  config.LLM
		want string
	}{
		{"ErrUnknownProvider", config.LLM{Provider: "gpt"}, `unknown LLM provider "gpt": set LLM_PROVIDER to mock, openai`},
		{"ErrEmptyProvider", config.LLM{}, "LLM_PROVIDER"},
		{"ErrOpenAIWithoutKey", config.LLM{Provider: "openai", Model: "gpt-4o"}, "LLM_API_KEY"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := platform.NewLLM(tt.cfg, demos)
			var le *llm.Error
			require.ErrorAs(t, err, &le)
			require.Equal(t, llm.KindBadRequest, le.Kind)
			require.Contains(t, err.Error(), tt.want)
		})
	}
}

// TestBuiltinMockDemos checks what the builtin domains teach the mock together: requests that
// span domains, and the order of their skills.
func TestBuiltinMockDemos(t *testing.T) {
	demos := platform.BuiltinAdapters().MockDemos
	p := mock.New(demos...)

	mocktest.Run(t, []mocktest.Case{
		{Name: "OK two domains in one sentence", Text: "get employee E001 and show invoice INV-001", Want: []mocktest.Call{
			{Tool: "hr.get_employee", Args: map[string]any{"employee_id": "E001"}},
			{Tool: "erp.get_invoice", Args: map[string]any{"invoice_id": "INV-001"}},
		}},
		{Name: "OK two domains in two sentences", Text: "Who is E001? Also list pods in staging.", Want: []mocktest.Call{
			{Tool: "hr.get_employee", Args: map[string]any{"employee_id": "E001"}},
			{Tool: "devops.list_pods", Args: map[string]any{"namespace": "staging"}},
		}},
		{Name: "OK a pod name is not also a SKU", Text: "logs of api-1234",
			Want: mocktest.Want("devops.get_pod_logs", map[string]any{"pod_name": "api-1234"})},
	}, demos...)

	t.Run("OK the allowed part runs and the rest is explained", func(t *testing.T) {
		resp := mocktest.Ask(t, p, "get employee E001 and scale api-server to 3 replicas", "hr.get_employee")
		require.Equal(t, []mocktest.Call{{Tool: "hr.get_employee", Args: map[string]any{"employee_id": "E001"}}}, mocktest.Calls(t, resp))
		require.Contains(t, resp.Content, "devops.scale_deployment")
		require.Contains(t, resp.Content, "doesn't have access")
	})

	t.Run("OK a denial noted earlier is repeated in the answer", func(t *testing.T) {
		resp := mocktest.Complete(t, p, llm.Request{Tools: mocktest.Tools("hr.get_employee"), Messages: []llm.Message{
			{Role: llm.RoleUser, Content: "get employee E001 and scale api-server to 3 replicas"},
			{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "a", Name: "hr.get_employee", Arguments: "{}"}}},
			{Role: llm.RoleTool, ToolCallID: "a", Name: "hr.get_employee", Content: `{"name":"Sarah Johnson"}`},
		}})
		require.Contains(t, resp.Content, "Sarah Johnson")
		require.Contains(t, resp.Content, "doesn't have access to devops.scale_deployment")
	})

	t.Run("OK help lists examples of the available tools by domain", func(t *testing.T) {
		offered := append(mocktest.Tools("hr.get_employee", "devops.list_pods"), llm.ToolDef{Name: "ledger.add_entry", Description: "Adds an entry. Idempotent."})
		resp := mocktest.Complete(t, p, llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hello there"}}, Tools: offered})
		for _, s := range []string{"**hr**", "Get employee E001", "**devops**", "List pods in production", "**ledger**", "ledger.add_entry: Adds an entry."} {
			require.Contains(t, resp.Content, s)
		}
		require.NotContains(t, resp.Content, "invoice")
		require.Less(t, strings.Index(resp.Content, "**devops**"), strings.Index(resp.Content, "**hr**"))
	})

	t.Run("OK every skill has its own priority, so the order does not depend on the wiring", func(t *testing.T) {
		seen := map[int]string{}
		for _, d := range demos {
			for _, s := range d.Skills {
				require.NotContains(t, seen, s.Priority, "%s and %s share priority %d", seen[s.Priority], s.Tool, s.Priority)
				seen[s.Priority] = s.Tool
			}
		}
	})

	mocktest.CheckExamples(t, demos...)
}
