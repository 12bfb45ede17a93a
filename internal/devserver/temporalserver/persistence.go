package temporalserver

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/log"
	persistencesql "go.temporal.io/server/common/persistence/sql"
	postgresplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/postgresql"
	"go.temporal.io/server/common/resolver"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/tools/common/schema"
	sqltool "go.temporal.io/server/tools/sql"
	"google.golang.org/protobuf/types/known/durationpb"

	"mcp-platform/internal/store"
)

const (
	// postgresStore and visibilityStore name the two Postgres data stores in the server config.
	postgresStore   = "postgres"
	visibilityStore = "postgres-visibility"

	// visibilitySuffix names the visibility database after the main one: temporal and
	// temporal_visibility, as Temporal's own tooling and images lay them out.
	visibilitySuffix = "_visibility"

	// Embedded schema directories (go.temporal.io/server/schema) of the two databases.
	mainSchema       = "postgresql/v12/temporal"
	visibilitySchema = "postgresql/v12/visibility"

	// mainMaxConns and visibilityMaxConns bound the connection pool of each store in each of
	// the four services (frontend, history, matching, worker), so that the server needs at most
	// 60 of PostgreSQL's 100 default connections.
	mainMaxConns       = 10
	visibilityMaxConns = 5
	// postgresConnLifetime recycles connections, so none outlives a failover for long.
	postgresConnLifetime = time.Hour

	// namespaceRetention is how long closed workflows of a namespace created on Postgres are
	// kept (the production compose file's default, TEMPORAL_RETENTION); SQLite keeps them a day.
	namespaceRetention = 7 * 24 * time.Hour
)

// storage is where the server persists: the data stores of its configuration.
type storage struct {
	// sql is the default store; visibility, when set, is a store of its own.
	sql, visibility *config.SQL
}

// openStore prepares the persistence that opts select: Postgres when PostgresURL is set (its
// two databases created when missing and their schemas set up or upgraded), else SQLite. Either
// way the namespace is created in the database before the server starts, so that no client
// finds the server without it.
func openStore(ctx context.Context, opts Options, logger log.Logger) (*storage, error) {
	var st *storage
	var retention time.Duration
	if opts.PostgresURL != "" {
		var err error
		if st, err = openPostgres(ctx, opts.PostgresURL, logger); err != nil {
			return nil, err
		}
		retention = namespaceRetention
	} else {
		sql, err := sqlConfig(opts.DatabaseFile)
		if err != nil {
			return nil, err
		}
		st = &storage{sql: sql}
	}
	// A new namespace gets the search attributes right away; an existing one
	// is brought up to date through the operator API once the server runs.
	// The helpers are the SQLite schema package's, but they write through the
	// generic SQL persistence of whichever plugin the store uses.
	ns, err := sqliteschema.NewNamespaceConfig(clusterName, opts.Namespace, false, opts.SearchAttributes)
	if err != nil {
		return nil, fmt.Errorf("temporalserver: namespace config: %w", err)
	}
	if retention > 0 {
		ns.Detail.Config.Retention = durationpb.New(retention)
	}
	if err := sqliteschema.CreateNamespaces(st.sql, ns); err != nil {
		return nil, fmt.Errorf("temporalserver: creating namespace %q: %w", opts.Namespace, err)
	}
	return st, nil
}

// configure points the server's persistence at the storage.
func (s *storage) configure(p *config.Persistence) {
	if s.visibility == nil {
		return
	}
	p.DefaultStore, p.VisibilityStore = postgresStore, visibilityStore
	p.DataStores = map[string]config.DataStore{
		postgresStore:   {SQL: s.sql},
		visibilityStore: {SQL: s.visibility},
	}
}

// openPostgres sets up the main and the visibility database for the server and checks that
// their schema versions are the ones this server needs.
func openPostgres(ctx context.Context, rawURL string, logger log.Logger) (*storage, error) {
	main, err := PostgresConfig(rawURL)
	if err != nil {
		return nil, err
	}
	vis := *main
	vis.ConnectAttributes = maps.Clone(main.ConnectAttributes)
	vis.DatabaseName = main.DatabaseName + visibilitySuffix
	vis.MaxConns, vis.MaxIdleConns = visibilityMaxConns, visibilityMaxConns
	for _, db := range []struct {
		cfg    *config.SQL
		schema string
	}{{main, mainSchema}, {&vis, visibilitySchema}} {
		if err := setupSchema(ctx, db.cfg, db.schema, logger); err != nil {
			return nil, err
		}
	}
	s := &storage{sql: main, visibility: &vis}
	var p config.Persistence
	s.configure(&p)
	if err := persistencesql.VerifyCompatibleVersion(p, resolver.NewNoopResolver(), logger); err != nil {
		return nil, fmt.Errorf("temporalserver: Postgres schema: %w", err)
	}
	return s, nil
}

