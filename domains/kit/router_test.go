package kit_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"mcp-platform/domains"
	"mcp-platform/domains/kit"
)

func TestRouter(t *testing.T) {
	var got domains.Call
	echo := func(_ context.Context, call domains.Call) (any, error) {
		got = call
		return call.Tool, nil
	}
	r := kit.Router{Domain: "shop", Handlers: map[string]kit.Handler{
		"shop.order": echo,
		"shop.look":  echo,
	}}

	t.Run("OK calls the tool's handler", func(t *testing.T) {
		res, err := r.Call(context.Background(), domains.Call{Tool: "shop.look", Args: map[string]any{"sku": "A"}, IdempotencyKey: "k"})
		require.NoError(t, err)
		require.Equal(t, "shop.look", res)
		require.Equal(t, domains.Call{Tool: "shop.look", Args: map[string]any{"sku": "A"}, IdempotencyKey: "k"}, got)
	})

	t.Run("OK nil args arrive empty", func(t *testing.T) {
		_, err := r.Call(context.Background(), domains.Call{Tool: "shop.order"})
		require.NoError(t, err)
		require.NotNil(t, got.Args)
		require.Empty(t, got.Args)
	})

	t.Run("ErrUnknownTool", func(t *testing.T) {
		_, err := r.Call(context.Background(), domains.Call{Tool: "shop.burn"})
		var de *domains.Error
		require.ErrorAs(t, err, &de)
		require.Equal(t, domains.CodeNotFound, de.Code)
		require.Equal(t, `the shop domain has no tool "shop.burn"`, de.Message)
	})

	t.Run("OK names are sorted", func(t *testing.T) {
		require.Equal(t, []string{"shop.look", "shop.order"}, r.Names())
	})

	t.Run("OK serves every configured tool", func(t *testing.T) {
		require.NoError(t, r.CheckServes(&domains.Config{File: "shop.yaml", Tools: []domains.Tool{{Name: "shop.look"}}}))
		require.NoError(t, r.CheckServes(nil))
	})

	t.Run("ErrConfiguredToolNotServed", func(t *testing.T) {
		err := r.CheckServes(&domains.Config{File: "shop.yaml", Tools: []domains.Tool{{Name: "shop.look"}, {Name: "shop.burn"}}})
		require.EqualError(t, err, `configuration shop.yaml declares tool "shop.burn", which the shop adapter does not serve`)
	})
}
