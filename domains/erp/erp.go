// Package erp is the ERP domain: customers, invoices and inventory kept in the erp schema of
// Postgres, seeded by migrations/00003_erp.sql. Its tools read invoices and stock levels and
// create invoices (erp.create_invoice, idempotent on the call's idempotency key).
//
// The worker opens the domain's pool with SET ROLE DBRole, a role that may read the erp schema
// and insert invoices and nothing else, so a bug or an injected query here cannot reach another
// domain's data or the platform's tables.
package erp

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"mcp-platform/domains"
	"mcp-platform/domains/kit"
)

// DBRole is the Postgres role the ERP adapter's connections run as (SET ROLE after connect). The
// migration creates it and grants it SELECT on the erp schema and INSERT on invoices and their
// lines only.
const DBRole = "mcp_domain_erp"

// TaxRate is the sales tax applied to new invoices: 8.25 %, a typical combined US state and
// local rate. Each invoice stores its rate, so changing it never rewrites past invoices.
const TaxRate = 0.0825

// taxRateBasisPoints is TaxRate in hundredths of a percent, for exact integer arithmetic.
const taxRateBasisPoints = 825

// Adapter executes the ERP tools against the erp schema.
type Adapter struct {
	pool   *pgxpool.Pool
	router kit.Router
}

// querier is what both the pool and a transaction offer, so reads can run in either.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// New builds the ERP adapter on deps.Pool, which must run as DBRole. It fails when the pool is
// missing, when the erp schema cannot be read (migrations not applied, wrong role), or when
// deps.Config declares a tool this adapter does not serve.
func New(ctx context.Context, deps kit.Deps) (domains.Adapter, error) {
	if deps.Pool == nil {
		return nil, errors.New("erp: no database pool")
	}
	a := &Adapter{pool: deps.Pool}
	a.router = a.routes()
	if err := a.router.CheckServes(deps.Config); err != nil {
		return nil, fmt.Errorf("erp: %w", err)
	}
	var n int
	if err := a.pool.QueryRow(ctx, `SELECT count(*) FROM erp.customers`).Scan(&n); err != nil {
		return nil, fmt.Errorf("erp: read the erp schema (are migrations applied and the pool running as %s?): %w", DBRole, err)
	}
	return a, nil
}

// routes maps each namespaced tool name to its handler.
func (a *Adapter) routes() kit.Router {
	return kit.Router{Domain: "erp", Handlers: map[string]kit.Handler{
		"erp.get_invoice":        a.getInvoice,
		"erp.list_invoices":      a.listInvoices,
		"erp.create_invoice":     a.createInvoice,
		"erp.check_low_stock":    a.checkLowStock,
		"erp.get_inventory_item": a.getInventoryItem,
	}}
}

// Tools returns the names of the tools the ERP adapter serves, sorted.
func Tools() []string { return (&Adapter{}).routes().Names() }

// Call executes one ERP tool. Unknown tools, customers, invoices and SKUs are CodeNotFound,
// malformed arguments CodeInvalid, an idempotency key reused for a different invoice
// CodeConflict, database failures CodeUnavailable (retried).
func (a *Adapter) Call(ctx context.Context, call domains.Call) (any, error) {
	return a.router.Call(ctx, call)
}
