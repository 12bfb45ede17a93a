package erp

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"mcp-platform/domains"
	"mcp-platform/domains/kit"
)

// currency is the currency of every amount in the demo ERP.
const currency = "USD"

// Limits of erp.create_invoice, matching its input schema.
const (
	maxItems     = 50
	maxQuantity  = 10000
	maxUnitPrice = 1_000_000.00
	maxDueInDays = 365
	// maxTotalCents keeps totals within the numeric(12,2) columns.
	maxTotalCents = 999_999_999_999
	// invoiceKeyLockClass is the first key of the advisory locks taken on idempotency keys
	// (the second is the key's hash), apart from the platform's other advisory locks.
	invoiceKeyLockClass = 0x45525031 // "ERP1"
)

// invoiceStatuses are the states an invoice can be in.
var invoiceStatuses = map[string]bool{"draft": true, "sent": true, "paid": true, "overdue": true}

// Customer is who an invoice is billed to.
type Customer struct {
	ID               string `json:"id"`
	Name             string `json:"name"`
	ContactName      string `json:"contact_name"`
	Email            string `json:"email"`
	City             string `json:"city"`
	Country          string `json:"country"`
	Currency         string `json:"currency"`
	PaymentTermsDays int    `json:"payment_terms_days"`
}

// InvoiceLine is one line of an invoice; SKU is nil for services and other free-text lines.
type InvoiceLine struct {
	LineNo      int     `json:"line_no"`
	SKU         *string `json:"sku"`
	Description string  `json:"description"`
	Quantity    int     `json:"quantity"`
	UnitPrice   float64 `json:"unit_price"`
	LineTotal   float64 `json:"line_total"`
}

// Invoice is an invoice with its customer and lines, as returned by erp.get_invoice.
type Invoice struct {
	ID        string        `json:"id"`
	Status    string        `json:"status"`
	Customer  Customer      `json:"customer"`
	IssueDate string        `json:"issue_date"`
	DueDate   string        `json:"due_date"`
	Currency  string        `json:"currency"`
	Lines     []InvoiceLine `json:"lines"`
	Subtotal  float64       `json:"subtotal"`
	TaxRate   float64       `json:"tax_rate"`
	Tax       float64       `json:"tax"`
	Total     float64       `json:"total"`
	CreatedAt string        `json:"created_at"`
}

// CreatedInvoice is erp.create_invoice's result. Replayed is true when the call's idempotency
// key had already created the invoice (a retry), which is then returned unchanged.
type CreatedInvoice struct {
	Invoice
	Replayed bool `json:"replayed"`
}

// InvoiceSummary is an invoice as listed by erp.list_invoices.
type InvoiceSummary struct {
	ID           string  `json:"id"`
	CustomerID   string  `json:"customer_id"`
	CustomerName string  `json:"customer_name"`
	Status       string  `json:"status"`
	IssueDate    string  `json:"issue_date"`
	DueDate      string  `json:"due_date"`
	Currency     string  `json:"currency"`
	Total        float64 `json:"total"`
}

// InvoiceList is erp.list_invoices' result: Count invoices returned, out of TotalMatches.
type InvoiceList struct {
	Invoices     []InvoiceSummary `json:"invoices"`
	Count        int              `json:"count"`
	TotalMatches int              `json:"total_matches"`
}

// getInvoice serves erp.get_invoice.
func (a *Adapter) getInvoice(ctx context.Context, call domains.Call) (any, error) {
	id, err := kit.StringArg(call.Args, "invoice_id", true)
	if err != nil {
		return nil, err
	}
	return loadInvoice(ctx, a.pool, strings.ToUpper(id))
}

