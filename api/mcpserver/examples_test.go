package mcpserver_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"mcp-platform/domains/devops"
	"mcp-platform/domains/erp"
	"mcp-platform/domains/hr"
	"mcp-platform/domains/kit"
	"mcp-platform/internal/redact"
	"mcp-platform/platform/platformtest"
)

// TestExampleCalls runs the example calls of the three builtin domains through POST /execute,
// on their real backends, as the roles that use them.
func TestExampleCalls(t *testing.T) {
	s := platformtest.Start(t, platformtest.Options{Domains: map[string]kit.Factory{"hr": hr.New, "erp": erp.New, "devops": devops.New}})
	alice, bob, carol := s.DemoToken(t, "alice"), s.DemoToken(t, "bob"), s.DemoToken(t, "carol")
	result := func(body map[string]any) map[string]any { return body["result"].(map[string]any) }
	tests := []struct {
		name   string
		token  string
		tool   string
		args   map[string]any
		status int
		check  func(t *testing.T, body map[string]any)
	}{
		{"OK hr.get_employee", alice, "hr.get_employee", map[string]any{"employee_id": "E001"}, http.StatusOK, func(t *testing.T, b map[string]any) {
			require.Equal(t, "Sarah Johnson", result(b)["name"])
			require.NotEqual(t, redact.Mask, result(b)["salary"], "HR managers see salaries")
		}},
		{"OK hr.search_employees", alice, "hr.search_employees", map[string]any{"department": "Engineering"}, http.StatusOK, func(t *testing.T, b map[string]any) {
			require.NotEmpty(t, result(b)["employees"])
		}},
		{"OK hr.list_departments", bob, "hr.list_departments", map[string]any{}, http.StatusOK, func(t *testing.T, b map[string]any) {
			require.Len(t, result(b)["departments"], 6)
		}},
		{"ErrUnknownEmployee is a clear 404", alice, "hr.get_employee", map[string]any{"employee_id": "E999"}, http.StatusNotFound, func(t *testing.T, b map[string]any) {
			require.Contains(t, b["detail"], "E999")
		}},
		{"ErrDenied for a finance clerk", bob, "hr.get_employee", map[string]any{"employee_id": "E001"}, http.StatusForbidden, nil},
		{"OK erp.get_invoice", bob, "erp.get_invoice", map[string]any{"invoice_id": "INV-001"}, http.StatusOK, func(t *testing.T, b map[string]any) {
			require.Equal(t, "INV-001", result(b)["id"])
			require.NotEmpty(t, result(b)["lines"])
		}},
		{"OK erp.check_low_stock components", bob, "erp.check_low_stock", map[string]any{"category": "components"}, http.StatusOK, func(t *testing.T, b map[string]any) {
			require.NotZero(t, result(b)["count"])
		}},
		{"OK erp.create_invoice small service invoice runs at once", bob, "erp.create_invoice",
			map[string]any{"customer": "C001", "items": []any{map[string]any{"description": "Support hours", "quantity": 2, "unit_price": 95}}}, http.StatusOK,
			func(t *testing.T, b map[string]any) { require.InDelta(t, 205.68, result(b)["total"], 0.001) }},
		{"OK erp.create_invoice priced from inventory waits for approval", bob, "erp.create_invoice",
			map[string]any{"customer": "C001", "items": []any{map[string]any{"sku": "CMP-001", "quantity": 5}}}, http.StatusAccepted,
			func(t *testing.T, b map[string]any) { require.Equal(t, "pending_approval", b["status"]) }},
		{"ErrUnknownInvoice is a clear 404", bob, "erp.get_invoice", map[string]any{"invoice_id": "INV-999"}, http.StatusNotFound, nil},
		{"OK devops.list_pods", carol, "devops.list_pods", map[string]any{"namespace": "production"}, http.StatusOK, func(t *testing.T, b map[string]any) {
			require.NotEmpty(t, result(b)["pods"])
		}},
		{"OK devops.list_deployments", carol, "devops.list_deployments", map[string]any{}, http.StatusOK, func(t *testing.T, b map[string]any) {
			require.NotEmpty(t, result(b)["deployments"])
		}},
		{"OK devops.scale_deployment in staging runs at once", carol, "devops.scale_deployment",
			map[string]any{"deployment_name": "worker", "replicas": 2, "namespace": "staging"}, http.StatusOK,
			func(t *testing.T, b map[string]any) { require.Equal(t, float64(2), result(b)["replicas"]) }},
		{"OK devops.scale_deployment in production waits for approval", carol, "devops.scale_deployment",
			map[string]any{"deployment_name": "api-server", "replicas": 3}, http.StatusAccepted, nil},
		{"ErrUnknownNamespace is a clear 404", carol, "devops.list_pods", map[string]any{"namespace": "nowhere"}, http.StatusNotFound, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, body := platformtest.Do(t, s.MCP.URL, http.MethodPost, "/execute", tt.token, map[string]any{"tool": tt.tool, "arguments": tt.args})
			require.Equal(t, tt.status, code, body)
			if tt.check != nil {
				tt.check(t, body)
			}
		})
	}

	t.Run("OK pod logs of a listed pod", func(t *testing.T) {
		_, _, body := platformtest.Do(t, s.MCP.URL, http.MethodPost, "/execute", carol, map[string]any{"tool": "devops.list_pods", "arguments": map[string]any{"namespace": "production"}})
		pod := result(body)["pods"].([]any)[0].(map[string]any)["name"]
		code, _, logs := platformtest.Do(t, s.MCP.URL, http.MethodPost, "/execute", carol, map[string]any{"tool": "devops.get_pod_logs", "arguments": map[string]any{"pod_name": pod, "tail": 5}})
		require.Equal(t, http.StatusOK, code, logs)
		require.Len(t, result(logs)["lines"], 5)
	})
}
