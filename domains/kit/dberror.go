package kit

import (
	"mcp-platform/domains"

	"context"
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
)

// DBError classifies a failure of a domain's own database as an *Error: timeouts and
// connection, resource, shutdown and serialization failures are transient (domains.CodeUnavailable,
// retried), SQL the server refuses is a bug (domains.CodeInternal). The message names the database
// ("the HR database ...") and op, what the adapter was doing ("searching employees"), and is
// safe to show; err is kept as the cause for logs.
func DBError(database, op string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &domains.Error{Code: domains.CodeUnavailable, Message: "the " + database + " database did not answer in time while " + op, Err: err}
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code[:2] {
		case "08", "53", "57", "40": // connection, resources, shutdown, serialization: may pass
		default:
			return &domains.Error{Code: domains.CodeInternal, Message: "the " + database + " database refused the query while " + op, Err: err}
		}
	}
	return &domains.Error{Code: domains.CodeUnavailable, Message: "the " + database + " database is unavailable while " + op, Err: err}
}