// PostgresConfig turns a URL such as postgres://temporal:secret@db:5432/temporal?sslmode=disable
// into the configuration of the server's SQL plugin (postgres12_pgx). Query parameters are
// passed to the driver as they are; sslmode defaults to prefer. Errors never contain the
// password.
func PostgresConfig(rawURL string) (*config.SQL, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
		return nil, fmt.Errorf("temporalserver: %q is not a PostgreSQL URL: use postgres://user:password@host:5432/temporal?sslmode=disable",
			store.Redact(rawURL))
	}
	db := strings.TrimPrefix(u.Path, "/")
	if db == "" || strings.Contains(db, "/") {
		return nil, fmt.Errorf("temporalserver: PostgreSQL URL %s names no database: add one, e.g. /temporal", store.Redact(rawURL))
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "5432")
	}
	password, _ := u.User.Password()
	// Without sslmode the plugin would disable TLS; prefer it, as libpq and DATABASE_URL do.
	attrs := map[string]string{"sslmode": "prefer"}
	for k, v := range u.Query() {
		attrs[k] = v[len(v)-1]
	}
	return &config.SQL{
		PluginName:        postgresplugin.PluginNamePGX,
		User:              u.User.Username(),
		Password:          password,
		DatabaseName:      db,
		ConnectAddr:       host,
		ConnectProtocol:   "tcp",
		ConnectAttributes: attrs,
		MaxConns:          mainMaxConns,
		MaxIdleConns:      mainMaxConns,
		MaxConnLifetime:   postgresConnLifetime,
	}, nil
}

// setupSchema creates the database when it does not exist and brings its schema to the newest
// version embedded in the server, with Temporal's own schema tool: the version tables and
// version 0.0 on an empty database, then every versioned update after the recorded version.
// On a database already up to date it changes nothing.
func setupSchema(ctx context.Context, cfg *config.SQL, schemaName string, logger log.Logger) error {
	if err := ensureDatabase(ctx, cfg, logger); err != nil {
		return err
	}
	conn, err := sqltool.NewConnection(cfg, logger)
	if err != nil {
		return fmt.Errorf("temporalserver: connecting to database %s: %w", cfg.DatabaseName, err)
	}
	defer conn.Close()
	if v, err := conn.ReadSchemaVersion(); err != nil || v == "" {
		setup := schema.NewSetupSchemaTask(conn, &schema.SetupConfig{InitialVersion: "0.0"}, logger)
		if err := setup.Run(); err != nil {
			return fmt.Errorf("temporalserver: setting up the schema of database %s: %w", cfg.DatabaseName, err)
		}
	}
	update := schema.NewUpdateSchemaTask(conn, &schema.UpdateConfig{DBName: cfg.DatabaseName, SchemaName: schemaName}, logger)
	if err := update.Run(); err != nil {
		return fmt.Errorf("temporalserver: updating the schema of database %s: %w", cfg.DatabaseName, err)
	}
	return nil
}

// ensureDatabase creates cfg's database when connecting to it says it does not exist. A
// database that exists is used as it is, so a login without CREATEDB works on databases an
// administrator made.
func ensureDatabase(ctx context.Context, cfg *config.SQL, logger log.Logger) error {
	u := url.URL{Scheme: "postgres", User: url.UserPassword(cfg.User, cfg.Password), Host: cfg.ConnectAddr, Path: "/" + cfg.DatabaseName}
	q := url.Values{}
	for k, v := range cfg.ConnectAttributes {
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u.String())
	if err == nil {
		return conn.Close(ctx)
	}
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); !ok || pgErr.Code != "3D000" { // invalid_catalog_name
		return fmt.Errorf("temporalserver: connecting to database %s on %s: %w", cfg.DatabaseName, cfg.ConnectAddr, err)
	}
	admin := *cfg
	if err := sqltool.DoCreateDatabase(&admin, "postgres", logger); err != nil {
		return fmt.Errorf("temporalserver: creating database %s on %s: %w", cfg.DatabaseName, cfg.ConnectAddr, err)
	}
	return nil
}
