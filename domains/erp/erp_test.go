package erp_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"mcp-platform/domains"
	"mcp-platform/domains/domaintest"
	"mcp-platform/domains/erp"
	"mcp-platform/domains/policy"
	"mcp-platform/internal/testutil/dbtest"
)

const configDir = "../../config/domains"

// domain is the ERP domain as the shared domain tests see it.
var domain = domaintest.Domain{Name: "erp", ConfigDir: configDir, Role: erp.DBRole, New: erp.New}

// newAdapter migrates a fresh database and builds the ERP adapter on a pool running as
// erp.DBRole, with the repository's configuration. It returns the database too, whose admin
// pool lets tests count rows behind the adapter's back.
func newAdapter(tb testing.TB) (domains.Adapter, *dbtest.Database) {
	tb.Helper()
	return domain.Adapter(tb)
}

func callKey(tb testing.TB, a domains.Adapter, tool, key string, args map[string]any) (any, error) {
	tb.Helper()
	return a.Call(context.Background(), domains.Call{Tool: tool, Args: args, IdempotencyKey: key, Subject: "clerk@acme.example"})
}

func call(tb testing.TB, a domains.Adapter, tool string, args map[string]any) (any, error) {
	tb.Helper()
	return callKey(tb, a, tool, "wf-1/call-1", args)
}

func countRows(tb testing.TB, db *dbtest.Database, sql string, args ...any) int {
	tb.Helper()
	var n int
	require.NoError(tb, db.Pool.QueryRow(context.Background(), sql, args...).Scan(&n))
	return n
}

