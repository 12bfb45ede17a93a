package mock_test

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"mcp-platform/internal/llm"
	"mcp-platform/internal/llm/mock"
	"mcp-platform/internal/llm/mock/mocktest"
)

// The fixture demos teach the engine a small shop: orders looked up by number, refunds and
// shipments that claim their order number first (a shipment without a destination asks for
// one), items by SKU, and notes that read the rest of their clause, which shows where clauses
// end.
var (
	reOrder  = regexp.MustCompile(`(?i)\border\s+#?(\d{1,6})\b`)
	reRefund = regexp.MustCompile(`(?i)\brefund\s+(?:of\s+)?order\s+#?(\d{1,6})\b`)
	reShip   = regexp.MustCompile(`(?i)\bship\s+order\s+#?(\d{1,6})(?:\s+to\s+(\pL+))?`)
	reItem   = regexp.MustCompile(`\b([A-Z]{3}-\d{3})\b`)
	reNote   = regexp.MustCompile(`(?i)\bnote\s+(.+)`)
)

func shopDemo() mock.Demo {
	order := func(sub []string) map[string]any { return map[string]any{"order_id": mock.PadID("O-", sub[1])} }
	return mock.Demo{Skills: []mock.Skill{
		{Tool: "shop.get_order", Action: "look up orders", Priority: 10, Examples: []string{"Show order 12"},
			Find: func(clause string) []mock.Match { return mock.All(clause, order, reOrder) }},
		{Tool: "shop.refund_order", Action: "refund orders", Priority: 20, Examples: []string{"Refund order 7"},
			Find: func(clause string) []mock.Match { return mock.All(clause, order, reRefund) }},
		{Tool: "shop.ship_order", Action: "ship orders", Priority: 20, Examples: []string{"Ship order 3 to Paris"},
			Find: func(clause string) []mock.Match {
				sub := reShip.FindStringSubmatchIndex(clause)
				if sub == nil {
					return nil
				}
				m := mock.Match{Start: sub[0], End: sub[1]}
				if sub[4] < 0 {
					m.Ask = "Where to? Give me the city."
				} else {
					m.Args = map[string]any{"order_id": mock.PadID("O-", clause[sub[2]:sub[3]]), "to": clause[sub[4]:sub[5]]}
				}
				return []mock.Match{m}
			}},
	}, Verbs: []string{"refund", "ship"}}
}

func stockDemo() mock.Demo {
	return mock.Demo{Skills: []mock.Skill{
		{Tool: "stock.get_item", Action: "look up items", Priority: 10, Examples: []string{"How many ABC-123 are left?"},
			Find: func(clause string) []mock.Match {
				return mock.All(clause, func(sub []string) map[string]any { return map[string]any{"sku": sub[1]} }, reItem)
			}},
		{Tool: "stock.add_note", Action: "add notes", Priority: 1, Examples: []string{"Note the shelf is empty"},
			Find: func(clause string) []mock.Match {
				return mock.First(clause, func(sub []string) map[string]any { return map[string]any{"text": sub[1]} }, reNote)
			}},
	}}
}

// tools are every fixture tool.
var tools = mocktest.ToolsOf(shopDemo(), stockDemo())

func newMock() *mock.Mock { return mock.New(shopDemo(), stockDemo()) }