// loadInvoice reads an invoice with its customer and lines, or returns CodeNotFound.
func loadInvoice(ctx context.Context, q querier, id string) (*Invoice, error) {
	var inv Invoice
	c := &inv.Customer
	var subtotal, tax, total int64
	var createdAt time.Time
	err := q.QueryRow(ctx, `SELECT i.id, i.status, to_char(i.issue_date, 'YYYY-MM-DD'), to_char(i.due_date, 'YYYY-MM-DD'),
			i.currency, (i.subtotal * 100)::bigint, i.tax_rate::float8, (i.tax * 100)::bigint, (i.total * 100)::bigint,
			i.created_at, c.id, c.name, c.contact_name, c.email, c.city, c.country, c.currency, c.payment_terms_days
		FROM erp.invoices i JOIN erp.customers c ON c.id = i.customer_id
		WHERE i.id = $1`, id).
		Scan(&inv.ID, &inv.Status, &inv.IssueDate, &inv.DueDate, &inv.Currency, &subtotal, &inv.TaxRate, &tax, &total,
			&createdAt, &c.ID, &c.Name, &c.ContactName, &c.Email, &c.City, &c.Country, &c.Currency, &c.PaymentTermsDays)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, domains.Errorf(domains.CodeNotFound, "no invoice with id %q", id)
	}
	if err != nil {
		return nil, dbError("looking up an invoice", err)
	}
	inv.Subtotal, inv.Tax, inv.Total = money(subtotal), money(tax), money(total)
	inv.CreatedAt = createdAt.UTC().Format(time.RFC3339)

	rows, err := q.Query(ctx, `SELECT line_no, sku, description, quantity, (unit_price * 100)::bigint, (line_total * 100)::bigint
		FROM erp.invoice_lines WHERE invoice_id = $1 ORDER BY line_no`, id)
	if err != nil {
		return nil, dbError("reading invoice lines", err)
	}
	inv.Lines, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (InvoiceLine, error) {
		var l InvoiceLine
		var unit, lineTotal int64
		err := row.Scan(&l.LineNo, &l.SKU, &l.Description, &l.Quantity, &unit, &lineTotal)
		l.UnitPrice, l.LineTotal = money(unit), money(lineTotal)
		return l, err
	})
	if err != nil {
		return nil, dbError("reading invoice lines", err)
	}
	if inv.Lines == nil {
		inv.Lines = []InvoiceLine{}
	}
	return &inv, nil
}

// resolveCustomer finds a customer by id ("C001") or exact name ("Contoso Ltd"), ignoring case.
func resolveCustomer(ctx context.Context, q querier, key string) (*Customer, error) {
	var c Customer
	err := q.QueryRow(ctx, `SELECT id, name, contact_name, email, city, country, currency, payment_terms_days
		FROM erp.customers WHERE upper(id) = upper($1) OR lower(name) = lower($1)`, key).
		Scan(&c.ID, &c.Name, &c.ContactName, &c.Email, &c.City, &c.Country, &c.Currency, &c.PaymentTermsDays)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, domains.Errorf(domains.CodeNotFound, "no customer with id or exact name %q", key)
	}
	if err != nil {
		return nil, dbError("looking up a customer", err)
	}
	return &c, nil
}

// listInvoices serves erp.list_invoices.
func (a *Adapter) listInvoices(ctx context.Context, call domains.Call) (any, error) {
	customer, err := kit.StringArg(call.Args, "customer", false)
	if err != nil {
		return nil, err
	}
	status, err := kit.StringArg(call.Args, "status", false)
	if err != nil {
		return nil, err
	}
	status = strings.ToLower(status)
	if status != "" && !invoiceStatuses[status] {
		return nil, domains.Errorf(domains.CodeInvalid, "status %q is not one of draft, sent, paid, overdue", status)
	}
	limit, err := kit.IntArg(call.Args, "limit", 25, 1, 100)
	if err != nil {
		return nil, err
	}
	customerID := ""
	if customer != "" {
		c, err := resolveCustomer(ctx, a.pool, customer)
		if err != nil {
			return nil, err
		}
		customerID = c.ID
	}
	rows, err := a.pool.Query(ctx, `SELECT i.id, i.customer_id, c.name, i.status, to_char(i.issue_date, 'YYYY-MM-DD'),
			to_char(i.due_date, 'YYYY-MM-DD'), i.currency, (i.total * 100)::bigint, count(*) OVER ()
		FROM erp.invoices i JOIN erp.customers c ON c.id = i.customer_id
		WHERE ($1 = '' OR i.customer_id = $1) AND ($2 = '' OR i.status = $2)
		ORDER BY i.issue_date DESC, i.id DESC
		LIMIT $3`, customerID, status, limit)
	if err != nil {
		return nil, dbError("listing invoices", err)
	}
	out := InvoiceList{Invoices: []InvoiceSummary{}}
	for rows.Next() {
		var s InvoiceSummary
		var total int64
		if err := rows.Scan(&s.ID, &s.CustomerID, &s.CustomerName, &s.Status, &s.IssueDate, &s.DueDate, &s.Currency, &total,
			&out.TotalMatches); err != nil {
			rows.Close()
			return nil, dbError("listing invoices", err)
		}
		s.Total = money(total)
		out.Invoices = append(out.Invoices, s)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError("listing invoices", err)
	}
	out.Count = len(out.Invoices)
	return &out, nil
}

