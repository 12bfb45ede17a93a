package erp

import (
	"math"

	"mcp-platform/domains"
	"mcp-platform/domains/kit"
)

// centsValue converts an amount of money to cents, refusing fractions of a cent.
func centsValue(v any, name string, max float64) (int64, error) {
	f, ok := kit.Number(v)
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

// dbError classifies a failure of the ERP database while doing op (see kit.DBError).
func dbError(op string, err error) error { return kit.DBError("ERP", op, err) }