func TestMockSkills(t *testing.T) {
	mocktest.Run(t, []mocktest.Case{
		{Name: "OK one request", Text: "show order 12", Want: mocktest.Want("shop.get_order", map[string]any{"order_id": "O-012"})},
		{Name: "OK a higher priority claims its words first", Text: "refund order 7",
			Want: mocktest.Want("shop.refund_order", map[string]any{"order_id": "O-007"})},
		{Name: "OK two requests of one skill", Text: "get order 1 and order 2", Want: []mocktest.Call{
			{Tool: "shop.get_order", Args: map[string]any{"order_id": "O-001"}},
			{Tool: "shop.get_order", Args: map[string]any{"order_id": "O-002"}},
		}},
		{Name: "OK two skills in the order they were asked", Text: "how many ABC-123 are left and show order 5", Want: []mocktest.Call{
			{Tool: "stock.get_item", Args: map[string]any{"sku": "ABC-123"}},
			{Tool: "shop.get_order", Args: map[string]any{"order_id": "O-005"}},
		}},
		{Name: "OK two sentences", Text: "Show order 5. Also how many ABC-123 are left?", Want: []mocktest.Call{
			{Tool: "shop.get_order", Args: map[string]any{"order_id": "O-005"}},
			{Tool: "stock.get_item", Args: map[string]any{"sku": "ABC-123"}},
		}},
		{Name: "OK a clause ends where a new request starts", Text: "note the shelf is empty, then show order 3", Want: []mocktest.Call{
			{Tool: "stock.add_note", Args: map[string]any{"text": "the shelf is empty"}},
			{Tool: "shop.get_order", Args: map[string]any{"order_id": "O-003"}},
		}},
		{Name: "OK and between nouns keeps the clause whole", Text: "note Smith and Sons called", Want: []mocktest.Call{
			{Tool: "stock.add_note", Args: map[string]any{"text": "Smith and Sons called"}},
		}},
		{Name: "OK a request said twice is made once", Text: "show order 4; show order 4", Want: []mocktest.Call{
			{Tool: "shop.get_order", Args: map[string]any{"order_id": "O-004"}},
		}},
	}, shopDemo(), stockDemo())

	t.Run("OK a demo's verb starts a new clause", func(t *testing.T) {
		const text = "note the box is open and refund order 2"
		resp := mocktest.Ask(t, newMock(), text, tools...)
		require.Equal(t, []mocktest.Call{
			{Tool: "stock.add_note", Args: map[string]any{"text": "the box is open"}},
			{Tool: "shop.refund_order", Args: map[string]any{"order_id": "O-002"}},
		}, mocktest.Calls(t, resp))

		// Without the verb, "and refund ..." joins the note's clause, which the refund claims first.
		untaught := shopDemo()
		untaught.Verbs = nil
		resp = mocktest.Ask(t, mock.New(untaught, stockDemo()), text, tools...)
		require.Equal(t, mocktest.Want("shop.refund_order", map[string]any{"order_id": "O-002"}), mocktest.Calls(t, resp))
	})

	t.Run("OK equal priorities keep the order New was given", func(t *testing.T) {
		find := func(clause string) []mock.Match {
			return []mock.Match{{Start: 0, End: len(clause), Args: map[string]any{}}}
		}
		a := mock.Demo{Skills: []mock.Skill{{Tool: "a.any", Action: "a", Find: find}}}
		b := mock.Demo{Skills: []mock.Skill{{Tool: "b.any", Action: "b", Find: find}}}
		require.Equal(t, "a.any", mocktest.Ask(t, mock.New(a, b), "anything", "a.any", "b.any").ToolCalls[0].Name)
		require.Equal(t, "b.any", mocktest.Ask(t, mock.New(b, a), "anything", "a.any", "b.any").ToolCalls[0].Name)
	})

	mocktest.CheckExamples(t, shopDemo(), stockDemo())
}

func TestMockToolCallIDs(t *testing.T) {
	t.Run("OK IDs depend only on the conversation position", func(t *testing.T) {
		m := newMock()
		first := mocktest.Ask(t, m, "show order 1 and how many ABC-123 are left", tools...)
		again := mocktest.Ask(t, m, "show order 1 and how many ABC-123 are left", tools...)
		require.Equal(t, first, again)
		require.Equal(t, "call_2_1", first.ToolCalls[0].ID)
		require.Equal(t, "call_2_2", first.ToolCalls[1].ID)

		later := mocktest.Complete(t, m, llm.Request{Tools: mocktest.Tools(tools...), Messages: []llm.Message{
			{Role: llm.RoleUser, Content: "show order 1"},
			{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{first.ToolCalls[0]}},
			{Role: llm.RoleTool, ToolCallID: "call_2_1", Name: "shop.get_order", Content: `{"name":"Order 1"}`},
			{Role: llm.RoleAssistant, Content: "Order 1."},
			{Role: llm.RoleUser, Content: "show order 2"},
		}})
		require.Equal(t, "call_5_1", later.ToolCalls[0].ID)
	})
}

