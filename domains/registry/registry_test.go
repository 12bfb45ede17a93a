package registry_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"mcp-platform/domains"
	"mcp-platform/domains/domainconfig"
	"mcp-platform/domains/registry"
	"mcp-platform/internal/testutil/dbtest"
)

const shopYAML = `
name: %s
description: A shop.
permissions:
  - role: %s
    tools: ["%s.*"]
tools:
  - name: get_item
    description: Get an item.
`

func shop(t *testing.T, name, role string) *domains.Config {
	t.Helper()
	cfg, err := domainconfig.Parse(name+".yaml", []byte(fmt.Sprintf(shopYAML, name, role, name)))
	require.NoError(t, err)
	return cfg
}

func TestRegister(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	reg := registry.New(db.Pool)
	register := func(cfg *domains.Config, identity, key string) error {
		return reg.Register(ctx, registry.Registration{Config: cfg, Identity: identity, Key: key})
	}

	t.Run("OK first registration and a second worker of the same definition", func(t *testing.T) {
		require.NoError(t, register(shop(t, "shop", "clerk"), "w1", ""))
		require.NoError(t, register(shop(t, "shop", "clerk"), "w2", ""))
	})

	t.Run("ErrDefinitionConflict while its workers run", func(t *testing.T) {
		err := register(shop(t, "shop", "everyone"), "rogue", "")
		require.ErrorIs(t, err, registry.ErrDefinitionConflict)
		require.Contains(t, err.Error(), "mcp-platform registry forget shop")
		ds, _, err := reg.Domains(ctx)
		require.NoError(t, err)
		require.Equal(t, "clerk", ds[0].Config.Permissions[0].Role, "the registered definition is unchanged")
	})

	t.Run("OK a new definition once the old workers are gone", func(t *testing.T) {
		require.NoError(t, reg.Deregister(ctx, "shop", "w1"))
		require.NoError(t, reg.Deregister(ctx, "shop", "w2"))
		require.NoError(t, register(shop(t, "shop", "buyer"), "w3", ""))
	})

	t.Run("ErrQueueTaken", func(t *testing.T) {
		cfg := shop(t, "other", "clerk")
		cfg.TaskQueue = "domain-shop" // a hand-made config: the loader derives the queue from the name
		require.ErrorIs(t, register(cfg, "w9", ""), registry.ErrQueueTaken)
	})

	t.Run("OK a key binds the domain to its workers", func(t *testing.T) {
		require.NoError(t, register(shop(t, "vault", "clerk"), "v1", "k-vault"))
		require.NoError(t, register(shop(t, "vault", "clerk"), "v2", "k-vault"))
		require.NoError(t, reg.Deregister(ctx, "vault", "v1"))
		require.NoError(t, reg.Deregister(ctx, "vault", "v2"))
		for _, key := range []string{"", "guess"} {
			err := register(shop(t, "vault", "clerk"), "rogue", key)
			require.ErrorIs(t, err, registry.ErrNotOwner, "even with no worker running")
			require.Contains(t, err.Error(), "VAULT_REGISTRATION_KEY")
		}
		require.NoError(t, register(shop(t, "vault", "buyer"), "v3", "k-vault"), "the owner may roll out a new definition")
	})

	t.Run("OK forget releases the name, key and queue", func(t *testing.T) {
		ok, err := reg.Forget(ctx, "vault")
		require.NoError(t, err)
		require.True(t, ok)
		require.NoError(t, register(shop(t, "vault", "clerk"), "n1", "new-key"))
		ok, err = reg.Forget(ctx, "nothing")
		require.NoError(t, err)
		require.False(t, ok)
	})
}

