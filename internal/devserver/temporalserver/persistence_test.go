package temporalserver

import (
	"context"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	postgresschema "go.temporal.io/server/schema/postgresql/v12"
	"go.temporal.io/server/tools/common/schema"
	sqltool "go.temporal.io/server/tools/sql"

	"mcp-platform/internal/testutil/dbtest"
)

func TestPostgresConfig(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		cfg, err := PostgresConfig("postgres://temporal:p%40ss@db.internal/temporal?sslmode=require&application_name=t")
		require.NoError(t, err)
		require.Equal(t, "postgres12_pgx", cfg.PluginName)
		require.Equal(t, "temporal", cfg.User)
		require.Equal(t, "p@ss", cfg.Password)
		require.Equal(t, "db.internal:5432", cfg.ConnectAddr)
		require.Equal(t, "temporal", cfg.DatabaseName)
		require.Equal(t, map[string]string{"sslmode": "require", "application_name": "t"}, cfg.ConnectAttributes)

		cfg, err = PostgresConfig("postgresql://temporal@127.0.0.1:6543/temporal")
		require.NoError(t, err)
		require.Equal(t, "127.0.0.1:6543", cfg.ConnectAddr)
		require.Equal(t, map[string]string{"sslmode": "prefer"}, cfg.ConnectAttributes, "TLS when the server offers it")
	})
	for _, tt := range []struct{ name, url, want string }{
		{"ErrScheme", "mysql://temporal:s3cret@db/temporal", "not a PostgreSQL URL"},
		{"ErrNoHost", "postgres:///temporal", "not a PostgreSQL URL"},
		{"ErrNoDatabase", "postgres://temporal:s3cret@db:5432/", "names no database"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := PostgresConfig(tt.url)
			require.ErrorContains(t, err, tt.want)
			require.NotContains(t, err.Error(), "s3cret")
		})
	}
}

// TestServerOnPostgres starts the server on a dedicated database of the test server whose
// schema an older Temporal left at version 1.10: Start upgrades it, creates the visibility
// database, runs workflows, and on a second start changes nothing in either schema.
func TestServerOnPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal server twice on PostgreSQL")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	db := dbtest.NewEmpty(t)
	visibility := db.Name + visibilitySuffix
	t.Cleanup(func() { dropDatabase(t, visibility) })

	main, err := PostgresConfig(db.URL)
	require.NoError(t, err)
	logger := serverLogger{l: testLogger()}
	conn, err := sqltool.NewConnection(main, logger)
	require.NoError(t, err)
	require.NoError(t, schema.NewSetupSchemaTask(conn, &schema.SetupConfig{InitialVersion: "0.0"}, logger).Run())
	require.NoError(t, schema.NewUpdateSchemaTask(conn, &schema.UpdateConfig{DBName: main.DatabaseName, SchemaName: mainSchema, TargetVersion: "1.10"}, logger).Run())
	conn.Close()
	require.Equal(t, "1.10", schemaVersion(t, db.URL))

	opts := Options{
		PostgresURL:      db.URL,
		SearchAttributes: map[string]enumspb.IndexedValueType{"TurnStatus": enumspb.INDEXED_VALUE_TYPE_KEYWORD},
		Logger:           testLogger(),
	}
	srv, err := Start(ctx, opts)
	require.NoError(t, err)
	t.Cleanup(srv.Stop)
	visURL := withDatabase(t, db.URL, visibility)
	require.Equal(t, postgresschema.Version, schemaVersion(t, db.URL))
	require.Equal(t, postgresschema.VisibilityVersion, schemaVersion(t, visURL))
	updates := schemaUpdates(t, db.URL) + schemaUpdates(t, visURL)

	c := dial(t, srv)
	runID := runGreet(ctx, t, c, "greet-pg-1", map[string]string{"TurnStatus": "done"})
	requireKeyword(ctx, t, c, "greet-pg-1", runID, "TurnStatus", "done")
	var rows int
	require.NoError(t, db.Pool.QueryRow(ctx, "SELECT count(*) FROM executions WHERE workflow_id = $1", "greet-pg-1").Scan(&rows))
	require.Equal(t, 1, rows, "the workflow is stored in PostgreSQL")
	c.Close()
	srv.Stop()

	// The second start finds both schemas current and the namespace registered, and adds the
	// new search attribute to it.
	opts.SearchAttributes["UserId"] = enumspb.INDEXED_VALUE_TYPE_KEYWORD
	srv2, err := Start(ctx, opts)
	require.NoError(t, err)
	t.Cleanup(srv2.Stop)
	require.Equal(t, updates, schemaUpdates(t, db.URL)+schemaUpdates(t, visURL), "a current schema is left alone")

	c2 := dial(t, srv2)
	defer c2.Close()
	requireKeyword(ctx, t, c2, "greet-pg-1", runID, "TurnStatus", "done")
	sa, err := c2.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: srv2.Namespace()})
	require.NoError(t, err)
	require.Equal(t, enumspb.INDEXED_VALUE_TYPE_KEYWORD, sa.GetCustomAttributes()["UserId"])
	runID2 := runGreet(ctx, t, c2, "greet-pg-2", map[string]string{"UserId": "u-1"})
	requireKeyword(ctx, t, c2, "greet-pg-2", runID2, "UserId", "u-1")
}

func TestServerOnPostgresErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	t.Run("ErrBadURL", func(t *testing.T) {
		_, err := Start(ctx, Options{PostgresURL: "postgres://temporal:s3cret@127.0.0.1:5432", Logger: testLogger()})
		require.ErrorContains(t, err, "names no database")
		require.NotContains(t, err.Error(), "s3cret")
	})
	t.Run("ErrUnreachable", func(t *testing.T) {
		port, err := freePort(loopback)
		require.NoError(t, err)
		u := "postgres://temporal:s3cret@127.0.0.1:" + strconv.Itoa(port) + "/temporal?sslmode=disable"
		_, err = Start(ctx, Options{PostgresURL: u, Logger: testLogger()})
		require.ErrorContains(t, err, "connecting to database temporal on 127.0.0.1")
		require.NotContains(t, err.Error(), "s3cret")
	})
}

func withDatabase(t *testing.T, raw, db string) string {
	t.Helper()
	u, err := url.Parse(raw)
	require.NoError(t, err)
	u.Path = "/" + db
	return u.String()
}

// schemaVersion reads the schema version that Temporal's tool recorded in a database.
func schemaVersion(t *testing.T, dbURL string) string {
	t.Helper()
	var v string
	queryRow(t, dbURL, "SELECT curr_version FROM schema_version WHERE version_partition = 0", &v)
	return v
}

// schemaUpdates counts the schema changes recorded in a database.
func schemaUpdates(t *testing.T, dbURL string) int {
	t.Helper()
	var n int
	queryRow(t, dbURL, "SELECT count(*) FROM schema_update_history", &n)
	return n
}

func queryRow(t *testing.T, dbURL, query string, dest any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	require.NoError(t, conn.QueryRow(ctx, query).Scan(dest))
}

func dropDatabase(t *testing.T, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, dbtest.AdminURL())
	require.NoError(t, err)
	defer admin.Close(ctx)
	_, err = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	require.NoError(t, err)
}
