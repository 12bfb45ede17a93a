package platform_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"mcp-platform/domains/domainconfig"
	"mcp-platform/domains/registry"
	"mcp-platform/internal/health"
	"mcp-platform/internal/testutil/dbtest"
	"mcp-platform/platform"
)

func TestDomainsLive(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	reg := registry.New(db.Pool)
	catalog := registry.NewCatalog(reg, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	check := platform.DomainsLive(catalog, []string{"shop"})
	run := func() (health.Result, error) {
		results, _ := health.RunAll(ctx, time.Second, []health.Check{check})
		return results[0], check.Run(ctx)
	}

	t.Run("ErrNotRegistered", func(t *testing.T) {
		require.NoError(t, catalog.Refresh(ctx))
		res, err := run()
		require.EqualError(t, err, "no live worker yet for domain shop")
		require.False(t, res.OK)
		require.Equal(t, "domain workers not live yet", res.Error, "a generic text for unauthenticated callers")
	})

	cfg, err := domainconfig.Parse("shop.yaml", []byte("name: shop\ndescription: A shop.\ntools:\n  - name: get_item\n    description: Get an item.\n"))
	require.NoError(t, err)
	require.NoError(t, reg.Register(ctx, registry.Registration{Config: cfg, Identity: "w1"}))

	t.Run("ErrNotInTheCatalogYet", func(t *testing.T) {
		_, err := run()
		require.Error(t, err, "registered, but /tools reads the catalog")
	})

	t.Run("OK registered, live and in the catalog", func(t *testing.T) {
		require.NoError(t, catalog.Refresh(ctx))
		res, err := run()
		require.NoError(t, err)
		require.True(t, res.OK)
	})

	t.Run("ErrDeregistered", func(t *testing.T) {
		require.NoError(t, reg.Deregister(ctx, "shop", "w1"))
		require.NoError(t, catalog.Refresh(ctx))
		_, err := run()
		require.Error(t, err)
	})
}
