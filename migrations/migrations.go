// Package migrations holds the platform's SQL migrations, embedded in the binary and applied
// with goose by `mcp-platform migrate up` and automatically by `mcp-platform dev`.
package migrations

import "embed"

// FS contains every migration file (NNNNN_name.sql, goose format).
//
//go:embed *.sql
var FS embed.FS
