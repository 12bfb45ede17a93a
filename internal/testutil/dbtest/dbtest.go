// Package dbtest gives each test a fresh, migrated Postgres database on a real server, dropped
// when the test ends.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"mcp-platform/internal/store"
)

// DefaultAdminURL is used when neither TEST_DATABASE_URL nor DATABASE_URL is set: the local
// server that CI and the developers' machines run.
const DefaultAdminURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// AdminURL is the server tests create their databases on.
func AdminURL() string {
	for _, k := range []string{"TEST_DATABASE_URL", "DATABASE_URL"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return DefaultAdminURL
}

// Database is a fresh database for one test.
type Database struct {
	Name string
	URL  string
	Pool *pgxpool.Pool
}

// New creates an empty database with every migration applied, and drops it in tb.Cleanup.
func New(tb testing.TB) *Database {
	tb.Helper()
	db := NewEmpty(tb)
	if err := store.Migrate(context.Background(), db.Pool, nil); err != nil {
		tb.Fatalf("migrate test database: %v", err)
	}
	return db
}

// NewEmpty creates an empty database without migrations, and drops it in tb.Cleanup.
func NewEmpty(tb testing.TB) *Database {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		tb.Fatalf("connect to test Postgres at %s (set TEST_DATABASE_URL or start PostgreSQL): %v", store.Redact(AdminURL()), err)
	}
	defer admin.Close(ctx)

	var suffix [6]byte
	_, _ = rand.Read(suffix[:])
	name := "test_" + hex.EncodeToString(suffix[:])
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		tb.Fatalf("create test database: %v", err)
	}
	u, err := url.Parse(AdminURL())
	if err != nil {
		tb.Fatalf("parse admin URL: %v", err)
	}
	u.Path = "/" + name
	pool, err := store.Open(ctx, u.String())
	if err != nil {
		tb.Fatalf("open test database: %v", err)
	}
	tb.Cleanup(func() {
		pool.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin, err := pgx.Connect(ctx, AdminURL())
		if err != nil {
			tb.Errorf("connect to drop test database: %v", err)
			return
		}
		defer admin.Close(ctx)
		if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			tb.Errorf("drop test database: %v", err)
		}
	})
	return &Database{Name: name, URL: u.String(), Pool: pool}
}

// Conversation inserts an empty conversation of alice's and returns its ID, for store tests
// whose rows belong to one.
func (d *Database) Conversation(tb testing.TB) string {
	tb.Helper()
	id := uuid.NewString()
	if _, err := d.Pool.Exec(context.Background(), "INSERT INTO conversations (id, user_id) VALUES ($1, 'alice')", id); err != nil {
		tb.Fatalf("insert conversation: %v", err)
	}
	return id
}
