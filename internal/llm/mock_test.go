package llm_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"mcp-platform/internal/llm"
)

// exampleTools are the platform's example tools, as the Complete activity offers them.
var exampleTools = []string{
	"hr.get_employee", "hr.search_employees", "hr.list_departments", "hr.get_department", "hr.get_manager",
	"hr.list_reports", "erp.get_invoice", "erp.list_invoices", "erp.create_invoice", "erp.check_low_stock",
	"erp.get_inventory_item", "devops.list_pods", "devops.get_pod_logs", "devops.list_deployments",
	"devops.scale_deployment",
}

func toolDefs(names ...string) []llm.ToolDef {
	defs := make([]llm.ToolDef, 0, len(names))
	for _, n := range names {
		defs = append(defs, llm.ToolDef{Name: n, Description: "The " + n + " tool.", Parameters: map[string]any{"type": "object"}})
	}
	return defs
}

// complete runs the mock and checks that the streamed deltas add up to the content.
func complete(t *testing.T, req llm.Request) llm.Response {
	t.Helper()
	var streamed strings.Builder
	resp, err := (&llm.Mock{}).Complete(context.Background(), req, func(s string) { streamed.WriteString(s) })
	require.NoError(t, err)
	require.Equal(t, resp.Content, streamed.String())
	return resp
}

func ask(t *testing.T, text string, tools ...string) llm.Response {
	t.Helper()
	return complete(t, llm.Request{
		Messages: []llm.Message{{Role: llm.RoleSystem, Content: "You are the assistant."}, {Role: llm.RoleUser, Content: text}},
		Tools:    toolDefs(tools...),
	})
}

// call is a tool call with decoded arguments, for comparison.
type call struct {
	Tool string
	Args map[string]any
}

func calls(t *testing.T, resp llm.Response) []call {
	t.Helper()
	var out []call
	for _, c := range resp.ToolCalls {
		var args map[string]any
		require.NoError(t, json.Unmarshal([]byte(c.Arguments), &args), c.Arguments)
		out = append(out, call{Tool: c.Name, Args: args})
	}
	return out
}

