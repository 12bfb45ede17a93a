package hr

import (
	"strings"

	"mcp-platform/domains/kit"
)

// employeeIDArg returns the employee_id argument, upper-cased ("e001" is E001).
func employeeIDArg(args map[string]any) (string, error) {
	id, err := kit.StringArg(args, "employee_id", true)
	return strings.ToUpper(id), err
}

// likePattern turns free text into an ILIKE pattern matching it anywhere, with the text's own
// wildcards escaped.
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}

// dbError classifies a failure of the HR database while doing op (see kit.DBError).
func dbError(op string, err error) error { return kit.DBError("HR", op, err) }
