package registry_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"mcp-platform/domains/registry"
	"mcp-platform/internal/testutil/dbtest"
)

// wait bounds the waits for an announcement; one that works arrives in milliseconds.
const wait = 10 * time.Second

func TestCatalogSync(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db := dbtest.New(t)
	reg := registry.New(db.Pool)
	register := func(name, identity string) {
		t.Helper()
		require.NoError(t, reg.Register(ctx, registry.Registration{Config: shop(t, name, "clerk"), Identity: identity}))
	}
	register("shop", "w1")

	t.Run("OK without Run every Sync reads the registry", func(t *testing.T) {
		cat := registry.NewCatalog(reg, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
		require.NoError(t, cat.Sync(ctx))
		_, ok := cat.Lookup("shop.get_item")
		require.True(t, ok)
	})

	cat := registry.NewCatalog(reg, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, cat.Refresh(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		cat.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	require.Eventually(t, cat.Following, wait, 5*time.Millisecond)
	// seen waits until Sync shows tool (or, with want false, no longer shows it).
	seen := func(tool string, want bool) {
		t.Helper()
		require.Eventually(t, func() bool {
			require.NoError(t, cat.Sync(ctx))
			_, ok := cat.Lookup(tool)
			return ok == want
		}, wait, 5*time.Millisecond)
	}

	t.Run("OK a registration is seen by the next Sync once announced", func(t *testing.T) {
		register("deli", "w2")
		seen("deli.get_item", true)
	})

	t.Run("OK an unchanged registry is not read again", func(t *testing.T) {
		// A change written behind the registry's back is not announced: Sync serves the view
		// it has, which shows it did not read (the periodic refresh picks it up later). That
		// refresh, every RefreshInterval, may fall between the change and the look, so the
		// test tries three times: a Sync that reads fails all three.
		served := false
		for attempt := 0; attempt < 3 && !served; attempt++ {
			if attempt > 0 {
				register("deli", "w2")
				seen("deli.get_item", true)
			}
			require.NoError(t, cat.Sync(ctx))
			_, err := db.Pool.Exec(ctx, `DELETE FROM domains WHERE name = 'deli'`)
			require.NoError(t, err)
			require.NoError(t, cat.Sync(ctx))
			_, served = cat.Lookup("deli.get_item")
		}
		require.True(t, served, "Sync read the registry although nothing was announced")
	})

	t.Run("OK forgetting a domain is announced", func(t *testing.T) {
		forgotten, err := reg.Forget(ctx, "shop")
		require.NoError(t, err)
		require.True(t, forgotten)
		seen("shop.get_item", false)
	})
}

// TestCatalogRefreshKeepsUnchangedDomains: a refresh keeps the checked configuration of a
// domain whose stored configuration did not change (checking it again compiles every schema,
// every RefreshInterval), and checks a changed one again, so a stored configuration made
// invalid behind the registry's back is still left out.
func TestCatalogRefreshKeepsUnchangedDomains(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	reg := registry.New(db.Pool)
	require.NoError(t, reg.Register(ctx, registry.Registration{Config: shop(t, "shop", "clerk"), Identity: "w1"}))
	cat := registry.NewCatalog(reg, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))

	require.NoError(t, cat.Refresh(ctx))
	first, ok := cat.Lookup("shop.get_item")
	require.True(t, ok)
	require.NoError(t, cat.Refresh(ctx))
	again, ok := cat.Lookup("shop.get_item")
	require.True(t, ok)
	require.Same(t, first.Tool, again.Tool, "an unchanged domain was decoded and checked again")
	v := cat.Version()

	_, err := db.Pool.Exec(ctx, `UPDATE domains SET config = jsonb_set(config, '{tools,0,description}', '"Get one item."') WHERE name = 'shop'`)
	require.NoError(t, err)
	require.NoError(t, cat.Refresh(ctx))
	changed, ok := cat.Lookup("shop.get_item")
	require.True(t, ok)
	require.Equal(t, "Get one item.", changed.Tool.Description)
	require.Greater(t, cat.Version(), v)

	// A permission outside the domain's namespace makes the stored configuration invalid.
	_, err = db.Pool.Exec(ctx, `UPDATE domains SET config = jsonb_set(config, '{permissions,0,tools}', '["hr.*"]') WHERE name = 'shop'`)
	require.NoError(t, err)
	require.NoError(t, cat.Refresh(ctx))
	_, ok = cat.Lookup("shop.get_item")
	require.False(t, ok, "a changed, invalid configuration was trusted")
}