func TestMockDenials(t *testing.T) {
	t.Run("OK a missing tool gets a plain denial", func(t *testing.T) {
		resp := mocktest.Ask(t, newMock(), "show order 1", "stock.get_item")
		require.Empty(t, resp.ToolCalls)
		require.Equal(t, "stop", resp.FinishReason)
		require.Equal(t, "I can't look up orders for you: your account doesn't have access to shop.get_order.", resp.Content)
	})

	t.Run("OK the allowed part runs and the rest is explained", func(t *testing.T) {
		resp := mocktest.Ask(t, newMock(), "show order 1 and refund order 2", "shop.get_order")
		require.Equal(t, []mocktest.Call{{Tool: "shop.get_order", Args: map[string]any{"order_id": "O-001"}}}, mocktest.Calls(t, resp))
		require.Equal(t, "I can't refund orders for you: your account doesn't have access to shop.refund_order.\n\n"+
			"Let me check that with shop.get_order.", resp.Content)
	})

	t.Run("OK a claimed request does not fall back to a looser skill", func(t *testing.T) {
		resp := mocktest.Ask(t, newMock(), "refund order 7", "shop.get_order")
		require.Empty(t, resp.ToolCalls)
		require.Contains(t, resp.Content, "shop.refund_order")
	})

	t.Run("OK an incomplete request asks for what is missing", func(t *testing.T) {
		resp := mocktest.Ask(t, newMock(), "ship order 3", tools...)
		require.Empty(t, resp.ToolCalls)
		require.Equal(t, "Where to? Give me the city.", resp.Content)
	})
}

