package policy_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"mcp-platform/domains"
	"mcp-platform/domains/policy"
)

func TestSchemaValidateFieldPaths(t *testing.T) {
	s, err := policy.CompileSchema(map[string]any{
		"type":                 "object",
		"required":             []any{"record_id"},
		"additionalProperties": false,
		"properties": map[string]any{
			"record_id": map[string]any{"type": "string"},
			"card":      map[string]any{"type": "string"},
			"billing":   map[string]any{"type": "string"},
			"items": map[string]any{"type": "array", "items": map[string]any{
				"type": "object", "required": []any{"sku"}, "additionalProperties": false,
				"properties": map[string]any{"sku": map[string]any{"type": "string"}},
			}},
		},
		"dependentRequired": map[string]any{"card": []any{"billing"}},
	})
	require.NoError(t, err)
	tests := []struct {
		name string
		args map[string]any
		want []domains.Problem
	}{
		{"ErrMissing names the property", map[string]any{},
			[]domains.Problem{{Field: "record_id", Message: "is required"}}},
		{"ErrExtra names each property", map[string]any{"record_id": "R1", "bogus": 1, "other": 2},
			[]domains.Problem{{Field: "bogus", Message: "is not allowed: the schema has no such property"}, {Field: "other", Message: "is not allowed: the schema has no such property"}}},
		{"ErrNested paths go through arrays", map[string]any{"record_id": "R1", "items": []any{map[string]any{"sku": "A"}, map[string]any{"qty": 1}}},
			[]domains.Problem{{Field: "items.1.qty", Message: "is not allowed: the schema has no such property"}, {Field: "items.1.sku", Message: "is required"}}},
		{"ErrDependentRequired names the missing property", map[string]any{"record_id": "R1", "card": "4111"},
			[]domains.Problem{{Field: "billing", Message: "is required when card is present"}}},
		{"ErrType keeps the value's path", map[string]any{"record_id": 12},
			[]domains.Problem{{Field: "record_id", Message: "got number, want string"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ve *domains.ValidationError
			require.True(t, errors.As(s.Validate(tt.args), &ve))
			require.Equal(t, tt.want, ve.Problems)
		})
	}
	t.Run("OK valid arguments", func(t *testing.T) {
		require.NoError(t, s.Validate(map[string]any{"record_id": "R1", "card": "4111", "billing": "Main St"}))
	})
}
