package erp_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"mcp-platform/domains/erp"
	"mcp-platform/internal/llm/mock"
	"mcp-platform/internal/llm/mock/mocktest"
)

func TestMockDemo(t *testing.T) {
	demo := erp.MockDemo()
	p := mock.New(demo)
	mocktest.Run(t, []mocktest.Case{
		{Name: "OK show invoice", Text: "show invoice INV-001", Want: mocktest.Want("erp.get_invoice", map[string]any{"invoice_id": "INV-001"})},
		{Name: "OK short invoice ID normalised", Text: "get invoice inv-7", Want: mocktest.Want("erp.get_invoice", map[string]any{"invoice_id": "INV-007"})},
		{Name: "OK list invoices", Text: "list invoices", Want: mocktest.Want("erp.list_invoices", map[string]any{})},
		{Name: "OK list invoices by customer and status", Text: "List overdue invoices for Northwind Traders",
			Want: mocktest.Want("erp.list_invoices", map[string]any{"customer": "Northwind Traders", "status": "overdue"})},
		{Name: "OK list paid invoices", Text: "list invoices for Acme Corp that are paid",
			Want: mocktest.Want("erp.list_invoices", map[string]any{"customer": "Acme Corp", "status": "paid"})},
		{Name: "OK low stock components", Text: "Which components are low on stock?",
			Want: mocktest.Want("erp.check_low_stock", map[string]any{"category": "components"})},
		{Name: "OK low stock in a category", Text: "low stock in networking", Want: mocktest.Want("erp.check_low_stock", map[string]any{"category": "networking"})},
		{Name: "OK low stock", Text: "what is running low?", Want: mocktest.Want("erp.check_low_stock", map[string]any{})},
		{Name: "OK create invoice", Text: "Create an invoice for Northwind Traders for 5 x SKU-123 and 2 x CMP-001",
			Want: mocktest.Want("erp.create_invoice", map[string]any{"customer": "Northwind Traders", "items": []any{
				map[string]any{"sku": "SKU-123", "quantity": float64(5)},
				map[string]any{"sku": "CMP-001", "quantity": float64(2)},
			}})},
		{Name: "OK inventory item", Text: "How many CMP-001 are in stock?", Want: mocktest.Want("erp.get_inventory_item", map[string]any{"sku": "CMP-001"})},
	}, demo)

	t.Run("OK an incomplete invoice request asks for what is missing", func(t *testing.T) {
		resp := mocktest.Ask(t, p, "create an invoice for Acme", mocktest.ToolsOf(demo)...)
		require.Empty(t, resp.ToolCalls)
		require.Contains(t, resp.Content, "customer and the items")
	})

	t.Run("OK an item answer is headed by its name and SKU, with prices in its currency", func(t *testing.T) {
		got := mocktest.Answer(t, p, "How many CMP-001 are in stock?", "erp.get_inventory_item",
			`{"sku":"CMP-001","name":"Intel Core i7-14700 Processor","category":"components","quantity_on_hand":12,`+
				`"reorder_level":15,"unit_price":384,"currency":"USD"}`)
		require.Equal(t, "**Intel Core i7-14700 Processor** (CMP-001)\n\n- Category: components\n- Quantity on hand: 12\n"+
			"- Reorder level: 15\n- Unit price: 384.00 USD", got)
	})

	mocktest.CheckExamples(t, demo)
}