func TestIsolation(t *testing.T) {
	ctx := context.Background()
	pool := domain.Pool(t)

	t.Run("OK reads its own schema", func(t *testing.T) {
		var n int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM erp.invoices`).Scan(&n))
		require.Equal(t, 25, n)
	})

	domaintest.CheckDenied(t, pool, map[string]string{
		"ErrOtherDomainsData":  `SELECT count(*) FROM hr.employees`,
		"ErrPlatformAuditLog":  `SELECT count(*) FROM public.audit_log`,
		"ErrPlatformRegistry":  `SELECT count(*) FROM public.domains`,
		"ErrChangeStock":       `UPDATE erp.inventory_items SET quantity_on_hand = 0`,
		"ErrChangeInvoice":     `UPDATE erp.invoices SET status = 'paid' WHERE id = 'INV-005'`,
		"ErrDeleteInvoice":     `DELETE FROM erp.invoices WHERE id = 'INV-001'`,
		"ErrAddCustomer":       `INSERT INTO erp.customers (id, name, contact_name, email, city) VALUES ('C099', 'X', 'Y', 'z@x', 'W')`,
		"ErrCreateInOwnSchema": `CREATE TABLE erp.backdoor (x int)`,
	})
}

func TestSeed(t *testing.T) {
	db := dbtest.New(t)

	t.Run("OK figures", func(t *testing.T) {
		require.Equal(t, 12, countRows(t, db, `SELECT count(*) FROM erp.customers`))
		require.Equal(t, 25, countRows(t, db, `SELECT count(*) FROM erp.invoices`))
		require.Equal(t, 0, countRows(t, db, `SELECT count(*) FROM erp.invoices i WHERE NOT EXISTS (SELECT 1 FROM erp.invoice_lines l WHERE l.invoice_id = i.id)`))
		require.Equal(t, 20, countRows(t, db, `SELECT count(*) FROM erp.inventory_items`))
	})

	t.Run("OK totals add up", func(t *testing.T) {
		require.Equal(t, 0, countRows(t, db, `
			SELECT count(*) FROM erp.invoices i
			WHERE subtotal <> (SELECT sum(line_total) FROM erp.invoice_lines l WHERE l.invoice_id = i.id)
			   OR tax <> round(subtotal * tax_rate, 2) OR total <> subtotal + tax OR total <= 0`))
	})

	t.Run("OK statuses agree with due dates", func(t *testing.T) {
		require.Equal(t, 0, countRows(t, db, `SELECT count(*) FROM erp.invoices WHERE status = 'overdue' AND due_date >= CURRENT_DATE`))
		require.Equal(t, 0, countRows(t, db, `SELECT count(*) FROM erp.invoices WHERE status = 'sent' AND due_date < CURRENT_DATE`))
		for status, want := range map[string]int{"draft": 3, "sent": 7, "paid": 11, "overdue": 4} {
			require.Equal(t, want, countRows(t, db, `SELECT count(*) FROM erp.invoices WHERE status = $1`, status), status)
		}
	})
}

func TestGetInvoice(t *testing.T) {
	a, _ := newAdapter(t)

	t.Run("OK with lines, customer and totals", func(t *testing.T) {
		res, err := call(t, a, "erp.get_invoice", map[string]any{"invoice_id": "INV-001"})
		require.NoError(t, err)
		inv := res.(*erp.Invoice)
		require.Equal(t, "INV-001", inv.ID)
		require.Equal(t, "paid", inv.Status)
		require.Equal(t, "C001", inv.Customer.ID)
		require.Equal(t, "Northwind Traders", inv.Customer.Name)
		require.Equal(t, "USD", inv.Currency)
		require.Len(t, inv.Lines, 3)
		require.Equal(t, "CMP-001", *inv.Lines[0].SKU)
		require.Equal(t, "Intel Core i7-14700 Processor", inv.Lines[0].Description)
		require.Equal(t, 10, inv.Lines[0].Quantity)
		require.Equal(t, 384.0, inv.Lines[0].UnitPrice)
		require.Equal(t, 3840.0, inv.Lines[0].LineTotal)
		require.Nil(t, inv.Lines[2].SKU)
		require.Equal(t, "Workstation assembly and testing", inv.Lines[2].Description)
		require.Equal(t, 5880.0, inv.Subtotal) // 3840 + 1090 + 950
		require.Equal(t, erp.TaxRate, inv.TaxRate)
		require.Equal(t, 485.10, inv.Tax)
		require.Equal(t, 6365.10, inv.Total)
		issued, err := time.Parse(time.DateOnly, inv.IssueDate)
		require.NoError(t, err)
		due, err := time.Parse(time.DateOnly, inv.DueDate)
		require.NoError(t, err)
		require.Equal(t, 30*24*time.Hour, due.Sub(issued))
	})

	t.Run("OK lower-case id", func(t *testing.T) {
		res, err := call(t, a, "erp.get_invoice", map[string]any{"invoice_id": "inv-022"})
		require.NoError(t, err)
		inv := res.(*erp.Invoice)
		require.Equal(t, "Woodgrove Bank", inv.Customer.Name)
		require.Equal(t, 5845.50, inv.Total)
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := call(t, a, "erp.get_invoice", map[string]any{"invoice_id": "INV-999"})
		domaintest.RequireCode(t, err, domains.CodeNotFound)
		require.Contains(t, err.Error(), `no invoice with id "INV-999"`)
	})
	t.Run("ErrMissingID", func(t *testing.T) {
		_, err := call(t, a, "erp.get_invoice", nil)
		domaintest.RequireCode(t, err, domains.CodeInvalid)
	})
}

func TestListInvoices(t *testing.T) {
	a, _ := newAdapter(t)

	ok := []struct {
		name      string
		args      map[string]any
		wantIDs   []string
		wantTotal int
	}{
		{"OK customer by id", map[string]any{"customer": "C001"}, []string{"INV-023", "INV-012", "INV-001"}, 3},
		{"OK customer by exact name", map[string]any{"customer": "northwind traders"}, []string{"INV-023", "INV-012", "INV-001"}, 3},
		{"OK overdue", map[string]any{"status": "overdue"}, []string{"INV-015", "INV-012", "INV-008", "INV-005"}, 4},
		{"OK customer and status", map[string]any{"customer": "Northwind Traders", "status": "overdue"}, []string{"INV-012"}, 1},
		{"OK newest first with limit", map[string]any{"limit": 2}, []string{"INV-025", "INV-024"}, 25},
		{"OK nothing matches", map[string]any{"customer": "C002", "status": "draft"}, []string{}, 0},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			res, err := call(t, a, "erp.list_invoices", tc.args)
			require.NoError(t, err)
			l := res.(*erp.InvoiceList)
			got := []string{}
			for _, inv := range l.Invoices {
				got = append(got, inv.ID)
				require.NotZero(t, inv.Total)
				require.NotEmpty(t, inv.CustomerName)
			}
			require.Equal(t, tc.wantIDs, got)
			require.Equal(t, len(tc.wantIDs), l.Count)
			require.Equal(t, tc.wantTotal, l.TotalMatches)
		})
	}

	errs := []struct {
		name string
		args map[string]any
		code domains.ErrorCode
	}{
		{"ErrUnknownCustomer", map[string]any{"customer": "Northwind"}, domains.CodeNotFound},
		{"ErrUnknownStatus", map[string]any{"status": "void"}, domains.CodeInvalid},
		{"ErrLimit", map[string]any{"limit": 0}, domains.CodeInvalid},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) {
			_, err := call(t, a, "erp.list_invoices", tc.args)
			domaintest.RequireCode(t, err, tc.code)
		})
	}
}

func TestInventory(t *testing.T) {
	a, _ := newAdapter(t)

	t.Run("OK item", func(t *testing.T) {
		res, err := call(t, a, "erp.get_inventory_item", map[string]any{"sku": "cmp-002"})
		require.NoError(t, err)
		it := res.(*erp.InventoryItem)
		require.Equal(t, "CMP-002", it.SKU)
		require.Equal(t, "components", it.Category)
		require.Equal(t, 12, it.QuantityOnHand)
		require.Equal(t, 40, it.ReorderLevel)
		require.Equal(t, 109.0, it.UnitPrice)
		require.True(t, it.NeedsReorder)
	})
	t.Run("OK item in stock", func(t *testing.T) {
		res, err := call(t, a, "erp.get_inventory_item", map[string]any{"sku": "SUP-003"})
		require.NoError(t, err)
		it := res.(*erp.InventoryItem)
		require.Equal(t, 4.75, it.UnitPrice)
		require.False(t, it.NeedsReorder)
	})
	t.Run("ErrUnknownSKU", func(t *testing.T) {
		_, err := call(t, a, "erp.get_inventory_item", map[string]any{"sku": "CMP-999"})
		domaintest.RequireCode(t, err, domains.CodeNotFound)
		require.Contains(t, err.Error(), `"CMP-999"`)
	})

	lowStock := []struct {
		name      string
		args      map[string]any
		want      []string
		shortfall []int
	}{
		{"OK all categories, largest shortfall first", map[string]any{},
			[]string{"CMP-002", "PER-003", "CMP-001", "CMP-004", "SUP-002", "CMP-006", "NET-002", "PER-006"},
			[]int{28, 11, 7, 6, 4, 3, 3, 0}},
		{"OK components", map[string]any{"category": "components"},
			[]string{"CMP-002", "CMP-001", "CMP-004", "CMP-006"}, []int{28, 7, 6, 3}},
		{"OK a capitalised category", map[string]any{"category": "Components"},
			[]string{"CMP-002", "CMP-001", "CMP-004", "CMP-006"}, []int{28, 7, 6, 3}},
		{"OK at the level counts", map[string]any{"category": "peripherals"},
			[]string{"PER-003", "PER-006"}, []int{11, 0}},
	}
	for _, tc := range lowStock {
		t.Run(tc.name, func(t *testing.T) {
			res, err := call(t, a, "erp.check_low_stock", tc.args)
			require.NoError(t, err)
			l := res.(*erp.LowStock)
			var skus []string
			var shortfalls []int
			for _, it := range l.Items {
				skus = append(skus, it.SKU)
				shortfalls = append(shortfalls, it.Shortfall)
				require.True(t, it.NeedsReorder)
				require.Equal(t, it.ReorderLevel-it.QuantityOnHand, it.Shortfall)
			}
			require.Equal(t, tc.want, skus)
			require.Equal(t, tc.shortfall, shortfalls)
			require.Equal(t, len(tc.want), l.Count)
		})
	}
	t.Run("ErrUnknownCategory", func(t *testing.T) {
		_, err := call(t, a, "erp.check_low_stock", map[string]any{"category": "furniture"})
		domaintest.RequireCode(t, err, domains.CodeInvalid)
	})
}

func TestCreateInvoice(t *testing.T) {
	// CMP-001 costs 384.00: 2 x 384.00 + 49.99 = 817.99; tax 8.25 % = 67.484... -> 67.48.
	args := func() map[string]any {
		return map[string]any{
			"customer": "Contoso Ltd",
			"items": []any{
				map[string]any{"sku": "CMP-001", "quantity": 2},
				map[string]any{"description": "Rush delivery", "quantity": 1, "unit_price": 49.99},
			},
		}
	}

	t.Run("OK totals, lines and due date", func(t *testing.T) {
		a, db := newAdapter(t)
		res, err := callKey(t, a, "erp.create_invoice", "wf-a/call-1", args())
		require.NoError(t, err)
		inv := res.(*erp.CreatedInvoice)
		require.False(t, inv.Replayed)
		require.Equal(t, "INV-026", inv.ID)
		require.Equal(t, "draft", inv.Status)
		require.Equal(t, "C002", inv.Customer.ID)
		require.Len(t, inv.Lines, 2)
		require.Equal(t, erp.InvoiceLine{LineNo: 1, SKU: inv.Lines[0].SKU, Description: "Intel Core i7-14700 Processor",
			Quantity: 2, UnitPrice: 384, LineTotal: 768}, inv.Lines[0])
		require.Equal(t, "CMP-001", *inv.Lines[0].SKU)
		require.Equal(t, erp.InvoiceLine{LineNo: 2, Description: "Rush delivery", Quantity: 1, UnitPrice: 49.99, LineTotal: 49.99}, inv.Lines[1])
		require.Equal(t, 817.99, inv.Subtotal)
		require.Equal(t, 0.0825, inv.TaxRate)
		require.Equal(t, 67.48, inv.Tax)
		require.Equal(t, 885.47, inv.Total)
		require.Equal(t, today(t, db).Format(time.DateOnly), inv.IssueDate)
		require.Equal(t, today(t, db).AddDate(0, 0, 30).Format(time.DateOnly), inv.DueDate, "Contoso's payment terms")

		// What the database holds agrees with what the tool said.
		require.Equal(t, 1, countRows(t, db, `SELECT count(*) FROM erp.invoices
			WHERE id = 'INV-026' AND total = 885.47 AND created_by = 'clerk@acme.example' AND idempotency_key = 'wf-a/call-1'`))
		res, err = call(t, a, "erp.get_invoice", map[string]any{"invoice_id": "INV-026"})
		require.NoError(t, err)
		require.Equal(t, inv.Invoice, *res.(*erp.Invoice))
	})

	t.Run("OK explicit due date and customer id", func(t *testing.T) {
		a, db := newAdapter(t)
		res, err := callKey(t, a, "erp.create_invoice", "wf-b/call-1", map[string]any{
			"customer":    "c010",
			"items":       []map[string]any{{"description": "Consulting (per day)", "quantity": 3, "unit_price": 1200}},
			"due_in_days": 7.0,
		})
		require.NoError(t, err)
		inv := res.(*erp.CreatedInvoice)
		require.Equal(t, "Coho Winery", inv.Customer.Name)
		require.Equal(t, 3600.0, inv.Subtotal)
		require.Equal(t, 297.0, inv.Tax)
		require.Equal(t, 3897.0, inv.Total)
		require.Equal(t, today(t, db).AddDate(0, 0, 7).Format(time.DateOnly), inv.DueDate)
	})

	t.Run("OK retry returns the first invoice", func(t *testing.T) {
		a, db := newAdapter(t)
		first, err := callKey(t, a, "erp.create_invoice", "wf-c/call-1", args())
		require.NoError(t, err)
		second, err := callKey(t, a, "erp.create_invoice", "wf-c/call-1", args())
		require.NoError(t, err)
		require.True(t, second.(*erp.CreatedInvoice).Replayed)
		require.Equal(t, first.(*erp.CreatedInvoice).Invoice, second.(*erp.CreatedInvoice).Invoice)
		require.Equal(t, 26, countRows(t, db, `SELECT count(*) FROM erp.invoices`))
		require.Equal(t, 2, countRows(t, db, `SELECT count(*) FROM erp.invoice_lines WHERE invoice_id = 'INV-026'`))

		// Another key is another invoice.
		third, err := callKey(t, a, "erp.create_invoice", "wf-c/call-2", args())
		require.NoError(t, err)
		require.Equal(t, "INV-027", third.(*erp.CreatedInvoice).ID)
	})

	t.Run("OK concurrent retries create one invoice", func(t *testing.T) {
		a, db := newAdapter(t)
		const attempts = 8
		var wg sync.WaitGroup
		ids := make([]string, attempts)
		replayed := make([]bool, attempts)
		errs := make([]error, attempts)
		start := make(chan struct{})
		for i := range attempts {
			wg.Go(func() {
				<-start
				res, err := callKey(t, a, "erp.create_invoice", "wf-d/call-1", args())
				errs[i] = err
				if err == nil {
					ids[i] = res.(*erp.CreatedInvoice).ID
					replayed[i] = res.(*erp.CreatedInvoice).Replayed
				}
			})
		}
		close(start)
		wg.Wait()
		created := 0
		for i := range attempts {
			require.NoError(t, errs[i])
			require.Equal(t, ids[0], ids[i])
			if !replayed[i] {
				created++
			}
		}
		require.Equal(t, 1, created, "exactly one attempt created the invoice")
		require.Equal(t, 1, countRows(t, db, `SELECT last_value - 25 FROM erp.invoice_number_seq`), "no invoice number is wasted")
		require.Equal(t, 1, countRows(t, db, `SELECT count(*) FROM erp.invoices WHERE idempotency_key = 'wf-d/call-1'`))
		require.Equal(t, 26, countRows(t, db, `SELECT count(*) FROM erp.invoices`))
		require.Equal(t, 2, countRows(t, db, `SELECT count(*) FROM erp.invoice_lines WHERE invoice_id = $1`, ids[0]))
	})

	t.Run("ErrKeyReusedWithOtherArguments", func(t *testing.T) {
		a, db := newAdapter(t)
		_, err := callKey(t, a, "erp.create_invoice", "wf-e/call-1", args())
		require.NoError(t, err)
		other := args()
		other["customer"] = "Fabrikam Inc"
		_, err = callKey(t, a, "erp.create_invoice", "wf-e/call-1", other)
		domaintest.RequireCode(t, err, domains.CodeConflict)
		require.Contains(t, err.Error(), "INV-026")
		require.Equal(t, 26, countRows(t, db, `SELECT count(*) FROM erp.invoices`))
	})

	a, db := newAdapter(t)
	errs := []struct {
		name string
		key  string
		args map[string]any
		code domains.ErrorCode
		msg  string
	}{
		{"ErrUnknownCustomer", "k1", map[string]any{"customer": "Contoso", "items": []any{map[string]any{"sku": "CMP-001", "quantity": 1}}},
			domains.CodeNotFound, `no customer with id or exact name "Contoso"`},
		{"ErrUnknownSKU", "k2", map[string]any{"customer": "C002", "items": []any{map[string]any{"sku": "CMP-001", "quantity": 1}, map[string]any{"sku": "XYZ-123", "quantity": 1}}},
			domains.CodeNotFound, `items[1]: no inventory item with SKU "XYZ-123"`},
		{"ErrSKUAndPrice", "k3", map[string]any{"customer": "C002", "items": []any{map[string]any{"sku": "CMP-001", "quantity": 1, "unit_price": 1}}},
			domains.CodeInvalid, "not both"},
		{"ErrNoPrice", "k4", map[string]any{"customer": "C002", "items": []any{map[string]any{"description": "Support", "quantity": 1}}},
			domains.CodeInvalid, "needs a sku, or a description and a unit_price"},
		{"ErrFractionOfCent", "k5", map[string]any{"customer": "C002", "items": []any{map[string]any{"description": "Support", "quantity": 1, "unit_price": 9.999}}},
			domains.CodeInvalid, "two decimals"},
		{"ErrNoItems", "k6", map[string]any{"customer": "C002", "items": []any{}}, domains.CodeInvalid, "items"},
		{"ErrZeroQuantity", "k7", map[string]any{"customer": "C002", "items": []any{map[string]any{"sku": "CMP-001", "quantity": 0}}},
			domains.CodeInvalid, "items[0].quantity"},
		{"ErrDueTooLate", "k8", map[string]any{"customer": "C002", "items": []any{map[string]any{"sku": "CMP-001", "quantity": 1}}, "due_in_days": 400},
			domains.CodeInvalid, "due_in_days"},
		{"ErrNoIdempotencyKey", "", map[string]any{"customer": "C002", "items": []any{map[string]any{"sku": "CMP-001", "quantity": 1}}},
			domains.CodeInvalid, "idempotency key"},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) {
			_, err := callKey(t, a, "erp.create_invoice", tc.key, tc.args)
			domaintest.RequireCode(t, err, tc.code)
			require.Contains(t, err.Error(), tc.msg)
		})
	}
	t.Run("OK failed calls created nothing", func(t *testing.T) {
		require.Equal(t, 25, countRows(t, db, `SELECT count(*) FROM erp.invoices`))
	})
}

// TestConfig checks the repository's config/domains/erp.yaml against the adapter: the same
// tools, sample arguments valid for each input schema, and results valid for each output schema.
func TestConfig(t *testing.T) {
	cfg := domain.Config(t)
	a, _ := newAdapter(t)

	t.Run("OK declares exactly the served tools", func(t *testing.T) {
		require.Equal(t, erp.Tools(), domaintest.DeclaredTools(cfg))
	})

	t.Run("OK annotations", func(t *testing.T) {
		for _, tool := range cfg.Tools {
			want := domains.Annotations{ReadOnly: true, Idempotent: true}
			if tool.Name == "erp.create_invoice" {
				want = domains.Annotations{Idempotent: true, RequiresApproval: true}
			}
			require.Equal(t, want, tool.Annotations, tool.Name)
		}
	})

	t.Run("OK only managers approve", func(t *testing.T) {
		for _, p := range cfg.Permissions {
			require.Equal(t, p.Role == "finance_manager", slices.Contains(p.Actions, domains.ActionApprove), p.Role)
		}
	})

	t.Run("OK required output fields are declared", func(t *testing.T) {
		domaintest.RequireOutputFieldsDeclared(t, cfg)
	})

	samples := map[string][]map[string]any{
		"erp.get_invoice":        {{"invoice_id": "INV-001"}, {"invoice_id": "INV-025"}},
		"erp.list_invoices":      {{"customer": "Northwind Traders", "status": "overdue", "limit": 10}, {}},
		"erp.check_low_stock":    {{"category": "components"}, {}},
		"erp.get_inventory_item": {{"sku": "CMP-001"}},
		"erp.create_invoice": {{
			"customer": "C003",
			"items": []any{
				map[string]any{"sku": "PER-001", "quantity": 3},
				map[string]any{"description": "On-site installation (per hour)", "quantity": 2, "unit_price": 125.0},
			},
			"due_in_days": 45,
		}},
	}
	domaintest.CheckOutputSchemas(t, cfg, a, samples)

	t.Run("OK the category is read whatever its case, and still checked", func(t *testing.T) {
		tool := cfg.Tool("erp.check_low_stock")
		for _, c := range []string{"components", "Components", "Supplies"} {
			require.NoError(t, policy.ValidateArgs(tool, map[string]any{"category": c}), c)
		}
		for _, c := range []string{"furniture", "component", ""} {
			require.Error(t, policy.ValidateArgs(tool, map[string]any{"category": c}), c)
		}
	})

	t.Run("ErrInputSchemaRejectsMixedItem", func(t *testing.T) {
		tool := cfg.Tool("erp.create_invoice")
		require.Error(t, policy.ValidateArgs(tool, map[string]any{
			"customer": "C001",
			"items":    []any{map[string]any{"sku": "CMP-001", "quantity": 1, "unit_price": 5}},
		}))
		require.Error(t, policy.ValidateArgs(tool, map[string]any{"customer": "C001", "items": []any{}}))
	})
}

// today is the database's current date, which dates invoices (it may differ from the test
// process's time zone).
func today(tb testing.TB, db *dbtest.Database) time.Time {
	tb.Helper()
	var d time.Time
	require.NoError(tb, db.Pool.QueryRow(context.Background(), `SELECT CURRENT_DATE`).Scan(&d))
	return d
}

func TestNew(t *testing.T) {
	domain.CheckNew(t, "erp.delete_invoice", "mcp_domain_hr")
}
