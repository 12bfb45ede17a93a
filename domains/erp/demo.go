package erp

import (
	"regexp"
	"strconv"
	"strings"

	"mcp-platform/internal/llm/mock"
)

// MockDemo teaches the mock LLM the ERP requests ("show invoice INV-001", "create an invoice
// for Northwind Traders for 5 x CMP-001") and how ERP results read best.
//
// The priorities rank these skills among every builtin domain's: creating an invoice reads the
// rest of its clause (customer and items, SKUs included), so it claims first of all; the
// lookups come after DevOps's, whose pod and deployment names can look like a SKU
// ("api-1234"), and before HR's; an invoice ID before the invoices keyword, low stock before a
// bare SKU.
func MockDemo() mock.Demo {
	return mock.Demo{
		Skills: []mock.Skill{
			{Tool: "erp.create_invoice", Action: "create invoices", Priority: 95, Find: findCreateInvoice,
				Examples: []string{"Create an invoice for Northwind Traders for 5 x CMP-001"}},
			{Tool: "erp.get_invoice", Action: "look up invoices", Priority: 70, Find: findGetInvoice,
				Examples: []string{"Show invoice INV-001"}},
			{Tool: "erp.list_invoices", Action: "list invoices", Priority: 65, Find: findListInvoices,
				Examples: []string{"List overdue invoices", "List invoices for Northwind Traders"}},
			{Tool: "erp.check_low_stock", Action: "check stock levels", Priority: 60, Find: findLowStock,
				Examples: []string{"Which components are low on stock?"}},
			{Tool: "erp.get_inventory_item", Action: "look up inventory items", Priority: 55, Find: findInventoryItem,
				Examples: []string{"How many CMP-001 are in stock?"}},
		},
		Hints: mock.Hints{
			NameKeys: []string{"name"},
			IDKeys:   []string{"id", "invoice_id", "sku"},
			FieldOrder: []string{"status", "customer", "customer_name", "email", "category", "quantity_on_hand",
				"reorder_level", "shortfall", "needs_reorder", "issue_date", "due_date", "subtotal", "tax_rate", "tax",
				"total", "currency"},
			ColumnOrder: []string{"line_no", "id", "sku", "name", "description", "customer_name", "customer", "category",
				"status", "quantity", "quantity_on_hand", "reorder_level", "shortfall", "unit_price", "line_total",
				"issue_date", "due_date", "total", "email"},
			MoneyKeys: []string{"total", "subtotal", "tax", "unit_price", "line_total"},
			Labels:    map[string]string{"sku": "SKU"},
		},
		Verbs: []string{"raise", "issue", "draft", "prepare"},
	}
}

// IDs as people write them: "INV-001", "invoice 7", "CMP-001", "C002".
var (
	reInvoiceID  = regexp.MustCompile(`(?i)\binv(?:oice)?(?:\s*(?:no\.?|number|#)\s*|\s*-\s*|\s+)?(\d{1,9})\b`)
	reSKU        = regexp.MustCompile(`\b([A-Za-z]{2,4})-(\d{3,5})\b`)
	reCustomerID = regexp.MustCompile(`\b[cC](\d{3,6})\b`)
)

