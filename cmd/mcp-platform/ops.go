package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"time"

	"mcp-platform/internal/devserver/temporalserver"
	"mcp-platform/internal/logging"
	"mcp-platform/internal/temporalx"
	"mcp-platform/platform"
	"mcp-platform/platform/devstack"
)

// runHealthcheck probes a server's health endpoint and exits 0 when it answers 200: container
// health checks use it, since the runtime image has no curl.
func runHealthcheck(ctx context.Context, c *cli, args []string) error {
	fs := c.flags("healthcheck", "healthcheck [-url http://127.0.0.1:8000/readyz] [-timeout 3s]")
	url := fs.String("url", "http://127.0.0.1:8000/readyz", "endpoint to probe")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	if err := parse(fs, args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		return usageError{fmt.Sprintf("healthcheck: invalid -url %q", *url)}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %s did not answer: %w", *url, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %s", *url, resp.Status)
	}
	fmt.Fprintln(c.stdout, "ok")
	return nil
}

// runTemporal runs only the embedded Temporal dev server (SQLite) with its UI: the dev stack's
// Temporal as a process of its own, for trying the roles as separate processes on one machine.
// Production uses a real Temporal cluster.
func runTemporal(ctx context.Context, c *cli, args []string) error {
	fs := c.flags("temporal", "temporal [-port 7233] [-ui-port 8233] [-db .data/temporal.db] [-gateway-url http://127.0.0.1:8000]")
	port := fs.Int("port", 7233, "frontend gRPC port")
	uiPort := fs.Int("ui-port", 8233, "Temporal UI port (0: no UI)")
	db := fs.String("db", filepath.Join(".data", "temporal.db"), `SQLite file ("" keeps everything in memory)`)
	ip := fs.String("ip", "127.0.0.1", "address to bind")
	gatewayURL := fs.String("gateway-url", "", `the gateway whose codec server (/codec) the UI decodes payloads with (default: this machine's ORCHESTRATOR_PORT; "none": show them as stored)`)
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, logger, err := c.settings()
	if err != nil {
		return err
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
		DatabaseFile: *db, IP: *ip, Port: *port, UIPort: *uiPort, UICodec: codec, Namespace: cfg.Temporal.Namespace,
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