func TestCatalogLivenessAcrossDatabaseOutage(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	reg := registry.New(db.Pool)
	require.NoError(t, reg.Register(ctx, registry.Registration{Config: shop(t, "shop", "clerk"), Identity: "w1"}))
	cat := registry.NewCatalog(reg, nil, slog.New(slog.DiscardHandler))
	require.NoError(t, cat.Refresh(ctx))
	require.True(t, cat.Live("shop"))
	stale := func() {
		_, err := db.Pool.Exec(ctx, "UPDATE domain_workers SET heartbeat_at = now() - interval '1 minute'")
		require.NoError(t, err)
	}

	t.Run("OK missed heartbeats during an outage do not make a domain dead", func(t *testing.T) {
		down, cancel := context.WithCancel(ctx)
		cancel()
		require.Error(t, cat.Refresh(down), "the database does not answer")
		stale() // the worker could not heartbeat meanwhile
		require.NoError(t, cat.Refresh(ctx))
		require.True(t, cat.Live("shop"), "live for one more liveness period after the outage")
	})

	t.Run("OK without an outage stale heartbeats make it dead", func(t *testing.T) {
		cat := registry.NewCatalog(reg, nil, slog.New(slog.DiscardHandler))
		stale()
		require.NoError(t, cat.Refresh(ctx))
		require.False(t, cat.Live("shop"))
	})

	t.Run("OK a domain dead before the outage stays dead", func(t *testing.T) {
		cat := registry.NewCatalog(reg, nil, slog.New(slog.DiscardHandler))
		stale()
		require.NoError(t, cat.Refresh(ctx))
		down, cancel := context.WithCancel(ctx)
		cancel()
		require.Error(t, cat.Refresh(down))
		require.NoError(t, cat.Refresh(ctx))
		require.False(t, cat.Live("shop"))
	})
}

// proxied is a domain of kind mcp whose tools /mcp publishes as publish says.
func proxied(t *testing.T, name, publish string, tools ...string) *domains.Config {
	t.Helper()
	y := fmt.Sprintf("name: %s\ndescription: A proxied server.\nkind: mcp\nmcp: {url: 'http://%[1]s.internal/mcp', publish: %s}\ntools:\n", name, publish)
	for _, tool := range tools {
		y += fmt.Sprintf("  - name: %s\n    description: A tool.\n", tool)
	}
	cfg, err := domainconfig.Parse(name+".yaml", []byte(y))
	require.NoError(t, err)
	return cfg
}

func TestPublishedNames(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	reg := registry.New(db.Pool)
	register := func(cfg *domains.Config) error {
		return reg.Register(ctx, registry.Registration{Config: cfg, Identity: cfg.Name + "-w1"})
	}
	require.NoError(t, register(proxied(t, "fixture", "unprefixed", "greet", "shop__get_item")))

	t.Run("ErrNameTaken two domains publish one unprefixed name", func(t *testing.T) {
		err := register(proxied(t, "other", "unprefixed", "greet"))
		require.ErrorIs(t, err, registry.ErrNameTaken)
		require.Contains(t, err.Error(), `tool other.greet would be published on /mcp as "greet", which is fixture.greet's name there`)
	})
	t.Run("ErrNameTaken an unprefixed name is another domain's prefixed one", func(t *testing.T) {
		require.ErrorIs(t, register(shop(t, "shop", "clerk")), registry.ErrNameTaken, "shop__get_item is fixture's already")
	})
	t.Run("OK the same short name prefixed", func(t *testing.T) {
		require.NoError(t, register(proxied(t, "other", "prefixed", "greet")))
	})
	t.Run("OK the catalog resolves published names", func(t *testing.T) {
		cat := registry.NewCatalog(reg, nil, slog.New(slog.DiscardHandler))
		require.NoError(t, cat.Refresh(ctx))
		for name, want := range map[string]string{"greet": "fixture.greet", "other__greet": "other.greet",
			"fixture__greet": "fixture.greet", "other.greet": "other.greet"} {
			got, ok := cat.Resolve(name)
			require.True(t, ok, name)
			require.Equal(t, want, got, name)
		}
		_, ok := cat.Resolve("other__nothing")
		require.False(t, ok)
	})
}
