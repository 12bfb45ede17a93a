package platform_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"mcp-platform/internal/llm/mock"
	"mcp-platform/internal/llm/mock/mocktest"
	"mcp-platform/platform"
)

// demoUserTools are the tools each README demo user may call (config/domains/*.yaml: their roles'
// permissions; every demo user is also an employee, who may browse the departments).
var demoUserTools = func() map[string][]string {
	employee := []string{"hr.list_departments", "hr.get_department"}
	hrTools := []string{"hr.get_employee", "hr.search_employees", "hr.list_departments", "hr.get_department", "hr.get_manager", "hr.list_reports"}
	erpTools := []string{"erp.get_invoice", "erp.list_invoices", "erp.create_invoice", "erp.check_low_stock", "erp.get_inventory_item"}
	devopsTools := []string{"devops.list_pods", "devops.get_pod_logs", "devops.list_deployments", "devops.scale_deployment"}
	return map[string][]string{
		"alice":  hrTools,
		"bob":    append(erpTools, employee...),
		"fiona":  append(erpTools, employee...),
		"carol":  append(devopsTools, employee...),
		"dan":    append(devopsTools, employee...),
		"audrey": employee,
	}
}()

// Where a phrasing must land when it calls no tool.
const (
	help      = "help"      // the list of what the assistant can do for this user
	denied    = "denied"    // a plain refusal naming the tool the user may not call
	approvals = "approvals" // a pointer to the Pending approvals page
	auditLog  = "audit"     // a pointer to the Audit page
)