// lineRequest is one item of erp.create_invoice: an inventory SKU, or a free-text line with
// its own unit price.
type lineRequest struct {
	SKU            string `json:"sku,omitempty"`
	Description    string `json:"description,omitempty"`
	Quantity       int    `json:"quantity"`
	UnitPriceCents int64  `json:"unit_price_cents,omitempty"`
}

// createRequest is erp.create_invoice's arguments, parsed. Its hash, stored with the invoice,
// tells a retry (same arguments) from a key reused for another invoice.
type createRequest struct {
	Customer  string        `json:"customer"`
	Items     []lineRequest `json:"items"`
	DueInDays *int          `json:"due_in_days,omitempty"`
}

func (r *createRequest) hash() string {
	b, _ := json.Marshal(r) // plain strings and ints: cannot fail
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// parseCreate checks erp.create_invoice's arguments beyond what the input schema says.
func parseCreate(args map[string]any) (*createRequest, error) {
	var r createRequest
	var err error
	if r.Customer, err = kit.StringArg(args, "customer", true); err != nil {
		return nil, err
	}
	if v, ok := args["due_in_days"]; ok && v != nil {
		d, err := kit.IntValue(v, "due_in_days", 0, maxDueInDays)
		if err != nil {
			return nil, err
		}
		r.DueInDays = &d
	}
	var items []map[string]any
	switch v := args["items"].(type) {
	case []any:
		for i, it := range v {
			m, ok := it.(map[string]any)
			if !ok {
				return nil, domains.Errorf(domains.CodeInvalid, "items[%d] must be an object", i)
			}
			items = append(items, m)
		}
	case []map[string]any:
		items = v
	case nil:
		return nil, domains.Errorf(domains.CodeInvalid, "items is required")
	default:
		return nil, domains.Errorf(domains.CodeInvalid, "items must be an array of objects")
	}
	if len(items) == 0 || len(items) > maxItems {
		return nil, domains.Errorf(domains.CodeInvalid, "items must list from 1 to %d lines", maxItems)
	}
	for i, it := range items {
		field := fmt.Sprintf("items[%d]", i)
		var l lineRequest
		if l.Quantity, err = kit.IntValue(it["quantity"], field+".quantity", 1, maxQuantity); err != nil {
			return nil, err
		}
		if l.SKU, err = kit.StringArg(it, "sku", false); err != nil {
			return nil, domains.Errorf(domains.CodeInvalid, "%s.sku must be a string", field)
		}
		if l.Description, err = kit.StringArg(it, "description", false); err != nil {
			return nil, domains.Errorf(domains.CodeInvalid, "%s.description must be a string", field)
		}
		_, hasPrice := it["unit_price"]
		switch {
		case l.SKU != "" && (l.Description != "" || hasPrice):
			return nil, domains.Errorf(domains.CodeInvalid, "%s: give either sku, or description and unit_price, not both", field)
		case l.SKU != "":
			l.SKU = strings.ToUpper(l.SKU)
		case l.Description == "" || !hasPrice:
			return nil, domains.Errorf(domains.CodeInvalid, "%s needs a sku, or a description and a unit_price", field)
		default:
			if l.UnitPriceCents, err = centsValue(it["unit_price"], field+".unit_price", maxUnitPrice); err != nil {
				return nil, err
			}
		}
		r.Items = append(r.Items, l)
	}
	return &r, nil
}

// createInvoice serves erp.create_invoice: a draft invoice for a customer, with lines priced
// from the inventory (SKU items) or given (free-text items), tax at TaxRate, due after
// due_in_days (default: the customer's payment terms). It does not reserve or ship stock.
//
// It is idempotent on call.IdempotencyKey: the key is stored in erp.invoices.idempotency_key
// (unique) by the transaction that creates the invoice, so a retry, even one racing the first
// attempt, returns the invoice created the first time and never creates a second.
func (a *Adapter) createInvoice(ctx context.Context, call domains.Call) (any, error) {
	key, req, err := parseCreateCall(call)
	if err != nil {
		return nil, err
	}
	hash := req.hash()

	// A retry of a call that already succeeded: return its invoice, even if the customer or
	// items have changed since.
	if inv, err := replay(ctx, a.pool, key, hash); inv != nil || err != nil {
		return inv, err
	}

	d, err := a.draftInvoice(ctx, req)
	if err != nil {
		return nil, err
	}
	return a.insertInvoice(ctx, key, hash, call.Subject, d)
}

// parseCreateCall checks that the call has an idempotency key and valid arguments.
func parseCreateCall(call domains.Call) (string, *createRequest, error) {
	key := strings.TrimSpace(call.IdempotencyKey)
	if key == "" {
		return "", nil, domains.Errorf(domains.CodeInvalid, "erp.create_invoice needs an idempotency key, so that a retry cannot bill twice")
	}
	req, err := parseCreate(call.Args)
	if err != nil {
		return "", nil, err
	}
	return key, req, nil
}

// invoiceDraft is a new invoice with its customer, prices, tax and due date settled, ready to
// be inserted. Amounts are in cents.
type invoiceDraft struct {
	customerID string
	dueInDays  int
	lines      []pricedLine
	subtotal   int64
	tax        int64
}

// total is what the invoice bills, tax included.
func (d *invoiceDraft) total() int64 { return d.subtotal + d.tax }

// draftInvoice resolves the customer, prices the lines, adds tax and sets the due date.
func (a *Adapter) draftInvoice(ctx context.Context, req *createRequest) (*invoiceDraft, error) {
	customer, err := resolveCustomer(ctx, a.pool, req.Customer)
	if err != nil {
		return nil, err
	}
	lines, err := a.priceLines(ctx, req.Items)
	if err != nil {
		return nil, err
	}
	d := &invoiceDraft{customerID: customer.ID, dueInDays: customer.PaymentTermsDays, lines: lines}
	for _, l := range lines {
		d.subtotal += l.total
	}
	d.tax = (d.subtotal*taxRateBasisPoints + 5000) / 10000 // rounded half up to the cent
	if d.total() > maxTotalCents {
		return nil, domains.Errorf(domains.CodeInvalid, "the invoice total exceeds %.2f %s", money(maxTotalCents), currency)
	}
	if req.DueInDays != nil {
		d.dueInDays = *req.DueInDays
	}
	return d, nil
}

// insertInvoice numbers and stores the draft with its lines in one transaction, unless an
// attempt with the same key got there first, whose invoice it then returns.
func (a *Adapter) insertInvoice(ctx context.Context, key, hash, subject string, d *invoiceDraft) (*CreatedInvoice, error) {
	tx, err := a.pool.Begin(ctx)
	if err != nil {
		return nil, dbError("creating an invoice", err)
	}
	defer func() { _ = tx.Rollback(ctx) }() // no-op after Commit

	if err := lockKey(ctx, tx, key); err != nil {
		return nil, err
	}
	if inv, err := replay(ctx, tx, key, hash); inv != nil || err != nil {
		return inv, err
	}

	var seq int64
	if err := tx.QueryRow(ctx, `SELECT nextval('erp.invoice_number_seq')`).Scan(&seq); err != nil {
		return nil, dbError("numbering an invoice", err)
	}
	id := fmt.Sprintf("INV-%03d", seq)
	inserted, err := insertInvoiceRow(ctx, tx, id, key, hash, subject, d)
	if err != nil {
		return nil, err
	}
	if !inserted {
		_ = tx.Rollback(ctx)
		return a.lostRace(ctx, key, hash)
	}
	if err := insertInvoiceLines(ctx, tx, id, d.lines); err != nil {
		return nil, err
	}
	inv, err := loadInvoice(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, dbError("creating an invoice", err)
	}
	return &CreatedInvoice{Invoice: *inv}, nil
}

// lockKey makes attempts with the same key queue until tx ends, so that a retry racing the
// first attempt finds its invoice instead of drawing a second number. The unique key is what
// guarantees a single invoice; the lock only keeps the numbering free of needless gaps.
func lockKey(ctx context.Context, tx pgx.Tx, key string) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, invoiceKeyLockClass, key); err != nil {
		return dbError("creating an invoice", err)
	}
	return nil
}

