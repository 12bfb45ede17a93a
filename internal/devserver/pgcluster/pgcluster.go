// Package pgcluster runs a private, throw-away-friendly PostgreSQL cluster
// for the "mcp-platform dev" command when the user has not configured a
// DATABASE_URL.
//
// The cluster lives in a directory of the project (for example
// ".data/postgres"), listens only on 127.0.0.1, keeps its Unix socket inside
// the data directory so it never collides with a system-wide server, and
// trusts local connections for the superuser "postgres". Data survives
// restarts: starting again on the same directory reuses the cluster.
//
// The package supports Unix-like systems only; elsewhere Start fails and the
// user has to set DATABASE_URL.
package pgcluster

import (
	"errors"
	"log/slog"
)

// ErrNoPostgres is returned, wrapped, by Start when the PostgreSQL server
// binaries (initdb and postgres) cannot be found.
var ErrNoPostgres = errors.New("PostgreSQL server binaries (initdb, postgres) not found: " +
	"install PostgreSQL (Debian/Ubuntu: apt-get install postgresql) or set DATABASE_URL to an existing server")

// Options configures a private cluster.
type Options struct {
	// DataDir is the directory holding the cluster, for example
	// ".data/postgres". It is created if missing, and initdb runs only when
	// it contains no PG_VERSION file.
	DataDir string
	// Port is the TCP port on 127.0.0.1 to listen on. Zero re-uses the port
	// of the previous start when it is still free and otherwise picks a free
	// port.
	Port int
	// Database is the database created if missing; it defaults to "mcp".
	Database string
	// Logger receives progress logs; it defaults to slog.Default().
	Logger *slog.Logger
	// BinDir is the directory holding initdb and postgres. When empty they
	// are looked up on PATH, then in /usr/lib/postgresql/<highest version>/bin
	// and a few other conventional locations.
	BinDir string
}