// TestMockDemoUsersPhrasings checks what the demo users of the README actually type: each
// phrasing, asked by that user (with the tools their roles allow offered), reaches the right tool
// with the right arguments, or a clear answer of what the assistant can do instead.
func TestMockDemoUsersPhrasings(t *testing.T) {
	p := mock.New(platform.BuiltinAdapters().MockDemos...)
	cases := []struct {
		user, text string
		want       []mocktest.Call // the calls, or nil when the reply is one of the answers below
		reply      string          // help, denied, approvals or audit when want is nil
		mention    string          // a text the reply must contain (the tool denied, ...)
	}{
		// alice, HR manager
		{user: "alice", text: "Get employee E001", want: mocktest.Want("hr.get_employee", map[string]any{"employee_id": "E001"})},
		{user: "alice", text: "who works in Engineering?", want: mocktest.Want("hr.search_employees", map[string]any{"department": "Engineering"})},
		{user: "alice", text: "who reports to E002?", want: mocktest.Want("hr.list_reports", map[string]any{"employee_id": "E002"})},
		{user: "alice", text: "Michael Chen's manager?", want: mocktest.Want("hr.search_employees", map[string]any{"query": "Michael Chen"})},
		{user: "alice", text: "Who is Michael Chen's manager?", want: mocktest.Want("hr.search_employees", map[string]any{"query": "Michael Chen"})},
		{user: "alice", text: "who is the manager of E012", want: mocktest.Want("hr.get_manager", map[string]any{"employee_id": "E012"})},
		{user: "alice", text: "what's Priya Patel's email?", want: mocktest.Want("hr.search_employees", map[string]any{"query": "Priya Patel"})},
		{user: "alice", text: "show me e5", want: mocktest.Want("hr.get_employee", map[string]any{"employee_id": "E005"})},
		{user: "alice", text: "list all employees in sales", want: mocktest.Want("hr.search_employees", map[string]any{"department": "Sales"})},
		{user: "alice", text: "find software engineers", want: mocktest.Want("hr.search_employees", map[string]any{"query": "software engineers"})},
		{user: "alice", text: "Tell me about the Finance department", want: mocktest.Want("hr.get_department", map[string]any{"department": "Finance"})},
		{user: "alice", text: "what departments do we have?", want: mocktest.Want("hr.list_departments", map[string]any{})},
		{user: "alice", text: "scale api-server to 3 replicas", reply: denied, mention: "devops.scale_deployment"},

		// bob, finance clerk
		{user: "bob", text: "show invoice INV-001", want: mocktest.Want("erp.get_invoice", map[string]any{"invoice_id": "INV-001"})},
		{user: "bob", text: "which components are low on stock?", want: mocktest.Want("erp.check_low_stock", map[string]any{"category": "components"})},
		{user: "bob", text: "what do we need to reorder?", want: mocktest.Want("erp.check_low_stock", map[string]any{})},
		{user: "bob", text: "list overdue invoices", want: mocktest.Want("erp.list_invoices", map[string]any{"status": "overdue"})},
		{user: "bob", text: "invoices for Northwind Traders", want: mocktest.Want("erp.list_invoices", map[string]any{"customer": "Northwind Traders"})},
		{user: "bob", text: "how many CMP-001 do we have left?", want: mocktest.Want("erp.get_inventory_item", map[string]any{"sku": "CMP-001"})},
		{user: "bob", text: "create an invoice for Northwind Traders for 5 x CMP-001", want: mocktest.Want("erp.create_invoice",
			map[string]any{"customer": "Northwind Traders", "items": []any{map[string]any{"sku": "CMP-001", "quantity": float64(5)}}})},
		{user: "bob", text: "Get employee E001", reply: denied, mention: "hr.get_employee"},

		// fiona, finance manager
		{user: "fiona", text: "invoices to approve?", reply: approvals},
		{user: "fiona", text: "which invoices are waiting for my approval?", reply: approvals},
		{user: "fiona", text: "anything pending approval?", reply: approvals},
		{user: "fiona", text: "show me the paid invoices", want: mocktest.Want("erp.list_invoices", map[string]any{"status": "paid"})},
		{user: "fiona", text: "List the last 5 invoices", want: mocktest.Want("erp.list_invoices", map[string]any{"limit": float64(5)})},

		// carol, SRE
		{user: "carol", text: "list pods in production", want: mocktest.Want("devops.list_pods", map[string]any{"namespace": "production"})},
		{user: "carol", text: "scale api-server to 3 replicas", want: mocktest.Want("devops.scale_deployment", map[string]any{"deployment_name": "api-server", "replicas": float64(3)})},
		{user: "carol", text: "what's running in staging?", want: mocktest.Want("devops.list_pods", map[string]any{"namespace": "staging"})},
		{user: "carol", text: "show deployments in staging", want: mocktest.Want("devops.list_deployments", map[string]any{"namespace": "staging"})},
		{user: "carol", text: "Show the logs of api-server-wz6rbskfv-7pt42", want: mocktest.Want("devops.get_pod_logs", map[string]any{"pod_name": "api-server-wz6rbskfv-7pt42"})},
		{user: "carol", text: "tail 50 lines of payment-service-hjhdm6dv2-czsr5 logs in staging", want: mocktest.Want("devops.get_pod_logs",
			map[string]any{"pod_name": "payment-service-hjhdm6dv2-czsr5", "namespace": "staging", "tail": float64(50)})},
		{user: "carol", text: "show invoice INV-001", reply: denied, mention: "erp.get_invoice"},

		// dan, SRE lead
		{user: "dan", text: "what do I need to approve?", reply: approvals},
		{user: "dan", text: "list deployments", want: mocktest.Want("devops.list_deployments", map[string]any{})},
		{user: "dan", text: "scale web-frontend down to 2 in staging", want: mocktest.Want("devops.scale_deployment",
			map[string]any{"deployment_name": "web-frontend", "replicas": float64(2), "namespace": "staging"})},

		// audrey, auditor
		{user: "audrey", text: "show me the audit log", reply: auditLog},
		{user: "audrey", text: "who called hr.get_employee today? check the audit trail", reply: auditLog},
		{user: "audrey", text: "what can you do?", reply: help, mention: "List departments"},
		{user: "audrey", text: "list departments", want: mocktest.Want("hr.list_departments", map[string]any{})},
		{user: "audrey", text: "hello", reply: help, mention: "Show the Engineering department"},
	}
	for _, tc := range cases {
		t.Run(tc.user+": "+tc.text, func(t *testing.T) {
			tools, ok := demoUserTools[tc.user]
			require.True(t, ok, "unknown demo user %s", tc.user)
			resp := mocktest.Ask(t, p, tc.text, tools...)
			got := mocktest.Calls(t, resp)
			if tc.want != nil {
				require.Equal(t, tc.want, got, "reply: %s", resp.Content)
				return
			}
			require.Empty(t, got, "no tool for %q, reply: %s", tc.text, resp.Content)
			switch tc.reply {
			case help:
				require.Contains(t, resp.Content, "Try one of these")
			case denied:
				require.Contains(t, resp.Content, "doesn't have access to")
			case approvals:
				require.Contains(t, resp.Content, "Pending approvals")
			case auditLog:
				require.Contains(t, resp.Content, "Audit")
				require.NotContains(t, resp.Content, "pod")
			default:
				t.Fatalf("case without want or reply")
			}
			require.Contains(t, resp.Content, tc.mention)
		})
	}
}