func TestMockHelp(t *testing.T) {
	t.Run("OK lists examples of the available tools by domain", func(t *testing.T) {
		tools := append(mocktest.Tools("shop.get_order", "stock.get_item"), llm.ToolDef{Name: "ledger.add_entry", Description: "Adds an entry. Idempotent."})
		resp := mocktest.Complete(t, newMock(), llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hello there"}}, Tools: tools})
		require.Empty(t, resp.ToolCalls)
		require.Equal(t, "stop", resp.FinishReason)
		require.Equal(t, "I'm the platform's demo assistant. I didn't recognise a request I can help with. Try one of these:\n\n"+
			"**ledger**\n- ledger.add_entry: Adds an entry.\n\n"+
			"**shop**\n- \"Show order 12\"\n\n"+
			"**stock**\n- \"How many ABC-123 are left?\"", resp.Content)
	})

	t.Run("OK without any tool", func(t *testing.T) {
		resp := mocktest.Ask(t, newMock(), "hello")
		require.Contains(t, resp.Content, "doesn't have access to any tools")
	})

	t.Run("OK without demos the tools' descriptions are the help", func(t *testing.T) {
		resp := mocktest.Ask(t, mock.New(), "show order 1", "shop.get_order")
		require.Contains(t, resp.Content, "- shop.get_order: The shop.get_order tool.")
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
	return llm.Request{Messages: append(msgs, results...), Tools: mocktest.Tools(tools...)}
}

func result(id, tool, content string) llm.Message {
	return llm.Message{Role: llm.RoleTool, ToolCallID: id, Name: tool, Content: content}
}

func TestMockAnswersFromResults(t *testing.T) {
	t.Run("OK a record", func(t *testing.T) {
		got := mocktest.Answer(t, newMock(), "Get employee E001", "hr.get_employee",
			`{"id":"E001","name":"Sarah Johnson","title":"Chief Executive Officer","department":"Executive",`+
				`"department_id":"EXE","email":"sarah.johnson@acme.example","manager_id":null,"status":"active"}`)
		require.Equal(t, "**Sarah Johnson** (E001)\n\n- Title: Chief Executive Officer\n- Status: active\n"+
			"- Email: sarah.johnson@acme.example\n- Department: Executive\n- Manager ID: none", got)
	})

	t.Run("OK a list becomes a table with every row", func(t *testing.T) {
		got := mocktest.Answer(t, newMock(), "who works in engineering", "hr.search_employees",
			`{"employees":[{"id":"E002","name":"Mike Chen","title":"VP Engineering"},{"id":"E007","name":"Ann Lee","title":"Engineer"}],"count":2,"total_matches":2}`)
		require.Contains(t, got, "| ID | Name | Title |")
		require.Contains(t, got, "| E002 | Mike Chen | VP Engineering |")
		require.Contains(t, got, "| E007 | Ann Lee | Engineer |")
	})

	t.Run("OK amounts with their currency", func(t *testing.T) {
		got := mocktest.Answer(t, newMock(), "show invoice INV-001", "erp.get_invoice",
			`{"id":"INV-001","status":"overdue","customer":{"id":"C001","name":"Northwind Traders"},"currency":"USD","total":1082.5}`)
		for _, s := range []string{"INV-001", "overdue", "Northwind Traders", "1082.50 USD"} {
			require.Contains(t, got, s)
		}
	})

	t.Run("OK an empty list says so", func(t *testing.T) {
		require.Equal(t, "No items found.", mocktest.Answer(t, newMock(), "low stock", "erp.check_low_stock", `{"items":[],"count":0}`))
	})

	t.Run("OK several results in call order", func(t *testing.T) {
		req := afterTools("show order 1 and how many ABC-123 are left",
			result("a", "shop.get_order", `{"id":"O-001","name":"Order one"}`),
			result("b", "stock.get_item", `{"sku":"ABC-123","status":"low"}`))
		// Results saved out of order are still answered in the order of the calls.
		n := len(req.Messages)
		req.Messages[n-1], req.Messages[n-2] = req.Messages[n-2], req.Messages[n-1]
		resp := mocktest.Complete(t, newMock(), req)
		require.Less(t, strings.Index(resp.Content, "**shop.get_order**"), strings.Index(resp.Content, "**stock.get_item**"))
		require.Contains(t, resp.Content, "Order one")
		require.Contains(t, resp.Content, "low")
	})

	t.Run("OK the tool name comes from the call when the result lacks it", func(t *testing.T) {
		req := afterTools("show order 404", result("a", "shop.get_order", `{"error":"no order has number 404","type":"not_found"}`))
		req.Messages[len(req.Messages)-1].Name = ""
		resp := mocktest.Complete(t, newMock(), req)
		require.Equal(t, "I couldn't find that: no order has number 404.", resp.Content)
	})

	t.Run("OK a denial noted earlier is repeated in the answer", func(t *testing.T) {
		req := afterTools("show order 1 and refund order 2", result("a", "shop.get_order", `{"name":"Order one"}`))
		req.Tools = mocktest.Tools("shop.get_order")
		resp := mocktest.Complete(t, newMock(), req)
		require.Equal(t, "**Order one**\n\nI can't refund orders for you: your account doesn't have access to shop.refund_order.", resp.Content)
	})
}

func TestMockHints(t *testing.T) {
	const item = `{"code":"ABC-123","label":"Widget","bin":"B7","unit_cost":2.5,"currency":"EUR","on_hand":4}`

	t.Run("OK without a demo's hints fields follow the generic ones alphabetically", func(t *testing.T) {
		got := mocktest.Answer(t, mock.New(), "how many ABC-123", "stock.get_item", item)
		require.Equal(t, "- Currency: EUR\n- Bin: B7\n- Code: ABC-123\n- Label: Widget\n- On hand: 4\n- Unit cost: 2.5", got)
	})

	t.Run("OK a demo's hints name, identify, order and format the fields", func(t *testing.T) {
		stock := mock.Demo{Hints: mock.Hints{NameKeys: []string{"label"}, IDKeys: []string{"code"},
			FieldOrder: []string{"on_hand", "unit_cost"}, MoneyKeys: []string{"unit_cost"}, Labels: map[string]string{"bin": "BIN"}}}
		got := mocktest.Answer(t, mock.New(stock), "how many ABC-123", "stock.get_item", item)
		require.Equal(t, "**Widget** (ABC-123)\n\n- On hand: 4\n- Unit cost: 2.50 EUR\n- BIN: B7", got)
	})

	t.Run("OK the column orders of several demos merge, each keeping its own", func(t *testing.T) {
		rows := `{"rows":[{"id":"1","name":"n","zone":"z","bin":"b","aisle":"a","shelf":"s"}]}`
		a := mock.Demo{Hints: mock.Hints{ColumnOrder: []string{"id", "shelf", "name"}}}
		b := mock.Demo{Hints: mock.Hints{ColumnOrder: []string{"zone", "bin", "name", "aisle"}}}
		got := mocktest.Answer(t, mock.New(a, b), "list", "stock.list", rows)
		require.Contains(t, got, "| ID | Shelf | Zone | Bin | Name | Aisle |")
	})

	t.Run("OK an earlier demo's label wins", func(t *testing.T) {
		a := mock.Demo{Hints: mock.Hints{Labels: map[string]string{"bin": "BIN"}}}
		b := mock.Demo{Hints: mock.Hints{Labels: map[string]string{"bin": "Bin#"}}}
		require.Equal(t, "- BIN: b", mocktest.Answer(t, mock.New(a, b), "show", "stock.get", `{"bin":"b"}`))
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
		{"OK unavailable without a message", "erp.get_invoice", `{"error":"","type":"unavailable"}`,
			"erp.get_invoice is unavailable right now. Please try again later."},
		{"OK plain error text", "hr.get_employee", "Error: connection refused",
			"hr.get_employee failed: connection refused."},
		{"OK plain denial text", "devops.scale_deployment", "Error: you are not allowed to use devops.scale_deployment.",
			"I couldn't do that: you are not allowed to use devops.scale_deployment."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := mocktest.Complete(t, newMock(), afterTools("do it", result("c1", tt.tool, tt.content)))
			require.Equal(t, tt.want, resp.Content)
			require.Empty(t, resp.ToolCalls)
		})
	}
}

func TestMockStreaming(t *testing.T) {
	t.Run("OK the answer arrives in chunks of a few words", func(t *testing.T) {
		var deltas []string
		resp, err := newMock().Complete(context.Background(), llm.Request{
			Messages: []llm.Message{{Role: llm.RoleUser, Content: "Show order 1"}},
		}, func(s string) { deltas = append(deltas, s) })
		require.NoError(t, err)
		require.Greater(t, len(deltas), 2)
		require.Equal(t, resp.Content, strings.Join(deltas, ""))
		for _, d := range deltas {
			require.LessOrEqual(t, len(strings.Fields(d)), 4, d)
		}
		require.Positive(t, resp.Usage.PromptTokens)
		require.Positive(t, resp.Usage.CompletionTokens)
		require.Equal(t, mock.ModelName, resp.Model)
	})

	t.Run("OK usage grows with the conversation and the tools offered", func(t *testing.T) {
		ask := func(req llm.Request) llm.Usage {
			resp, err := newMock().Complete(context.Background(), req, nil)
			require.NoError(t, err)
			return resp.Usage
		}
		short := ask(llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hello"}}})
		long := ask(llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hello " + strings.Repeat("and more words ", 100)}}})
		tools := ask(llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hello"}}, Tools: []llm.ToolDef{{
			Name: "hr.get_employee", Description: "Look up an employee by ID.",
			Parameters: map[string]any{"type": "object", "properties": map[string]any{"employee_id": map[string]any{"type": "string"}}},
		}}})
		require.Greater(t, long.PromptTokens, short.PromptTokens+300, "about four characters a token")
		require.Greater(t, tools.PromptTokens, short.PromptTokens+10, "tool schemas are part of the prompt")
	})

	t.Run("ErrCancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := newMock().Complete(ctx, llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}, nil)
		var le *llm.Error
		require.ErrorAs(t, err, &le)
		require.True(t, le.Retryable())
	})

	t.Run("ErrCancelledWhileStreaming", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		m := newMock()
		m.Delay = 50 * time.Millisecond
		_, err := m.Complete(ctx, llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}, func(string) { cancel() })
		var le *llm.Error
		require.ErrorAs(t, err, &le)
		require.True(t, le.Retryable())
	})
}

