package domainconfig_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"mcp-platform/domains"
	"mcp-platform/domains/domainconfig"
	"mcp-platform/domains/policy"
)

const validYAML = `
name: shop
description: A shop.
permissions:
  - role: clerk
    tools: ["shop.*"]
tools:
  - name: get_item
    description: Get an item.
    input_schema:
      type: object
      required: [sku]
      properties:
        sku: {type: string, pattern: "^[A-Z]{3}-[0-9]{3}$"}
        quantity: {type: integer, minimum: 1}
`

func TestParse(t *testing.T) {
	t.Run("OK defaults and namespacing", func(t *testing.T) {
		c, err := domainconfig.Parse("shop.yaml", []byte(validYAML))
		require.NoError(t, err)
		require.Equal(t, "domain-shop", c.TaskQueue)
		require.Equal(t, "shop.get_item", c.Tools[0].Name)
		require.Equal(t, domains.KindBuiltin, c.Kind)
		require.Equal(t, []string{domains.ActionExecute}, c.Permissions[0].Actions)
		require.Equal(t, domainconfig.DefaultTimeout, c.ToolTimeout(&c.Tools[0]))
		require.True(t, c.IsEnabled())
	})

	tests := []struct {
		name, yaml, field, problem string
	}{
		{"ErrYAML", "name: [", "(yaml)", ""},
		{"ErrUnknownKey", validYAML + "colour: red\n", "(yaml)", "colour"},
		{"ErrNameMismatch", "name: other\ndescription: x\n", "name", "does not match the file name"},
		{"ErrKind", "name: shop\nkind: soap\n", "kind", "builtin, mcp, http"},
		{"ErrForeignTool", "name: shop\ntools:\n  - name: hr.get_employee\n    description: x\n", "tools[0].name", "outside the domain's namespace"},
		{"ErrForeignPermission", "name: shop\npermissions:\n  - role: clerk\n    tools: [\"hr.*\"]\n", "permissions[0].tools[0]", "inside the domain's namespace"},
		{"ErrNoDescription", "name: shop\ntools:\n  - name: a\n", "tools[0].description", "required"},
		{"ErrBadSchema", "name: shop\ntools:\n  - name: a\n    description: x\n    input_schema: {type: object, properties: {n: {type: integr}}}\n", "tools[0].input_schema", "not a valid JSON Schema"},
		{"ErrAction", "name: shop\npermissions:\n  - role: clerk\n    tools: [\"shop.*\"]\n    actions: [delete]\n", "permissions[0].actions[0]", "not one of"},
		{"ErrMCPWithoutSource", "name: shop\nkind: mcp\n", "mcp", "exactly one of"},
		{"ErrDuration", "name: shop\ntimeout: soon\n", "(yaml)", "not a duration"},
		{"ErrMCPPublish", "name: shop\nkind: mcp\nmcp: {url: 'http://shop.internal/mcp', publish: bare}\n", "mcp.publish", "not one of prefixed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := domainconfig.Parse("shop.yaml", []byte(tt.yaml))
			var fe *domainconfig.FieldError
			require.ErrorAs(t, err, &fe)
			require.Equal(t, "shop.yaml", fe.File)
			require.Equal(t, tt.field, fe.Field)
			require.Contains(t, fe.Problem, tt.problem)
		})
	}
}

func TestLoadDirSkipsBrokenFiles(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "shop.yaml"), []byte(validYAML), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "broken.yaml"), []byte("name: broken\nkind: soap\n"), 0o600))
	cfgs, errs := domainconfig.LoadDir(dir)
	require.Len(t, cfgs, 1)
	require.Equal(t, "shop", cfgs[0].Name)
	require.Len(t, errs, 1)
	require.Contains(t, errs[0].Error(), "broken.yaml")
	require.Contains(t, errs[0].Error(), "kind")
}

func TestValidateArgs(t *testing.T) {
	c, err := domainconfig.Parse("shop.yaml", []byte(validYAML))
	require.NoError(t, err)
	tool := &c.Tools[0]
	require.NoError(t, policy.ValidateArgs(tool, map[string]any{"sku": "ABC-123", "quantity": 2}))

	err = policy.ValidateArgs(tool, map[string]any{"sku": "abc", "quantity": 0})
	var ve *domains.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Len(t, ve.Problems, 2)
	require.Equal(t, "quantity", ve.Problems[0].Field)
	require.Equal(t, "sku", ve.Problems[1].Field)
	require.Contains(t, err.Error(), "sku:")

	err = policy.ValidateArgs(tool, nil)
	require.ErrorContains(t, err, "sku")
}

func TestSafeNames(t *testing.T) {
	require.Equal(t, "hr__get_employee", domains.SafeName("hr.get_employee"))
	for _, in := range []string{"hr__get_employee", "hr.get_employee"} {
		got, ok := domains.FromSafeName(in)
		require.True(t, ok)
		require.Equal(t, "hr.get_employee", got)
	}
	got, ok := domains.FromSafeName("my_app__do__it")
	require.True(t, ok)
	require.Equal(t, "my_app.do__it", got)
	_, ok = domains.FromSafeName("plain")
	require.False(t, ok)
}

func TestPublishedNames(t *testing.T) {
	for _, tt := range []struct{ name, publish, want string }{
		{"OK prefixed by default", "", "shop__get_item"},
		{"OK prefixed", "publish: prefixed", "shop__get_item"},
		{"OK unprefixed", "publish: unprefixed", "get_item"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := domainconfig.Parse("shop.yaml", []byte("name: shop\nkind: mcp\nmcp:\n  url: http://shop.internal/mcp\n  "+tt.publish+"\n"))
			require.NoError(t, err)
			require.Equal(t, tt.want, c.PublishedName("shop.get_item"))
		})
	}
}
