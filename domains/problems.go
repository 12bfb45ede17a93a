package domains

import "strings"

// Problem is one reason a value does not match a schema.
type Problem struct {
	// Field is the dotted path of the offending value ("items.0.quantity"), "" for the whole.
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ValidationError lists every way a value fails its schema, field by field.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	parts := make([]string, 0, len(e.Problems))
	for _, p := range e.Problems {
		if p.Field == "" {
			parts = append(parts, p.Message)
		} else {
			parts = append(parts, p.Field+": "+p.Message)
		}
	}
	return "invalid parameters: " + strings.Join(parts, "; ")
}