// TestMockPlatformQuestions checks the questions about the platform itself that no tool
// serves: they get an answer saying where to look, and never a domain's tool.
func TestMockPlatformQuestions(t *testing.T) {
	tools := mocktest.ToolsOf(shopDemo(), stockDemo())
	cases := []struct{ name, text, want string }{
		{"OK orders to approve", "orders to approve?", "**Pending approvals**"},
		{"OK waiting for my approval", "which refunds are waiting for my approval?", "**Pending approvals**"},
		{"OK pending approvals", "show pending approvals", "**Pending approvals**"},
		{"OK what can I approve", "what can I approve", "**Pending approvals**"},
		{"OK the audit log", "show me the audit log", "**Audit** page"},
		{"OK the audit trail of an order", "audit trail of order 4", "**Audit** page"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := mocktest.Ask(t, newMock(), tc.text, tools...)
			require.Empty(t, resp.ToolCalls)
			require.Equal(t, "stop", resp.FinishReason)
			require.Contains(t, resp.Content, tc.want)
		})
	}

	t.Run("OK a command that mentions approval is still the command", func(t *testing.T) {
		resp := mocktest.Ask(t, newMock(), "refund order 7, it needs approval", tools...)
		require.Equal(t, mocktest.Want("shop.refund_order", map[string]any{"order_id": "O-007"}), mocktest.Calls(t, resp))
	})

	t.Run("OK the answer to another request keeps the pointer", func(t *testing.T) {
		resp := mocktest.Ask(t, newMock(), "show order 1. What do I need to approve?", tools...)
		require.Equal(t, mocktest.Want("shop.get_order", map[string]any{"order_id": "O-001"}), mocktest.Calls(t, resp))
		require.Contains(t, resp.Content, "**Pending approvals**")
	})
}

