//go:build !slim

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"

	"mcp-platform/internal/devserver/temporalserver"
	"mcp-platform/internal/logging"
	"mcp-platform/internal/temporalx"
	"mcp-platform/platform"
	"mcp-platform/platform/devstack"
)

// devCommands are the commands that embed a Temporal server and its UI. The slim production
// build (-tags slim) leaves them, and those servers, out of the binary.
var devCommands = []command{
	{"dev", "Run the whole stack in one process: private Postgres, embedded Temporal + UI, API, MCP server, workers", runDev},
	{"temporal", "Run only the embedded Temporal dev server and its UI (for running roles as separate processes)", runTemporal},
	{"bench", "Benchmark the platform against the floor of its Temporal server (chat, /execute, MCP, SSE, memory)", runBench},
}

func runDev(ctx context.Context, c *cli, args []string) error {
	if err := parse(c.flags("dev", "dev"), args); err != nil {
		return err
	}
	cfg, logger, err := c.settings()
	if err != nil {
		return err
	}
	if !cfg.IsDev() {
		return errors.New("dev: MCP_ENVIRONMENT is production; the dev stack (demo users, embedded servers) is for development only")
	}
	flush, err := c.tracing(ctx, "dev")
	if err != nil {
		return err
	}
	defer flush()
	return devstack.Run(ctx, cfg, logger, c.stdout, platform.BuiltinAdapters())
}

// runTemporal runs only the embedded Temporal server with its UI: the dev stack's Temporal as a
// process of its own, for running the roles as separate processes. It persists to SQLite, or to
// PostgreSQL (the production persistence) with -db-url or TEMPORAL_DB_URL.
func runTemporal(ctx context.Context, c *cli, args []string) error {
	fs := c.flags("temporal", "temporal [-port 7233] [-ui-port 8233] [-db .data/temporal.db | -db-url postgres://...] [-gateway-url http://127.0.0.1:8000]")
	port := fs.Int("port", 7233, "frontend gRPC port")
	uiPort := fs.Int("ui-port", 8233, "Temporal UI port (0: no UI)")
	db := fs.String("db", filepath.Join(".data", "temporal.db"), `SQLite file ("" keeps everything in memory)`)
	dbURL := fs.String("db-url", "", "PostgreSQL database to persist to instead of SQLite, with <db>_visibility beside it; both and their schemas are set up automatically (default: TEMPORAL_DB_URL)")
	ip := fs.String("ip", "127.0.0.1", "address to bind")
	gatewayURL := fs.String("gateway-url", "", `the gateway whose codec server (/codec) the UI decodes payloads with (default: this machine's ORCHESTRATOR_PORT; "none": show them as stored)`)
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, logger, err := c.settings()
	if err != nil {
		return err
	}
	if *dbURL == "" {
		*dbURL = cfg.Temporal.DatabaseURL
	} else if _, err := temporalserver.PostgresConfig(*dbURL); err != nil {
		return usageError{"temporal: -db-url: " + strings.TrimPrefix(err.Error(), "temporalserver: ")}
	}
	var codec temporalserver.CodecServer
	switch *gatewayURL {
	case "none":
	case "":
		codec = devstack.UICodec((&platform.Env{Cfg: cfg}).URL(cfg.Server.APIPort))
	default:
		codec = devstack.UICodec(*gatewayURL)
	}
	srv, err := temporalserver.Start(ctx, temporalserver.Options{
		DatabaseFile: *db, PostgresURL: *dbURL, IP: *ip, Port: *port, UIPort: *uiPort, UICodec: codec, Namespace: cfg.Temporal.Namespace,
		SearchAttributes: temporalx.SearchAttributes(),
		Logger:           slog.New(logging.AtLeast(logger.Handler(), slog.LevelWarn)),
	})
	if err != nil {
		return fmt.Errorf("start Temporal dev server: %w", err)
	}
	fmt.Fprintf(c.stdout, "Temporal dev server on %s (namespace %s)", srv.Address(), srv.Namespace())
	if srv.UIURL() != "" {
		fmt.Fprintf(c.stdout, ", UI on %s", srv.UIURL())
	}
	fmt.Fprintln(c.stdout)
	<-ctx.Done()
	srv.Stop()
	return nil
}
