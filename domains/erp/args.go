package erp

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

// number returns a JSON number however it was decoded (float64, json.Number, Go ints).
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int32:
		return float64(n), true
	case int64:
		return float64(n), true
	case float64:
		return n, true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

// intValue checks that v is an integer from lo to hi; name is used in the error.
func intValue(v any, name string, lo, hi int) (int, error) {
	f, ok := number(v)
	if !ok || f != math.Trunc(f) || f < float64(lo) || f > float64(hi) {
		return 0, domains.Errorf(domains.CodeInvalid, "%s must be an integer from %d to %d", name, lo, hi)
	}
	return int(f), nil
}

// intArg returns the integer argument name, def when it is absent.
func intArg(args map[string]any, name string, def, lo, hi int) (int, error) {
	v, ok := args[name]
	if !ok || v == nil {
		return def, nil
	}
	return intValue(v, name, lo, hi)
}

// centsValue converts an amount of money to cents, refusing fractions of a cent.
func centsValue(v any, name string, max float64) (int64, error) {
	f, ok := number(v)
	if !ok || f < 0 || f > max || math.IsNaN(f) {
		return 0, domains.Errorf(domains.CodeInvalid, "%s must be an amount from 0 to %.2f", name, max)
	}
	c := math.Round(f * 100)
	if math.Abs(f*100-c) > 1e-6 {
		return 0, domains.Errorf(domains.CodeInvalid, "%s must have at most two decimals (cents)", name)
	}
	return int64(c), nil
}

// money turns cents into the amount returned in results.
func money(cents int64) float64 { return float64(cents) / 100 }

// dbError classifies a database failure: timeouts and connection problems are transient
// (CodeUnavailable), SQL the server refuses is a bug (CodeInternal). The message is safe to
// show; the cause is kept for logs.
func dbError(op string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &domains.Error{Code: domains.CodeUnavailable, Message: "the ERP database did not answer in time while " + op, Err: err}
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code[:2] {
		case "08", "53", "57", "40": // connection, resources, shutdown, serialization: may pass
		default:
			return &domains.Error{Code: domains.CodeInternal, Message: "the ERP database refused the query while " + op, Err: err}
		}
	}
	return &domains.Error{Code: domains.CodeUnavailable, Message: "the ERP database is unavailable while " + op, Err: err}
}
