// Package bench measures the platform against the floor of the Temporal server it runs on:
// in one run, alternating rounds of the platform's work and of no-op workflows of the same
// shape on the same server, so that the ratios show what the platform adds to Temporal itself.
// It backs `mcp-platform bench` (README, "Performance").
//
// What it measures, from outside, as users call the platform:
//   - the chat turn ("Get employee E001": mock LLM, one tool call; POST /chat with wait)
//     against FloorTurn (three no-op activities: LLM, tool on a second queue, LLM);
//   - POST /execute of hr.get_employee and MCP tools/call (the go-sdk client) against FloorTool
//     (one no-op activity);
//   - each at every concurrency asked for (closed loop: c clients, each sending its next
//     request when the last one answered), then a soak of chat turns at high concurrency;
//   - SSE delivery latency (event written → client read) with many streams open;
//   - the stack's memory (PSS of its processes, the private PostgreSQL included) at idle.
package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"mcp-platform/internal/config"
	"mcp-platform/internal/events"
	"mcp-platform/platform"
)

// Options configure a run. Zero durations and counts take the defaults of a full run; Quick
// replaces them with a short run's.
type Options struct {
	// Config is the settings; an in-process stack overrides its ports, data directory, database
	// and LLM (mock).
	Config config.Config
	// Logger receives the stack's logs.
	Logger *slog.Logger
	// Adapters build the domains of an in-process stack.
	Adapters platform.Adapters

	// APIURL and MCPURL target a running stack instead of starting one; then Temporal and the
	// database come from Config and PIDs name the stack's processes for the memory figure.
	APIURL, MCPURL string
	PIDs           []int
	// DataDir is the in-process stack's data directory; empty means a fresh temporary one,
	// removed afterwards.
	DataDir string

	// User is the dev user the load runs as (POST /auth/token); Token, when set, is used instead.
	User, Token string

	// Duration is how long each side (platform, floor) of each work and concurrency runs,
	// split over Rounds alternating rounds.
	Duration time.Duration
	Rounds   int
	// Concurrency lists the concurrencies to compare at.
	Concurrency []int
	// SoakConcurrency and SoakDuration shape the soak of chat turns.
	SoakConcurrency int
	SoakDuration    time.Duration
	// SSEStreams streams are opened and SSEEvents events written to each.
	SSEStreams, SSEEvents int
	// Settle is how long the stack idles before its memory is read.
	Settle time.Duration
	// FloorEager starts floor workflows with eager workflow start (the floor's starter is also
	// its worker, as the dev stack's API is its orchestrator's).
	FloorEager bool
	// Works limits the compared works to these keys ("chat", "execute", "mcp"); empty means all.
	Works []string
	// CPUProfile, when set, receives a CPU profile (runtime/pprof) of this process during the
	// platform's rounds of the compared works, and FloorCPUProfile one during the floor's:
	// with an in-process stack they show where the platform and the Temporal server spend the
	// time, and their difference what the platform adds to Temporal's own work.
	CPUProfile, FloorCPUProfile io.Writer
	// Progress receives a line per phase; nil means none.
	Progress io.Writer
}

// WorkKeys name the compared works in Options.Works (and the -work flag).
var WorkKeys = map[string]string{"chat": WorkChat, "execute": WorkExecute, "mcp": WorkMCP}

