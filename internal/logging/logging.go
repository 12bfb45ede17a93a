// Package logging builds the platform's structured logger: human-readable text in dev, JSON in
// production, at the configured level, with secrets and sensitive values masked and the trace
// of the request in every line logged within one.
package logging

import (
	"context"
	"io"
	"log/slog"
	"strings"

	"mcp-platform/internal/config"
	"mcp-platform/internal/redact"
)

// New returns a logger writing to w as the settings ask. An unknown level falls back to info;
// config.Validate has already rejected it at start.
func New(w io.Writer, cfg config.Config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: ParseLevel(cfg.Log.Level)}
	format := cfg.Log.Format
	if format == "" {
		format = "text"
		if !cfg.IsDev() {
			format = "json"
		}
	}
	// Secrets and sensitive values are masked before anything is written; a line logged inside
	// a traced request carries its trace and span IDs.
	if format == "json" {
		return slog.New(WithTrace(redact.Handler(slog.NewJSONHandler(w, opts))))
	}
	return slog.New(WithTrace(redact.Handler(slog.NewTextHandler(w, opts))))
}

// ParseLevel maps a level name (debug, info, warn, error) to its slog level.
func ParseLevel(name string) slog.Level {
	switch strings.ToLower(name) {
	case "debug":
		return slog.LevelDebug
	case "warn", "warning":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

// AtLeast wraps h so that records below level are dropped: chatty libraries (the Temporal
// server and SDK) log through it at warn and above.
func AtLeast(h slog.Handler, level slog.Leveler) slog.Handler {
	return minLevel{h, level}
}

type minLevel struct {
	slog.Handler
	level slog.Leveler
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.level.Level() && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(a []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(a), h.level}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h.Handler.WithGroup(name), h.level}
}