// lostRace returns the invoice of the attempt with the same key that committed while this one
// was inserting.
func (a *Adapter) lostRace(ctx context.Context, key, hash string) (*CreatedInvoice, error) {
	inv, err := replay(ctx, a.pool, key, hash)
	if err == nil && inv == nil {
		err = domains.Errorf(domains.CodeUnavailable, "an invoice with this idempotency key was being created concurrently; try again")
	}
	return inv, err
}

// insertInvoiceRow inserts the invoice itself as a draft issued today. It reports false, and
// inserts nothing, when another attempt with the key has committed meanwhile.
func insertInvoiceRow(ctx context.Context, tx pgx.Tx, id, key, hash, subject string, d *invoiceDraft) (bool, error) {
	rows, err := tx.Query(ctx, `INSERT INTO erp.invoices (id, customer_id, status, issue_date, due_date, currency,
			subtotal, tax_rate, tax, total, idempotency_key, request_hash, created_by)
		VALUES ($1, $2, 'draft', CURRENT_DATE, CURRENT_DATE + $3::int, $4,
			$5::bigint / 100.0, $6::int / 10000.0, $7::bigint / 100.0, $8::bigint / 100.0, $9, $10, $11)
		ON CONFLICT (idempotency_key) DO NOTHING
		RETURNING id`,
		id, d.customerID, d.dueInDays, currency, d.subtotal, taxRateBasisPoints, d.tax, d.total(), key, hash, subject)
	if err != nil {
		return false, dbError("creating an invoice", err)
	}
	inserted, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return false, dbError("creating an invoice", err)
	}
	return len(inserted) > 0, nil
}

