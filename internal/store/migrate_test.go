package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"mcp-platform/internal/store"
	"mcp-platform/internal/testutil/dbtest"
)

func tableExists(t *testing.T, db *dbtest.Database, name string) bool {
	t.Helper()
	var ok bool
	require.NoError(t, db.Pool.QueryRow(context.Background(), "SELECT to_regclass($1) IS NOT NULL", name).Scan(&ok))
	return ok
}

func TestMigrator(t *testing.T) {
	ctx := context.Background()
	db := dbtest.NewEmpty(t)
	m, err := store.NewMigrator(db.Pool, nil)
	require.NoError(t, err)
	defer m.Close()

	t.Run("OK status before up lists pending migrations", func(t *testing.T) {
		st, err := m.Status(ctx)
		require.NoError(t, err)
		require.NotEmpty(t, st)
		for _, s := range st {
			require.False(t, s.Applied, s.Name)
		}
		require.False(t, tableExists(t, db, "audit_log"))
	})

	t.Run("OK up applies all and is idempotent", func(t *testing.T) {
		n, err := m.Up(ctx)
		require.NoError(t, err)
		require.Positive(t, n)
		require.True(t, tableExists(t, db, "audit_log"))
		require.True(t, tableExists(t, db, "tools"))
		again, err := m.Up(ctx)
		require.NoError(t, err)
		require.Zero(t, again)
		st, err := m.Status(ctx)
		require.NoError(t, err)
		for _, s := range st {
			require.True(t, s.Applied, s.Name)
		}
	})

	t.Run("OK down then up round-trips every migration", func(t *testing.T) {
		st, err := m.Status(ctx)
		require.NoError(t, err)
		for i := len(st) - 1; i >= 0; i-- {
			v, err := m.Down(ctx)
			require.NoError(t, err)
			require.Equal(t, st[i].Version, v)
		}
		require.False(t, tableExists(t, db, "audit_log"))
		_, err = m.Up(ctx)
		require.NoError(t, err)
		require.True(t, tableExists(t, db, "audit_log"))
	})

	t.Run("ErrToolOutsideItsDomain", func(t *testing.T) {
		_, err := db.Pool.Exec(ctx, `INSERT INTO domains (name, kind, task_queue) VALUES ('hr', 'builtin', 'domain-hr')`)
		require.NoError(t, err)
		_, err = db.Pool.Exec(ctx, `INSERT INTO tools (name, domain, input_schema) VALUES ('erp.create_invoice', 'hr', '{}')`)
		require.Error(t, err, "the schema refuses a tool outside its domain's namespace")
	})
}

func TestOpen(t *testing.T) {
	t.Run("ErrUnreachable", func(t *testing.T) {
		_, err := store.Open(context.Background(), "postgres://nobody:hunter2@127.0.0.1:1/x?sslmode=disable")
		require.ErrorIs(t, err, store.ErrUnreachable)
		require.NotContains(t, err.Error(), "hunter2")
		require.Contains(t, err.Error(), "127.0.0.1:1")
	})
	t.Run("ErrBadURL", func(t *testing.T) {
		_, err := store.Open(context.Background(), "postgres://%zz")
		require.Error(t, err)
	})
}
