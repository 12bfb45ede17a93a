//go:build !slim

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"mcp-platform/internal/logging"
	"mcp-platform/platform"
	"mcp-platform/platform/bench"
)

// runBench measures the platform against the floor of its Temporal server (platform/bench).
func runBench(ctx context.Context, c *cli, args []string) error {
	fs := c.flags("bench", "bench [-quick] [-o report.json] [-duration 20s] [-c 1,16] [-soak 60s] [-soak-c 50] [-work chat,execute,mcp] [-cpuprofile FILE] [-api URL -mcp URL [-pid N]]")
	out := fs.String("o", "", "also write the report as JSON to this file")
	quick := fs.Bool("quick", false, "a short run of every phase (a smoke test: figures are not meaningful)")
	duration := fs.Duration("duration", 20*time.Second, "how long each side (platform, floor) of each work runs per concurrency")
	rounds := fs.Int("rounds", 4, "alternating platform/floor rounds the duration is split into")
	conc := fs.String("c", "1,16", "concurrencies to compare at (closed-loop clients), comma-separated")
	soak := fs.Duration("soak", 60*time.Second, "duration of the soak of chat turns")
	soakC := fs.Int("soak-c", 50, "concurrency of the soak")
	streams := fs.Int("sse-streams", 50, "event streams open while SSE latency is measured")
	sseEvents := fs.Int("sse-events", 20, "events written to each stream")
	settle := fs.Duration("settle", 5*time.Second, "idle time before memory is read")
	floorEager := fs.Bool("floor-eager", true, "start floor workflows with eager workflow start")
	api := fs.String("api", "", "target a running stack's gateway API (e.g. http://127.0.0.1:8000) instead of starting one")
	mcpURL := fs.String("mcp", "", "the running stack's MCP server (e.g. http://127.0.0.1:8001)")
	pids := fs.String("pid", "", "with -api: the running stack's process IDs, comma-separated, for the memory figure (children count too)")
	user := fs.String("user", "alice", "dev user the load runs as")
	work := fs.String("work", "chat,execute,mcp", "works to compare: chat, execute, mcp (comma-separated)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the platform's rounds of the compared works to this file (go tool pprof; the in-process stack is profiled with the load)")
	floorProfile := fs.String("floor-cpuprofile", "", "write a CPU profile of the floor's rounds to this file (compare: go tool pprof -diff_base FLOOR PLATFORM)")
	dataDir := fs.String("data-dir", "", "data directory of the in-process stack (default: a fresh temporary one, removed afterwards)")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, logger, err := c.settings()
	if err != nil {
		return err
	}
	if !cfg.IsDev() && *api == "" {
		return errors.New("bench: MCP_ENVIRONMENT is production; the in-process stack is for development only (or target one with -api and -mcp)")
	}
	concurrency, err := intList("-c", *conc)
	if err != nil {
		return err
	}
	pidList, err := intList("-pid", *pids)
	if err != nil {
		return err
	}
	var works []string
	for w := range strings.SplitSeq(*work, ",") {
		if w = strings.TrimSpace(w); w != "" {
			works = append(works, w)
		}
	}
	o := bench.Options{
		Config: cfg, Logger: slog.New(logging.AtLeast(logger.Handler(), slog.LevelWarn)), Adapters: platform.BuiltinAdapters(),
		APIURL: *api, MCPURL: *mcpURL, PIDs: pidList, DataDir: *dataDir, User: *user,
		Duration: *duration, Rounds: *rounds, Concurrency: concurrency, SoakConcurrency: *soakC, SoakDuration: *soak,
		SSEStreams: *streams, SSEEvents: *sseEvents, Settle: *settle, FloorEager: *floorEager, Progress: c.stderr,
		Works: works,
	}
	for _, p := range []struct {
		path string
		w    *io.Writer
	}{{*cpuProfile, &o.CPUProfile}, {*floorProfile, &o.FloorCPUProfile}} {
		if p.path == "" {
			continue
		}
		f, err := os.Create(p.path)
		if err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		defer f.Close()
		*p.w = f
	}
	if *quick {
		o = o.Quick()
	}
	report, runErr := bench.Run(ctx, o)
	if report == nil {
		return runErr
	}
	report.WriteTable(c.stdout)
	if *out != "" {
		if err := writeReport(*out, report); err != nil {
			return errors.Join(runErr, err)
		}
	}
	return runErr
}

func writeReport(path string, r *bench.Report) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("bench: write the report: %w", err)
	}
	if err := r.WriteJSON(f); err != nil {
		f.Close()
		return fmt.Errorf("bench: write the report: %w", err)
	}
	return f.Close()
}

// intList parses "1,16" (the empty string is an empty list).
func intList(flag, s string) ([]int, error) {
	var out []int
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		n, err := strconv.Atoi(part)
		if err != nil || n < 1 {
			return nil, usageError{fmt.Sprintf("bench: %s: %q is not a positive number", flag, part)}
		}
		out = append(out, n)
	}
	return out, nil
}
