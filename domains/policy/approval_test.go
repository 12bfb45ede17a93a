package policy_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"mcp-platform/domains"
	"mcp-platform/domains/domainconfig"
	"mcp-platform/domains/policy"
)

const approvalYAML = `
name: shop
description: A shop.
tools:
  - name: order
    description: Orders items.
    annotations: {requires_approval: true}
    approval:
      when: 'sum(args.items.map(i, i.quantity * i.price)) > 1000.0 || args.rush'
      approvers: [buyer]
      timeout: 2h
    input_schema:
      type: object
      properties:
        rush: {type: boolean}
        items: {type: array, items: {type: object}}
  - name: delete_all
    description: Deletes everything.
    annotations: {requires_approval: true, destructive: true}
  - name: look
    description: Looks.
`

func TestNeedsApproval(t *testing.T) {
	c, err := domainconfig.Parse("shop.yaml", []byte(approvalYAML))
	require.NoError(t, err)
	order, deleteAll, look := c.Tool("shop.order"), c.Tool("shop.delete_all"), c.Tool("shop.look")
	item := func(q, p float64) map[string]any { return map[string]any{"quantity": q, "price": p} }
	tests := []struct {
		name string
		tool *domains.Tool
		args map[string]any
		want bool
	}{
		{"OK small order runs", order, map[string]any{"rush": false, "items": []any{item(2, 10)}}, false},
		{"OK large order waits", order, map[string]any{"rush": false, "items": []any{item(20, 100)}}, true},
		{"OK rush waits", order, map[string]any{"rush": true, "items": []any{item(1, 1)}}, true},
		{"OK undecidable condition waits", order, map[string]any{"items": []any{map[string]any{"quantity": 1}}}, true},
		{"OK annotation alone always waits", deleteAll, nil, true},
		{"OK no policy never waits", look, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := policy.NeedsApproval(tt.tool, tt.args, "u1", []string{"clerk"})
			require.Equal(t, tt.want, d.Required)
		})
	}
	d := policy.NeedsApproval(order, map[string]any{"rush": true, "items": []any{}}, "u1", nil)
	require.Equal(t, []string{"buyer"}, d.Approvers)
	require.Equal(t, "2h0m0s", d.Timeout.String())

	t.Run("ErrBadCondition names the field", func(t *testing.T) {
		_, err := domainconfig.Parse("shop.yaml", []byte("name: shop\ntools:\n  - name: a\n    description: x\n    approval: {when: 'args.x >'}\n"))
		var fe *domainconfig.FieldError
		require.ErrorAs(t, err, &fe)
		require.Equal(t, "tools[0].approval.when", fe.Field)
	})
}

func TestArgsHash(t *testing.T) {
	a := policy.ArgsHash(map[string]any{"b": 1, "a": "x"})
	require.Equal(t, a, policy.ArgsHash(map[string]any{"a": "x", "b": 1}), "key order does not matter")
	require.NotEqual(t, a, policy.ArgsHash(map[string]any{"a": "x", "b": 2}))
	require.Len(t, a, 64)
}
