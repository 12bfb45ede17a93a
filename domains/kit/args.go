package kit

import (
	"mcp-platform/domains"

	"encoding/json"
	"math"
	"strings"
)

// Argument helpers for builtin adapters. The platform validates arguments against the tool's
// input schema before a call reaches an adapter; these checks keep an adapter safe when it is
// called directly (tests, a schema that is looser than the code). Their errors are *domains.Error
// with domains.CodeInvalid and a message naming the argument.

// StringArg returns the trimmed string argument name, "" when it is absent or null and not
// required. A required argument that is absent, null or blank is domains.CodeInvalid, as is a value that
// is not a string.
func StringArg(args map[string]any, name string, required bool) (string, error) {
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

// Number returns v as a float64 when it is a number however it was decoded: float64 or
// json.Number from JSON, int, int32 or int64 from Go callers. It reports false for anything
// else, including a json.Number that does not parse.
func Number(v any) (float64, bool) {
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

// IntValue returns v as an int when it is a whole Number from lo to hi (inclusive); anything
// else is domains.CodeInvalid, with name in the message. JSON decodes 3 as 3.0, so a float64 without
// a fraction counts as an integer.
func IntValue(v any, name string, lo, hi int) (int, error) {
	f, ok := Number(v)
	if !ok || f != math.Trunc(f) || f < float64(lo) || f > float64(hi) {
		return 0, domains.Errorf(domains.CodeInvalid, "%s must be an integer between %d and %d", name, lo, hi)
	}
	return int(f), nil
}

// IntArg returns the integer argument name, checked by IntValue, or def when it is absent or
// null.
func IntArg(args map[string]any, name string, def, lo, hi int) (int, error) {
	v, ok := args[name]
	if !ok || v == nil {
		return def, nil
	}
	return IntValue(v, name, lo, hi)
}