// Quick shortens every phase, for a smoke test of the whole benchmark: every figure is
// measured, none is meaningful.
func (o Options) Quick() Options {
	o.Duration, o.Rounds, o.Concurrency = 1500*time.Millisecond, 2, []int{1, 4}
	o.SoakConcurrency, o.SoakDuration = 8, 2*time.Second
	o.SSEStreams, o.SSEEvents, o.Settle = 10, 3, time.Second
	return o
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.User == "" {
		o.User = "alice"
	}
	if o.Duration <= 0 {
		o.Duration = 20 * time.Second
	}
	if o.Rounds <= 0 {
		o.Rounds = 4
	}
	if len(o.Concurrency) == 0 {
		o.Concurrency = []int{1, 16}
	}
	if o.SoakConcurrency <= 0 {
		o.SoakConcurrency = 50
	}
	if o.SoakDuration <= 0 {
		o.SoakDuration = 60 * time.Second
	}
	if o.SSEStreams <= 0 {
		o.SSEStreams = 50
	}
	if o.SSEEvents <= 0 {
		o.SSEEvents = 20
	}
	if o.Settle <= 0 {
		o.Settle = 5 * time.Second
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	return o
}

// Validate reports options that cannot run.
func (o Options) Validate() error {
	if (o.APIURL == "") != (o.MCPURL == "") {
		return errors.New("bench: give both -api and -mcp to target a running stack, or neither to start one")
	}
	for _, c := range o.Concurrency {
		if c < 1 {
			return fmt.Errorf("bench: concurrency %d: must be at least 1", c)
		}
	}
	for _, w := range o.Works {
		if _, ok := WorkKeys[w]; !ok {
			return fmt.Errorf("bench: work %q: must be one of chat, execute, mcp", w)
		}
	}
	if o.Rounds < 0 || o.SoakConcurrency < 0 || o.SSEStreams < 0 || o.SSEEvents < 0 {
		return errors.New("bench: rounds, soak concurrency, streams and events cannot be negative")
	}
	return nil
}

// ErrFailures is returned, with the report, when any measured operation failed.
var ErrFailures = errors.New("bench: some operations failed (see errors in the report)")

// Run runs the benchmark and returns its report. The error is ErrFailures when operations
// failed (the report says which), or why the benchmark could not run.
func Run(ctx context.Context, o Options) (*Report, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	o = o.withDefaults()
	r := newReport(o)
	say := func(format string, args ...any) { fmt.Fprintf(o.Progress, "bench: "+format+"\n", args...) }

	say("starting the stack")
	var t *target
	var err error
	if o.APIURL != "" {
		t, err = connect(ctx, o)
	} else {
		t, err = startStack(ctx, o)
	}
	if err != nil {
		return nil, err
	}
	defer t.stop()
	r.Target = t.describe

	c := newPlatformClient(t.api, t.mcp)
	defer c.close()
	if c.token = o.Token; c.token == "" {
		if err := c.signIn(ctx, o.User); err != nil {
			return nil, err
		}
	}
	// One turn before the idle reading, so that it is of a stack that has served.
	if err := c.chatTurn(ctx, 0); err != nil {
		return nil, fmt.Errorf("first chat turn: %w", err)
	}
	if err := r.readMemory(ctx, t, o, &r.Memory.Idle); err != nil {
		return nil, err
	}
	say("idle memory: %.1f MB PSS", r.Memory.Idle.PSSMB)

	f, err := startFloor(t.temporal, o.FloorEager)
	if err != nil {
		return nil, err
	}
	defer f.stop()
	if err := c.connectMCP(ctx, max(maxOf(o.Concurrency), 1)); err != nil {
		return nil, err
	}
	if err := warmUp(ctx, c, f); err != nil {
		return nil, err
	}

	works := []struct {
		name, floor string
		platform    op
		floorOp     op
	}{
		{WorkChat, FloorTurnName, c.chatTurn, f.turn},
		{WorkExecute, FloorToolName, c.execute, f.tool},
		{WorkMCP, FloorToolName, c.mcpCall, f.tool},
	}
	prof := newSideProfiler(o.CPUProfile, o.FloorCPUProfile)
	var cpu *cpuMeter
	if runtime.GOOS == "linux" && len(t.pids) > 0 {
		cpu = &cpuMeter{proc: "/proc", roots: t.pids}
	}
	for _, conc := range o.Concurrency {
		for _, w := range works {
			if len(o.Works) > 0 && !slices.ContainsFunc(o.Works, func(k string) bool { return WorkKeys[k] == w.name }) {
				continue
			}
			say("%s vs %s, c=%d: %d rounds of %s each", w.name, w.floor, conc, o.Rounds, o.Duration/time.Duration(o.Rounds))
			plat, fl := alternate(ctx, conc, o.Duration, o.Rounds, prof, cpu, w.platform, w.floorOp)
			r.addComparison(w.name, w.floor, conc, plat.figures(), fl.figures())
			if err := ctx.Err(); err != nil {
				return r, err
			}
		}
	}
	if err := prof.write(); err != nil {
		return r, err
	}

	say("soak: %s at c=%d for %s", WorkChat, o.SoakConcurrency, o.SoakDuration)
	r.Soak = Soak{Work: WorkChat, Concurrency: o.SoakConcurrency, DurationS: o.SoakDuration.Seconds(),
		Figures: closedLoop(ctx, o.SoakConcurrency, o.SoakDuration, c.chatTurn).figures()}

	if t.pool == nil {
		r.Notes = append(r.Notes, "SSE not measured: the benchmark writes events to the database; set DATABASE_URL to the stack's")
	} else {
		say("SSE: %d streams, %d events each", o.SSEStreams, o.SSEEvents)
		sse, err := measureSSE(ctx, c, events.NewStore(t.pool), sseOptions{streams: o.SSEStreams, perStream: o.SSEEvents, gap: 5 * time.Millisecond})
		r.SSE = &sse
		if err != nil {
			r.SSEError = err.Error()
		}
	}
	if err := r.readMemory(ctx, t, o, &r.Memory.AfterLoad); err != nil {
		return r, err
	}
	r.Finished = time.Now().UTC()
	r.Machine.LoadAvgEnd = loadAvg()
	if r.failures() {
		return r, ErrFailures
	}
	return r, nil
}

// warmUp runs each operation a few times unmeasured: connections, caches and sticky workflow
// caches are warm before the first round.
func warmUp(ctx context.Context, c *platformClient, f *floor) error {
	for _, o := range []struct {
		name string
		op   op
	}{{"chat turn", c.chatTurn}, {"/execute", c.execute}, {"MCP tools/call", c.mcpCall}, {"floor turn", f.turn}, {"floor tool call", f.tool}} {
		for range 3 {
			if err := o.op(ctx, 0); err != nil {
				return fmt.Errorf("warm-up %s: %w", o.name, err)
			}
		}
	}
	return nil
}

// alternate runs rounds of the platform's operation and of the floor's, one after the other,
// each round for d/rounds, swapping which goes first every round so that neither always runs
// on a warmer (or busier) server. prof profiles each side's rounds and cpu measures the
// stack's CPU time in each (both may be nil).
func alternate(ctx context.Context, c int, d time.Duration, rounds int, prof *sideProfiler, cpu *cpuMeter, plat, fl op) (*samples, *samples) {
	each := d / time.Duration(rounds)
	p, f := &samples{}, &samples{}
	load := func(run op) func() *samples { return func() *samples { return closedLoop(ctx, c, each, run) } }
	runPlatform := func() { prof.round(sidePlatform, func() { p.merge(cpu.measure(load(plat))) }) }
	runFloor := func() { prof.round(sideFloor, func() { f.merge(cpu.measure(load(fl))) }) }
	for i := range rounds {
		if i%2 == 0 {
			runPlatform()
			runFloor()
		} else {
			runFloor()
			runPlatform()
		}
	}
	return p, f
}

// readMemory lets the stack idle for o.Settle and reads its processes' PSS into m.
func (r *Report) readMemory(ctx context.Context, t *target, o Options, m **MemoryFigures) error {
	if len(t.pids) == 0 {
		if !strings.Contains(strings.Join(r.Notes, " "), "memory") {
			r.Notes = append(r.Notes, "memory not measured: give the stack's process IDs with -pid")
		}
		return nil
	}
	select {
	case <-time.After(o.Settle):
	case <-ctx.Done():
		return ctx.Err()
	}
	fig, err := measureMemory("/proc", t.pids...)
	if err != nil {
		if runtime.GOOS != "linux" {
			r.Notes = append(r.Notes, "memory not measured: needs Linux's /proc")
			return nil
		}
		return err
	}
	*m = &fig
	return nil
}

func maxOf(xs []int) int {
	m := 0
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}

// loadAvg is the machine's 1-minute load average, from /proc/loadavg ("" elsewhere): figures
// from a busy machine are worth less, and the report says so.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return ""
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
