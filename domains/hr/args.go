package hr

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"mcp-platform/domains"
)

// stringArg returns the trimmed string argument name; "" when it is absent and not required.
// The platform validates arguments against the input schema first; these checks keep the
// adapter safe when it is called directly.
func stringArg(args map[string]any, name string, required bool) (string, error) {
	v, ok := args[name]
	if !ok || v == nil {
		if required {
			return "", domains.Errorf(domains.CodeInvalid, "%s is required", name)
		}
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", domains.Errorf(domains.CodeInvalid, "%s must be a string", name)
	}
	s = strings.TrimSpace(s)
	if required && s == "" {
		return "", domains.Errorf(domains.CodeInvalid, "%s must not be empty", name)
	}
	return s, nil
}

// intArg returns the integer argument name, def when it is absent.
func intArg(args map[string]any, name string, def, lo, hi int) (int, error) {
	v, ok := args[name]
	if !ok || v == nil {
		return def, nil
	}
	var f float64
	switch n := v.(type) {
	case int:
		f = float64(n)
	case int32:
		f = float64(n)
	case int64:
		f = float64(n)
	case float64:
		f = n
	case json.Number:
		var err error
		if f, err = n.Float64(); err != nil {
			return 0, domains.Errorf(domains.CodeInvalid, "%s must be an integer", name)
		}
	default:
		return 0, domains.Errorf(domains.CodeInvalid, "%s must be an integer", name)
	}
	if f != math.Trunc(f) || f < float64(lo) || f > float64(hi) {
		return 0, domains.Errorf(domains.CodeInvalid, "%s must be an integer from %d to %d", name, lo, hi)
	}
	return int(f), nil
}

// employeeIDArg returns the employee_id argument, upper-cased ("e001" is E001).
func employeeIDArg(args map[string]any) (string, error) {
	id, err := stringArg(args, "employee_id", true)
	return strings.ToUpper(id), err
}

// likePattern turns free text into an ILIKE pattern matching it anywhere, with the text's own
// wildcards escaped.
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}

// dbError classifies a database failure: timeouts and connection problems are transient
// (CodeUnavailable), SQL the server refuses is a bug (CodeInternal). The message is safe to
// show; the cause is kept for logs.
func dbError(op string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &domains.Error{Code: domains.CodeUnavailable, Message: "the HR database did not answer in time while " + op, Err: err}
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code[:2] {
		case "08", "53", "57", "40": // connection, resources, shutdown, serialization: may pass
		default:
			return &domains.Error{Code: domains.CodeInternal, Message: "the HR database refused the query while " + op, Err: err}
		}
	}
	return &domains.Error{Code: domains.CodeUnavailable, Message: "the HR database is unavailable while " + op, Err: err}
}