func TestMockSearchesForMissingTools(t *testing.T) {
	ctx := context.Background()
	m := newMock()
	def := func(names ...string) []llm.ToolDef {
		var out []llm.ToolDef
		for _, n := range names {
			out = append(out, llm.ToolDef{Name: n, Description: n})
		}
		return out
	}
	user := []llm.Message{{Role: llm.RoleUser, Content: "show order 1 and how many ABC-123 are left?"}}

	t.Run("OK it searches by what the request does", func(t *testing.T) {
		resp, err := m.Complete(ctx, llm.Request{Messages: user, Tools: def("stock.get_item", mock.SearchTool)}, nil)
		require.NoError(t, err)
		require.Equal(t, []llm.ToolCall{{ID: "search_1_1", Name: mock.SearchTool, Arguments: `{"query":"look up orders"}`}}, resp.ToolCalls)
		require.Equal(t, "tool_calls", resp.FinishReason)
	})

	searched := append(slices.Clone(user),
		llm.Message{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "search_1_1", Name: mock.SearchTool, Arguments: `{"query":"look up orders"}`}}},
		llm.Message{Role: llm.RoleTool, ToolCallID: "search_1_1", Name: mock.SearchTool, Content: `{"tools":[{"name":"shop.get_order"}]}`})

	t.Run("OK then calls the tools found", func(t *testing.T) {
		resp, err := m.Complete(ctx, llm.Request{Messages: searched, Tools: def("shop.get_order", "stock.get_item", mock.SearchTool)}, nil)
		require.NoError(t, err)
		require.Equal(t, []mocktest.Call{
			{Tool: "shop.get_order", Args: map[string]any{"order_id": "O-001"}},
			{Tool: "stock.get_item", Args: map[string]any{"sku": "ABC-123"}},
		}, mocktest.Calls(t, resp))
	})

	t.Run("OK and does not search twice", func(t *testing.T) {
		resp, err := m.Complete(ctx, llm.Request{Messages: searched, Tools: def("stock.get_item", mock.SearchTool)}, nil)
		require.NoError(t, err)
		require.Equal(t, []mocktest.Call{{Tool: "stock.get_item", Args: map[string]any{"sku": "ABC-123"}}}, mocktest.Calls(t, resp))
		require.Contains(t, resp.Content, "I can't look up orders for you")
	})

	t.Run("OK without the search tool it denies as before", func(t *testing.T) {
		resp, err := m.Complete(ctx, llm.Request{Messages: user, Tools: def("stock.get_item")}, nil)
		require.NoError(t, err)
		require.Equal(t, []mocktest.Call{{Tool: "stock.get_item", Args: map[string]any{"sku": "ABC-123"}}}, mocktest.Calls(t, resp))
	})
}

func TestMockCallsNamedTools(t *testing.T) {
	// every.get_tiny_image is taught by no demo, as a tool of a domain onboarded by YAML only.
	tools := append(mocktest.ToolsOf(shopDemo(), stockDemo()), "every.get_tiny_image")

	t.Run("OK a tool called by its name, without arguments", func(t *testing.T) {
		for _, text := range []string{"call every.get_tiny_image", "Please use the tool `every.get_tiny_image`", "run every.get_tiny_image."} {
			resp := mocktest.Ask(t, newMock(), text, tools...)
			require.Equal(t, mocktest.Want("every.get_tiny_image", map[string]any{}), mocktest.Calls(t, resp), text)
			require.Equal(t, "Let me check that with every.get_tiny_image.", resp.Content)
		}
	})

	t.Run("OK beside a request a demo teaches", func(t *testing.T) {
		resp := mocktest.Ask(t, newMock(), "show order 2 and call every.get_tiny_image", tools...)
		require.Equal(t, []mocktest.Call{
			{Tool: "shop.get_order", Args: map[string]any{"order_id": "O-002"}},
			{Tool: "every.get_tiny_image", Args: map[string]any{}},
		}, mocktest.Calls(t, resp))
	})

	t.Run("ErrNotOffered a tool the user may not call is denied", func(t *testing.T) {
		resp := mocktest.Ask(t, newMock(), "call every.get_tiny_image", "shop.get_order")
		require.Empty(t, resp.ToolCalls)
		require.Equal(t, "I can't call every.get_tiny_image for you: your account doesn't have access to every.get_tiny_image.", resp.Content)
	})
}
