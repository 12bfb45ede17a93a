// Package hr is the HR domain: read-only tools over the organisation (employees, departments,
// reporting lines) kept in the hr schema of Postgres, seeded by migrations/00002_hr.sql.
//
// The worker opens the domain's pool with SET ROLE DBRole, a role that may read the hr schema
// and nothing else, so a bug or an injected query here cannot reach another domain's data or
// the platform's tables.
package hr

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"mcp-platform/domains"
	"mcp-platform/domains/kit"
)

// DBRole is the Postgres role the HR adapter's connections run as (SET ROLE after connect). The
// migration creates it and grants it SELECT on the hr schema only.
const DBRole = "mcp_domain_hr"

// Adapter executes the HR tools against the hr schema.
type Adapter struct {
	pool   *pgxpool.Pool
	router kit.Router
}

// New builds the HR adapter on deps.Pool, which must run as DBRole. It fails when the pool is
// missing, when the hr schema cannot be read (migrations not applied, wrong role), or when
// deps.Config declares a tool this adapter does not serve.
func New(ctx context.Context, deps kit.Deps) (domains.Adapter, error) {
	if deps.Pool == nil {
		return nil, errors.New("hr: no database pool")
	}
	a := &Adapter{pool: deps.Pool}
	a.router = a.routes()
	if err := a.router.CheckServes(deps.Config); err != nil {
		return nil, fmt.Errorf("hr: %w", err)
	}
	var n int
	if err := a.pool.QueryRow(ctx, `SELECT count(*) FROM hr.departments`).Scan(&n); err != nil {
		return nil, fmt.Errorf("hr: read the hr schema (are migrations applied and the pool running as %s?): %w", DBRole, err)
	}
	return a, nil
}

// routes maps each namespaced tool name to its handler.
func (a *Adapter) routes() kit.Router {
	return kit.Router{Domain: "hr", Handlers: map[string]kit.Handler{
		"hr.get_employee":     a.getEmployee,
		"hr.search_employees": a.searchEmployees,
		"hr.list_departments": a.listDepartments,
		"hr.get_department":   a.getDepartment,
		"hr.get_manager":      a.getManager,
		"hr.list_reports":     a.listReports,
	}}
}

// Tools returns the names of the tools the HR adapter serves, sorted.
func Tools() []string { return (&Adapter{}).routes().Names() }

// Call executes one HR tool. Unknown tools and employees or departments that do not exist are
// CodeNotFound, malformed arguments CodeInvalid, database failures CodeUnavailable (retried).
func (a *Adapter) Call(ctx context.Context, call domains.Call) (any, error) {
	return a.router.Call(ctx, call)
}
