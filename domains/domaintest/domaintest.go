// Package domaintest holds the test helpers the builtin domains' tests share: pools that run as
// a domain's Postgres role, assertions on domain errors, and checks of a domain's configuration
// against its adapter. It is imported only by tests.
package domaintest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"mcp-platform/domains"
	"mcp-platform/domains/domainconfig"
	"mcp-platform/domains/kit"
	"mcp-platform/domains/policy"
	"mcp-platform/internal/testutil/dbtest"
)

// Domain describes a builtin domain whose adapter works on its own Postgres schema as its own
// role, for the tests every such domain shares.
type Domain struct {
	// Name is the domain's name, such as "hr".
	Name string
	// ConfigDir is the directory of the repository's domain configurations, relative to the
	// test's package.
	ConfigDir string
	// Role is the Postgres role the adapter's pool runs as.
	Role string
	// New builds the adapter.
	New kit.Factory
}

// Config loads the domain's configuration from ConfigDir.
func (d Domain) Config(tb testing.TB) *domains.Config {
	tb.Helper()
	cfg, err := domainconfig.Load(d.ConfigDir, d.Name)
	require.NoError(tb, err)
	return cfg
}

// Pool migrates a fresh database and opens a pool on it running as Role.
func (d Domain) Pool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	return rolePool(tb, dbtest.New(tb).URL, d.Role)
}

// Adapter migrates a fresh database and builds the domain's adapter on a pool running as Role,
// with the repository's configuration. It returns the database too, whose admin pool lets tests
// look behind the adapter's back.
func (d Domain) Adapter(tb testing.TB) (domains.Adapter, *dbtest.Database) {
	tb.Helper()
	db := dbtest.New(tb)
	a, err := d.New(context.Background(), kit.Deps{Config: d.Config(tb), Pool: rolePool(tb, db.URL, d.Role)})
	require.NoError(tb, err)
	return a, db
}

// CheckNew runs the subtests of the failures every such adapter shares: New fails without a
// pool, when the configuration declares unservedTool, and on a pool running as otherRole, which
// may not read the domain's schema; a call of unservedTool is CodeNotFound.
func (d Domain) CheckNew(t *testing.T, unservedTool, otherRole string) {
	t.Helper()
	ctx := context.Background()

	t.Run("ErrNoPool", func(t *testing.T) {
		_, err := d.New(ctx, kit.Deps{})
		require.Error(t, err)
	})

	t.Run("ErrUndeclaredTool", func(t *testing.T) {
		db := dbtest.New(t)
		cfg := d.Config(t)
		cfg.Tools = append(cfg.Tools, domains.Tool{Name: unservedTool})
		_, err := d.New(ctx, kit.Deps{Config: cfg, Pool: rolePool(t, db.URL, d.Role)})
		require.ErrorContains(t, err, unservedTool)
	})

	t.Run("ErrSchemaNotReadable", func(t *testing.T) {
		db := dbtest.New(t)
		_, err := d.New(ctx, kit.Deps{Pool: rolePool(t, db.URL, otherRole)})
		require.ErrorContains(t, err, "read the "+d.Name+" schema")
	})

	t.Run("ErrUnknownTool", func(t *testing.T) {
		a, _ := d.Adapter(t)
		_, err := a.Call(ctx, domains.Call{Tool: unservedTool, Args: map[string]any{}})
		RequireCode(t, err, domains.CodeNotFound)
	})
}

// rolePool opens a pool on the database at dbURL whose connections run as role, the way the
// domain worker opens a domain's pool, so tests exercise the role's real privileges. The pool
// is closed when tb ends.
func rolePool(tb testing.TB, dbURL, role string) *pgxpool.Pool {
	tb.Helper()
	cfg, err := pgxpool.ParseConfig(dbURL)
	require.NoError(tb, err)
	cfg.AfterConnect = func(ctx context.Context, conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, "SET ROLE "+pgx.Identifier{role}.Sanitize())
		return err
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(tb, err)
	tb.Cleanup(pool.Close)
	return pool
}

// CheckDenied runs a subtest per entry of denied, a subtest name and a statement, each checking
// that Postgres refuses pool the statement for lack of privileges (SQLSTATE 42501): what a
// domain's role must get outside its own grants.
func CheckDenied(t *testing.T, pool *pgxpool.Pool, denied map[string]string) {
	t.Helper()
	for name, sql := range denied {
		t.Run(name, func(t *testing.T) {
			_, err := pool.Exec(context.Background(), sql)
			var pgErr *pgconn.PgError
			require.True(t, errors.As(err, &pgErr), "want a Postgres error, got %v", err)
			require.Equal(t, "42501", pgErr.Code, "want permission denied, got %v", err)
			require.Contains(t, pgErr.Message, "permission denied")
		})
	}
}

// RequireCode fails tb unless err is an error with the domain error code code.
func RequireCode(tb testing.TB, err error, code domains.ErrorCode) {
	tb.Helper()
	require.Error(tb, err)
	require.Equal(tb, code, domains.CodeOf(err), "error: %v", err)
}

// DeclaredTools returns the names of the tools cfg declares, in the configuration's order.
func DeclaredTools(cfg *domains.Config) []string {
	declared := make([]string, 0, len(cfg.Tools))
	for _, tool := range cfg.Tools {
		declared = append(declared, tool.Name)
	}
	return declared
}

// RequireOutputFieldsDeclared checks that every tool of cfg has an output schema listing the
// fields it requires, each of them among its properties, and that no YAML merge key ("<<") was
// left unresolved among them.
func RequireOutputFieldsDeclared(tb testing.TB, cfg *domains.Config) {
	tb.Helper()
	for _, tool := range cfg.Tools {
		props, _ := tool.OutputSchema["properties"].(map[string]any)
		required, _ := tool.OutputSchema["required"].([]any)
		require.NotEmpty(tb, required, tool.Name)
		for _, r := range required {
			require.Contains(tb, props, r, tool.Name)
		}
		require.NotContains(tb, props, "<<", tool.Name)
	}
}

// CheckOutputSchemas runs a subtest per tool cfg declares, calling a with each of the tool's
// sample arguments, which must be valid for its input schema, and checking the result against
// its output schema. Every declared tool needs samples. Each call has its own
// idempotency key, so tools with side effects run every sample.
func CheckOutputSchemas(t *testing.T, cfg *domains.Config, a domains.Adapter, samples map[string][]map[string]any) {
	t.Helper()
	for _, tool := range cfg.Tools {
		t.Run("OK results match the output schema of "+tool.Name, func(t *testing.T) {
			require.NotNil(t, tool.OutputSchema)
			out, err := policy.CompileSchema(tool.OutputSchema)
			require.NoError(t, err)
			require.NotEmpty(t, samples[tool.Name], "add sample arguments for %s", tool.Name)
			for i, args := range samples[tool.Name] {
				require.NoError(t, policy.ValidateArgs(&tool, args), "sample arguments %v", args)
				res, err := a.Call(context.Background(), domains.Call{
					Tool: tool.Name, Args: args, IdempotencyKey: fmt.Sprintf("schema-%s-%d", tool.Name, i), Subject: "tester",
				})
				require.NoError(t, err)
				require.NoError(t, out.Validate(res), "result of %s %v", tool.Name, args)
			}
		})
	}
}