var (
	reCreateInvoice = regexp.MustCompile(`(?i)\b(?:create|make|raise|issue|draft|prepare|generate|write|open|new)\b` +
		`(?:\s+(?:a|an|the|new|draft|me))*\s+invoice\b`)
	reForCustomer  = regexp.MustCompile(`(?i)\b(?:for|to)\s+(?:customer\s+)?`)
	reCustomerEnd  = regexp.MustCompile(`(?i)\s*(?:[,:;(]|\s(?:for|with|containing|including|due|of|please)\b|\s\d+\s*(?:x|×|\*|units?|pcs|pieces)?\s|$)`)
	reQtySKU       = regexp.MustCompile(`(?i)\b(\d+)\s*(?:x|×|\*)?\s*(?:(?:units?|pcs\.?|pieces|items?)\s+)?(?:of\s+)?(?:sku\s+)?\b([A-Za-z]{2,4}-\d{3,5})\b`)
	reSKUQty       = regexp.MustCompile(`(?i)\b([A-Za-z]{2,4}-\d{3,5})\s*(?:x|×|\*|qty:?|quantity:?)\s*(\d+)\b`)
	reDueInDays    = regexp.MustCompile(`(?i)\bdue\s+in\s+(\d+)\s+days?\b`)
	askInvoiceInfo = `To create an invoice I need the customer and the items with quantities, for example: ` +
		`"create an invoice for Northwind Traders for 5 x CMP-001 and 2 x NET-002".`
)

func findCreateInvoice(clause string) []mock.Match {
	loc := reCreateInvoice.FindStringIndex(clause)
	if loc == nil {
		return nil
	}
	m := mock.Match{Start: loc[0], End: len(clause)}
	customer := ""
	if id := reCustomerID.FindStringSubmatch(clause); id != nil {
		customer = mock.PadID("C", id[1])
	} else {
		after := clause[loc[1]:]
		for _, f := range reForCustomer.FindAllStringIndex(after, -1) {
			rest := after[f[1]:]
			if rest == "" || (rest[0] >= '0' && rest[0] <= '9') {
				continue
			}
			end := reCustomerEnd.FindStringIndex(rest)
			customer = strings.Trim(strings.TrimSpace(rest[:end[0]]), `"'`)
			if customer != "" {
				break
			}
		}
	}
	var items []any
	covered := map[string]bool{}
	for _, q := range reQtySKU.FindAllStringSubmatch(clause, -1) {
		if sku := strings.ToUpper(q[2]); !strings.HasPrefix(sku, "INV-") {
			n, _ := strconv.Atoi(q[1])
			items = append(items, map[string]any{"sku": sku, "quantity": n})
			covered[sku] = true
		}
	}
	for _, q := range reSKUQty.FindAllStringSubmatch(clause, -1) {
		if sku := strings.ToUpper(q[1]); !covered[sku] && !strings.HasPrefix(sku, "INV-") {
			n, _ := strconv.Atoi(q[2])
			items = append(items, map[string]any{"sku": sku, "quantity": n})
			covered[sku] = true
		}
	}
	for _, s := range reSKU.FindAllString(clause, -1) {
		if s = strings.ToUpper(s); !covered[s] && !strings.HasPrefix(s, "INV-") {
			items = nil // a SKU without a quantity: ask rather than guess
			break
		}
	}
	if customer == "" || len(items) == 0 {
		m.Ask = askInvoiceInfo
		return []mock.Match{m}
	}
	m.Args = map[string]any{"customer": customer, "items": items}
	if d := reDueInDays.FindStringSubmatch(clause); d != nil {
		n, _ := strconv.Atoi(d[1])
		m.Args["due_in_days"] = n
	}
	return []mock.Match{m}
}

func findGetInvoice(clause string) []mock.Match {
	return mock.All(clause, func(sub []string) map[string]any {
		return map[string]any{"invoice_id": mock.PadID("INV-", sub[1])}
	}, reInvoiceID)
}

var (
	reInvoices        = regexp.MustCompile(`(?i)\binvoices\b|\b(?:overdue|paid|draft|sent)\s+invoice\b`)
	reInvoiceStatus   = regexp.MustCompile(`(?i)\b(overdue|paid|draft|sent)\b`)
	reInvoiceCustomer = regexp.MustCompile(`(?i)\b(?:for|of|from|by|to)\s+(?:customer\s+|client\s+)?([\p{L}0-9&][\p{L}0-9&.'’ -]*?)` +
		`\s*(?:$|[,;(]|\s(?:that|which|who|with|in|are|is|where|due|since|from|sorted|ordered|please|overdue|paid|draft|sent)\b)`)
	reOwnerInvoices = regexp.MustCompile(`\b([A-Z][\p{L}0-9&.-]*(?:\s+[A-Z][\p{L}0-9&.-]*)*)(?:'s|’s)\s+(?:\w+\s+)?invoices\b`)
	reInvoiceLimit  = regexp.MustCompile(`(?i)\b(?:last|latest|top|first|recent)\s+(\d+)\b|\b(\d+)\s+(?:(?:overdue|paid|draft|sent|latest|recent)\s+)?invoices\b`)
)