func TestMockIntents(t *testing.T) {
	tests := []struct {
		name, text string
		want       []call
	}{
		{"OK get employee", "Get employee E001", []call{{"hr.get_employee", map[string]any{"employee_id": "E001"}}}},
		{"OK who is an ID", "who is E001?", []call{{"hr.get_employee", map[string]any{"employee_id": "E001"}}}},
		{"OK lower-case ID", "show me employee e012", []call{{"hr.get_employee", map[string]any{"employee_id": "E012"}}}},
		{"OK who works in a department", "Who works in engineering?", []call{{"hr.search_employees", map[string]any{"department": "Engineering"}}}},
		{"OK search with department", "search employees in the sales department", []call{{"hr.search_employees", map[string]any{"department": "Sales"}}}},
		{"OK search with query and department", "search employees named Smith in department Finance",
			[]call{{"hr.search_employees", map[string]any{"query": "Smith", "department": "Finance"}}}},
		{"OK find a name", "find Johnson", []call{{"hr.search_employees", map[string]any{"query": "Johnson"}}}},
		{"OK list departments", "List departments", []call{{"hr.list_departments", map[string]any{}}}},
		{"OK show a department", "show the Engineering department", []call{{"hr.get_department", map[string]any{"department": "Engineering"}}}},
		{"OK manager", "Who is E005's manager?", []call{{"hr.get_manager", map[string]any{"employee_id": "E005"}}}},
		{"OK reports", "who reports to E002", []call{{"hr.list_reports", map[string]any{"employee_id": "E002"}}}},
		{"OK show invoice", "show invoice INV-001", []call{{"erp.get_invoice", map[string]any{"invoice_id": "INV-001"}}}},
		{"OK short invoice ID normalised", "get invoice inv-7", []call{{"erp.get_invoice", map[string]any{"invoice_id": "INV-007"}}}},
		{"OK list invoices", "list invoices", []call{{"erp.list_invoices", map[string]any{}}}},
		{"OK list invoices by customer and status", "List overdue invoices for Northwind Traders",
			[]call{{"erp.list_invoices", map[string]any{"customer": "Northwind Traders", "status": "overdue"}}}},
		{"OK list paid invoices", "list invoices for Acme Corp that are paid",
			[]call{{"erp.list_invoices", map[string]any{"customer": "Acme Corp", "status": "paid"}}}},
		{"OK low stock components", "Which components are low on stock?", []call{{"erp.check_low_stock", map[string]any{"category": "components"}}}},
		{"OK low stock in a category", "low stock in networking", []call{{"erp.check_low_stock", map[string]any{"category": "networking"}}}},
		{"OK low stock", "what is running low?", []call{{"erp.check_low_stock", map[string]any{}}}},
		{"OK create invoice", "Create an invoice for Northwind Traders for 5 x SKU-123 and 2 x CMP-001",
			[]call{{"erp.create_invoice", map[string]any{"customer": "Northwind Traders", "items": []any{
				map[string]any{"sku": "SKU-123", "quantity": float64(5)},
				map[string]any{"sku": "CMP-001", "quantity": float64(2)},
			}}}}},
		{"OK inventory item", "How many CMP-001 are in stock?", []call{{"erp.get_inventory_item", map[string]any{"sku": "CMP-001"}}}},
		{"OK list pods", "list pods in production", []call{{"devops.list_pods", map[string]any{"namespace": "production"}}}},
		{"OK pods in", "pods in staging", []call{{"devops.list_pods", map[string]any{"namespace": "staging"}}}},
		{"OK pod logs", "logs of api-server-7d9f8b6c4-x2k9p in staging",
			[]call{{"devops.get_pod_logs", map[string]any{"pod_name": "api-server-7d9f8b6c4-x2k9p", "namespace": "staging"}}}},
		{"OK pod logs without namespace", "show the last 20 lines of logs for pod web-1",
			[]call{{"devops.get_pod_logs", map[string]any{"pod_name": "web-1", "tail": float64(20)}}}},
		{"OK list deployments", "list deployments", []call{{"devops.list_deployments", map[string]any{}}}},
		{"OK list deployments in", "List deployments in staging", []call{{"devops.list_deployments", map[string]any{"namespace": "staging"}}}},
		{"OK scale", "scale api-server to 3 replicas",
			[]call{{"devops.scale_deployment", map[string]any{"deployment_name": "api-server", "replicas": float64(3)}}}},
		{"OK scale in namespace", "Scale api-server to 3 replicas in staging",
			[]call{{"devops.scale_deployment", map[string]any{"deployment_name": "api-server", "replicas": float64(3), "namespace": "staging"}}}},
		{"OK two intents", "get employee E001 and show invoice INV-001", []call{
			{"hr.get_employee", map[string]any{"employee_id": "E001"}},
			{"erp.get_invoice", map[string]any{"invoice_id": "INV-001"}},
		}},
		{"OK two sentences", "Who is E001? Also list pods in staging.", []call{
			{"hr.get_employee", map[string]any{"employee_id": "E001"}},
			{"devops.list_pods", map[string]any{"namespace": "staging"}},
		}},
		{"OK two employees", "get employees E001 and E002", []call{
			{"hr.get_employee", map[string]any{"employee_id": "E001"}},
			{"hr.get_employee", map[string]any{"employee_id": "E002"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := ask(t, tt.text, exampleTools...)
			require.Equal(t, tt.want, calls(t, resp))
			require.Equal(t, "tool_calls", resp.FinishReason)
			for _, c := range tt.want {
				require.Contains(t, resp.Content, c.Tool)
			}
		})
	}
}

func TestMockToolCallIDs(t *testing.T) {
	t.Run("OK IDs depend only on the conversation position", func(t *testing.T) {
		first := ask(t, "get employee E001 and show invoice INV-001", exampleTools...)
		again := ask(t, "get employee E001 and show invoice INV-001", exampleTools...)
		require.Equal(t, first, again)
		require.Equal(t, "call_2_1", first.ToolCalls[0].ID)
		require.Equal(t, "call_2_2", first.ToolCalls[1].ID)

		later := complete(t, llm.Request{Tools: toolDefs(exampleTools...), Messages: []llm.Message{
			{Role: llm.RoleUser, Content: "get employee E001"},
			{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{first.ToolCalls[0]}},
			{Role: llm.RoleTool, ToolCallID: "call_2_1", Name: "hr.get_employee", Content: `{"name":"Sarah Johnson"}`},
			{Role: llm.RoleAssistant, Content: "Sarah Johnson."},
			{Role: llm.RoleUser, Content: "get employee E002"},
		}})
		require.Equal(t, "call_5_1", later.ToolCalls[0].ID)
	})
}

func TestMockDenials(t *testing.T) {
	t.Run("OK a missing tool gets a plain denial", func(t *testing.T) {
		resp := ask(t, "Get employee E001", "erp.get_invoice")
		require.Empty(t, resp.ToolCalls)
		require.Equal(t, "stop", resp.FinishReason)
		require.Equal(t, "I can't look up employees for you: your account doesn't have access to hr.get_employee.", resp.Content)
	})

	t.Run("OK the allowed part runs and the rest is explained", func(t *testing.T) {
		resp := ask(t, "get employee E001 and scale api-server to 3 replicas", "hr.get_employee")
		require.Equal(t, []call{{"hr.get_employee", map[string]any{"employee_id": "E001"}}}, calls(t, resp))
		require.Contains(t, resp.Content, "devops.scale_deployment")
		require.Contains(t, resp.Content, "doesn't have access")
	})

	t.Run("OK a manager question does not fall back to another tool", func(t *testing.T) {
		resp := ask(t, "who is E005's manager", "hr.get_employee")
		require.Empty(t, resp.ToolCalls)
		require.Contains(t, resp.Content, "hr.get_manager")
	})

	t.Run("OK an incomplete invoice request asks for what is missing", func(t *testing.T) {
		resp := ask(t, "create an invoice for Acme", exampleTools...)
		require.Empty(t, resp.ToolCalls)
		require.Contains(t, resp.Content, "customer and the items")
	})
}

func TestMockHelp(t *testing.T) {
	t.Run("OK lists examples of the available tools by domain", func(t *testing.T) {
		tools := append(toolDefs("hr.get_employee", "devops.list_pods"), llm.ToolDef{Name: "ledger.add_entry", Description: "Adds an entry. Idempotent."})
		resp := complete(t, llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hello there"}}, Tools: tools})
		require.Empty(t, resp.ToolCalls)
		require.Equal(t, "stop", resp.FinishReason)
		for _, s := range []string{"**hr**", "Get employee E001", "**devops**", "List pods in production", "**ledger**", "ledger.add_entry: Adds an entry."} {
			require.Contains(t, resp.Content, s)
		}
		require.NotContains(t, resp.Content, "invoice")
		require.Less(t, strings.Index(resp.Content, "**devops**"), strings.Index(resp.Content, "**hr**"))
	})

	t.Run("OK without any tool", func(t *testing.T) {
		resp := ask(t, "hello")
		require.Contains(t, resp.Content, "doesn't have access to any tools")
	})
}

// afterTools is a conversation whose assistant called tools that answered with results.
func afterTools(user string, results ...llm.Message) llm.Request {
	var tcs []llm.ToolCall
	for _, r := range results {
		tcs = append(tcs, llm.ToolCall{ID: r.ToolCallID, Name: r.Name, Arguments: "{}"})
	}
	msgs := []llm.Message{{Role: llm.RoleSystem, Content: "sys"}, {Role: llm.RoleUser, Content: user},
		{Role: llm.RoleAssistant, Content: "Let me check.", ToolCalls: tcs}}
	return llm.Request{Messages: append(msgs, results...), Tools: toolDefs(exampleTools...)}
}

func result(id, tool, content string) llm.Message {
	return llm.Message{Role: llm.RoleTool, ToolCallID: id, Name: tool, Content: content}
}

func TestMockAnswersFromResults(t *testing.T) {
	t.Run("OK employee record", func(t *testing.T) {
		resp := complete(t, afterTools("Get employee E001", result("call_2_1", "hr.get_employee",
			`{"id":"E001","name":"Sarah Johnson","title":"Chief Executive Officer","department":"Executive",`+
				`"department_id":"EXE","email":"sarah.johnson@acme.example","manager_id":null,"status":"active"}`)))
		require.Empty(t, resp.ToolCalls)
		require.Equal(t, "stop", resp.FinishReason)
		for _, s := range []string{"Sarah Johnson", "E001", "Chief Executive Officer", "Executive", "sarah.johnson@acme.example", "active"} {
			require.Contains(t, resp.Content, s)
		}
		require.NotContains(t, resp.Content, "EXE")
	})

	t.Run("OK a list becomes a table with every row", func(t *testing.T) {
		resp := complete(t, afterTools("who works in engineering", result("c1", "hr.search_employees",
			`{"employees":[{"id":"E002","name":"Mike Chen","title":"VP Engineering"},{"id":"E007","name":"Ann Lee","title":"Engineer"}],"count":2,"total_matches":2}`)))
		require.Contains(t, resp.Content, "| ID | Name | Title |")
		require.Contains(t, resp.Content, "| E002 | Mike Chen | VP Engineering |")
		require.Contains(t, resp.Content, "| E007 | Ann Lee | Engineer |")
	})

	t.Run("OK amounts with their currency", func(t *testing.T) {
		resp := complete(t, afterTools("show invoice INV-001", result("c1", "erp.get_invoice",
			`{"id":"INV-001","status":"overdue","customer":{"id":"C001","name":"Northwind Traders"},"currency":"USD","total":1082.5}`)))
		for _, s := range []string{"INV-001", "overdue", "Northwind Traders", "1082.50 USD"} {
			require.Contains(t, resp.Content, s)
		}
	})

	t.Run("OK an empty list says so", func(t *testing.T) {
		resp := complete(t, afterTools("low stock", result("c1", "erp.check_low_stock", `{"items":[],"count":0}`)))
		require.Equal(t, "No items found.", resp.Content)
	})

	t.Run("OK several results in call order", func(t *testing.T) {
		req := afterTools("get employee E001 and show invoice INV-001",
			result("a", "hr.get_employee", `{"id":"E001","name":"Sarah Johnson"}`),
			result("b", "erp.get_invoice", `{"id":"INV-001","status":"paid"}`))
		// Results saved out of order are still answered in the order of the calls.
		n := len(req.Messages)
		req.Messages[n-1], req.Messages[n-2] = req.Messages[n-2], req.Messages[n-1]
		resp := complete(t, req)
		require.Less(t, strings.Index(resp.Content, "**hr.get_employee**"), strings.Index(resp.Content, "**erp.get_invoice**"))
		require.Contains(t, resp.Content, "Sarah Johnson")
		require.Contains(t, resp.Content, "paid")
	})

	t.Run("OK the tool name comes from the call when the result lacks it", func(t *testing.T) {
		req := afterTools("get employee E404", result("a", "hr.get_employee", `{"error":"no employee has ID E404","type":"not_found"}`))
		req.Messages[len(req.Messages)-1].Name = ""
		resp := complete(t, req)
		require.Equal(t, "I couldn't find that: no employee has ID E404.", resp.Content)
	})

	t.Run("OK a denial noted earlier is repeated in the answer", func(t *testing.T) {
		req := afterTools("get employee E001 and scale api-server to 3 replicas", result("a", "hr.get_employee", `{"name":"Sarah Johnson"}`))
		req.Tools = toolDefs("hr.get_employee")
		resp := complete(t, req)
		require.Contains(t, resp.Content, "Sarah Johnson")
		require.Contains(t, resp.Content, "doesn't have access to devops.scale_deployment")
	})
}

func TestMockExplainsErrors(t *testing.T) {
	tests := []struct {
		name, tool, content, want string
	}{
		{"OK denied", "devops.scale_deployment", `{"error":"you are not allowed to use devops.scale_deployment","type":"denied"}`,
			"I couldn't do that: you are not allowed to use devops.scale_deployment."},
		{"OK rejected", "devops.scale_deployment", `{"error":"rejected by dan: not during the freeze","type":"rejected"}`,
			"The request was rejected by dan: not during the freeze. devops.scale_deployment did not run."},
		{"OK rejected with approver field", "erp.create_invoice", `{"error":"too many units","type":"rejected","approver":"dan"}`,
			"The request to use erp.create_invoice was rejected by dan: too many units. erp.create_invoice did not run."},
		{"OK expired", "devops.scale_deployment", `{"error":"nobody decided within 10m","type":"expired"}`,
			"The approval request for devops.scale_deployment expired before anyone decided, so it did not run (nobody decided within 10m)."},
		{"OK not found", "hr.get_employee", `{"error":"no employee has ID E999","type":"not_found"}`,
			"I couldn't find that: no employee has ID E999."},
		{"OK invalid", "devops.list_pods", `{"error":"namespace: does not match pattern","type":"invalid"}`,
			"I couldn't run devops.list_pods because the request was not valid: namespace: does not match pattern."},
		{"OK unavailable", "erp.get_invoice", `{"error":"the database is down","type":"unavailable"}`,
			"erp.get_invoice is unavailable right now: the database is down. Please try again later."},
		{"OK plain error text", "hr.get_employee", "Error: connection refused",
			"hr.get_employee failed: connection refused."},
		{"OK plain denial text", "devops.scale_deployment", "Error: you are not allowed to use devops.scale_deployment.",
			"I couldn't do that: you are not allowed to use devops.scale_deployment."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := complete(t, afterTools("do it", result("c1", tt.tool, tt.content)))
			require.Equal(t, tt.want, resp.Content)
			require.Empty(t, resp.ToolCalls)
		})
	}
}

func TestMockStreaming(t *testing.T) {
	t.Run("OK the answer arrives in chunks of a few words", func(t *testing.T) {
		var deltas []string
		resp, err := (&llm.Mock{}).Complete(context.Background(), llm.Request{
			Messages: []llm.Message{{Role: llm.RoleUser, Content: "Get employee E001"}},
		}, func(s string) { deltas = append(deltas, s) })
		require.NoError(t, err)
		require.Greater(t, len(deltas), 2)
		require.Equal(t, resp.Content, strings.Join(deltas, ""))
		for _, d := range deltas {
			require.LessOrEqual(t, len(strings.Fields(d)), 4, d)
		}
		require.Positive(t, resp.Usage.PromptTokens)
		require.Positive(t, resp.Usage.CompletionTokens)
	})

	t.Run("ErrCancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := (&llm.Mock{}).Complete(ctx, llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}, nil)
		var le *llm.Error
		require.ErrorAs(t, err, &le)
		require.True(t, le.Retryable())
	})

	t.Run("ErrCancelledWhileStreaming", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		m := &llm.Mock{Delay: 50 * time.Millisecond}
		_, err := m.Complete(ctx, llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}, func(string) { cancel() })
		var le *llm.Error
		require.ErrorAs(t, err, &le)
		require.True(t, le.Retryable())
	})
}