// insertInvoiceLines inserts the lines of invoice id, numbered from 1 in order, in one
// statement.
func insertInvoiceLines(ctx context.Context, tx pgx.Tx, id string, lines []pricedLine) error {
	skus := make([]*string, len(lines))
	descriptions := make([]string, len(lines))
	quantities := make([]int32, len(lines))
	prices := make([]int64, len(lines))
	for i, l := range lines {
		skus[i], descriptions[i], quantities[i], prices[i] = l.sku, l.description, int32(l.quantity), l.unitCents
	}
	if _, err := tx.Exec(ctx, `INSERT INTO erp.invoice_lines (invoice_id, line_no, sku, description, quantity, unit_price)
		SELECT $1, t.ord, t.sku, t.description, t.quantity, t.unit_cents / 100.0
		FROM unnest($2::text[], $3::text[], $4::int[], $5::bigint[]) WITH ORDINALITY AS t (sku, description, quantity, unit_cents, ord)`,
		id, skus, descriptions, quantities, prices); err != nil {
		return dbError("adding invoice lines", err)
	}
	return nil
}

// replay returns the invoice an earlier call with key created, nil when there is none, and
// CodeConflict when the key was used with different arguments.
func replay(ctx context.Context, q querier, key, hash string) (*CreatedInvoice, error) {
	var id string
	var storedHash *string
	err := q.QueryRow(ctx, `SELECT id, request_hash FROM erp.invoices WHERE idempotency_key = $1`, key).Scan(&id, &storedHash)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, dbError("looking up an idempotency key", err)
	}
	if storedHash != nil && *storedHash != hash {
		return nil, domains.Errorf(domains.CodeConflict, "this idempotency key already created invoice %s with different arguments", id)
	}
	inv, err := loadInvoice(ctx, q, id)
	if err != nil {
		return nil, err
	}
	return &CreatedInvoice{Invoice: *inv, Replayed: true}, nil
}

// pricedLine is a line of a new invoice with its price settled.
type pricedLine struct {
	sku         *string
	description string
	quantity    int
	unitCents   int64
	total       int64
}

// priceLines prices SKU items from the inventory and checks every SKU exists.
func (a *Adapter) priceLines(ctx context.Context, items []lineRequest) ([]pricedLine, error) {
	var skus []string
	for _, it := range items {
		if it.SKU != "" {
			skus = append(skus, it.SKU)
		}
	}
	type stocked struct {
		name  string
		cents int64
	}
	known := map[string]stocked{}
	if len(skus) > 0 {
		rows, err := a.pool.Query(ctx, `SELECT sku, name, (unit_price * 100)::bigint FROM erp.inventory_items WHERE sku = ANY($1)`, skus)
		if err != nil {
			return nil, dbError("pricing invoice lines", err)
		}
		for rows.Next() {
			var sku string
			var s stocked
			if err := rows.Scan(&sku, &s.name, &s.cents); err != nil {
				rows.Close()
				return nil, dbError("pricing invoice lines", err)
			}
			known[sku] = s
		}
		if err := rows.Err(); err != nil {
			return nil, dbError("pricing invoice lines", err)
		}
	}
	lines := make([]pricedLine, 0, len(items))
	for i, it := range items {
		l := pricedLine{description: it.Description, quantity: it.Quantity, unitCents: it.UnitPriceCents}
		if it.SKU != "" {
			s, ok := known[it.SKU]
			if !ok {
				return nil, domains.Errorf(domains.CodeNotFound, "items[%d]: no inventory item with SKU %q", i, it.SKU)
			}
			sku := it.SKU
			l.sku, l.description, l.unitCents = &sku, s.name, s.cents
		}
		l.total = l.unitCents * int64(l.quantity)
		lines = append(lines, l)
	}
	return lines, nil
}