// notCustomer are words that follow "for" in an invoice request without naming a customer.
var notCustomer = map[string]bool{"me": true, "all": true, "us": true, "everyone": true, "all customers": true,
	"every customer": true, "customers": true, "this month": true, "last month": true, "this year": true}

// reNotCustomerStart are words that start what follows "for" or "to" in an invoice question
// without naming a customer: "invoices to approve", "for my approval", "to review".
var reNotCustomerStart = regexp.MustCompile(`(?i)^(?:approv|review|pay\b|check|sign|my\b|your\b|our\b|be\b|send\b|chase)`)

// isCustomer reports whether the words after "for" or "to" in an invoice question name a customer.
func isCustomer(s string) bool {
	s = strings.TrimSpace(s)
	return !notCustomer[strings.ToLower(s)] && !reNotCustomerStart.MatchString(s)
}

func findListInvoices(clause string) []mock.Match {
	return mock.First(clause, func([]string) map[string]any {
		args := map[string]any{}
		if s := reInvoiceStatus.FindStringSubmatch(clause); s != nil {
			args["status"] = strings.ToLower(s[1])
		}
		if id := reCustomerID.FindStringSubmatch(clause); id != nil {
			args["customer"] = mock.PadID("C", id[1])
		} else if c := reInvoiceCustomer.FindStringSubmatch(clause); c != nil && isCustomer(c[1]) {
			args["customer"] = strings.Trim(strings.TrimSpace(c[1]), `"'`)
		} else if o := reOwnerInvoices.FindStringSubmatch(clause); o != nil {
			args["customer"] = o[1]
		}
		if l := reInvoiceLimit.FindStringSubmatch(clause); l != nil {
			n, _ := strconv.Atoi(l[1] + l[2])
			if n > 0 {
				args["limit"] = n
			}
		}
		return args
	}, reInvoices)
}

var (
	reLowStock = regexp.MustCompile(`(?i)\blow\s+(?:on\s+)?(?:stock|inventory)\b|\bstock\s+(?:is\s+|levels?\s+(?:are\s+|is\s+)?)?low\b|` +
		`\brunning\s+low\b|\b(?:need|needs|needing)\s+(?:to\s+be\s+)?re-?order(?:ing|ed)?\b|\bre-?order\b|\bout\s+of\s+stock\b`)
	reCategory = regexp.MustCompile(`(?i)\b(components?|peripherals?|networking|network|supplies|supply)\b`)
)

func findLowStock(clause string) []mock.Match {
	return mock.First(clause, func([]string) map[string]any {
		args := map[string]any{}
		if c := reCategory.FindString(clause); c != "" {
			switch c = strings.ToLower(c); {
			case strings.HasPrefix(c, "component"):
				args["category"] = "components"
			case strings.HasPrefix(c, "peripheral"):
				args["category"] = "peripherals"
			case strings.HasPrefix(c, "network"):
				args["category"] = "networking"
			default:
				args["category"] = "supplies"
			}
		}
		return args
	}, reLowStock)
}

func findInventoryItem(clause string) []mock.Match {
	return mock.All(clause, func(sub []string) map[string]any {
		if strings.EqualFold(sub[1], "inv") {
			return nil
		}
		return map[string]any{"sku": strings.ToUpper(sub[0])}
	}, reSKU)
}
