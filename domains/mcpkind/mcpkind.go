// Package mcpkind is the adapter of domains of kind mcp: a remote MCP server, reached over
// Streamable HTTP or started as a stdio command, whose tools the platform imports under the
// domain's namespace. Configuration alone onboards such a server: the worker asks the adapter
// for the upstream tools (DiscoverTools), merges them with the annotations and permissions the
// domain's YAML declares, and registers them.
//
// Content passes through unchanged: a call returns a *domains.Result with the upstream's content
// blocks (text, image, audio, resource_link, resource, each with its annotations and _meta),
// its structuredContent and isError, so that every caller sees what the server answered. Only
// binary data beyond MaxBinaryContent is left out, with a text block saying so.
//
// Tool annotations, titles and icons come from the upstream server; the domain's YAML can only
// tighten the annotations (domains.Annotations.Tighten). Calls of tools the upstream does not
// annotate read-only or idempotent are sent at most once (domains.Config.AtMostOnce): when such
// a call may have reached the server and no answer came, the outcome is reported as unknown
// (domains.CodeOutcomeUnknown) instead of the call being sent again. A JSON-RPC error the server
// answers a call with (a protocol error, as opposed to a tool error in the result) is
// domains.CodeFailed, and is not retried either. Each tool's execution.taskSupport, which
// /mcp publishes, is read from the server's tools/list answers (execution.go).
package mcpkind

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"mcp-platform/domains"
	"mcp-platform/domains/kit"
	"mcp-platform/internal/redact"
	"mcp-platform/internal/telemetry"
	"mcp-platform/internal/version"
)

// IdempotencyMetaKey is the request _meta key under which Call passes the call's idempotency
// key, so an upstream server with side effects can recognise a retried call.
const IdempotencyMetaKey = "mcp-platform/idempotency-key"

// Adapter calls the tools of one remote MCP server. It keeps one session and opens a new one
// on the next call after a transport failure. It is safe for concurrent use.
type Adapter struct {
	cfg    *domains.Config
	logger *slog.Logger
	client *mcp.Client
	// transport builds the transport of a new session (a stdio command cannot be restarted,
	// so every connection gets a fresh one).
	transport func() mcp.Transport

	mu      sync.Mutex
	session *mcp.ClientSession
	closed  bool
	// remotes maps namespaced tool names to upstream names, and discovered to the tools, from
	// the last discovery.
	remotes    map[string]string
	discovered map[string]domains.Tool

	// progress maps the progress tokens of calls in flight to their callers' receivers.
	progress sync.Map
	// tokens numbers the progress tokens this adapter sends.
	tokens atomic.Uint64
	// executions is the task support of the upstream's tools, as the last listing declared.
	executions *executions
}

// New connects to the MCP server of deps.Config.MCP and returns its adapter. It fails when the
// configuration is not of kind mcp, when the variable named by bearer_token_env is not set,
// when the server cannot be reached or refuses the platform's credentials.
func New(ctx context.Context, deps kit.Deps) (domains.Adapter, error) {
	cfg := deps.Config
	if cfg == nil || cfg.MCP == nil {
		return nil, errors.New("mcpkind: the domain configuration has no mcp section")
	}
	getenv := deps.Getenv
	if getenv == nil {
		return nil, errors.New("mcpkind: no Getenv in the adapter's dependencies")
	}
	logger := deps.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	src := cfg.MCP
	a := &Adapter{cfg: cfg, logger: logger, client: newClient(src), executions: &executions{}}
	switch {
	case src.URL != "" && src.Command != "":
		return nil, fmt.Errorf("mcpkind: domain %s: set mcp.url or mcp.command, not both", cfg.Name)
	case src.URL != "":
		t, err := httpTransport(cfg.Name, src, getenv, a.progressNotified, a.executions)
		if err != nil {
			return nil, err
		}
		a.transport = t
	case src.Command != "":
		command := commandTransport(src, getenv, logger)
		a.transport = func() mcp.Transport { return &progressTransport{Transport: command(), notify: a.progressNotified} }
	default:
		return nil, fmt.Errorf("mcpkind: domain %s: mcp.url or mcp.command is required", cfg.Name)
	}
	if _, err := a.connect(ctx); err != nil {
		if errors.Is(err, errRefused) {
			return nil, fmt.Errorf("mcpkind: domain %s: the MCP server refused the platform's credentials (check %s): %w", cfg.Name, orNone(src.BearerTokenEnv), err)
		}
		return nil, fmt.Errorf("mcpkind: domain %s: connect to the MCP server: %w", cfg.Name, err)
	}
	return a, nil
}

// newClient returns the MCP client of src. It advertises the roots capability only when the
// configuration lists roots, and then answers roots/list with them: a server told the client
// has roots asks for them, and a request the client cannot answer stalls the server's calls.
// (Progress notifications are read off the transport, progress.go.)
func newClient(src *domains.MCPSource) *mcp.Client {
	caps := &mcp.ClientCapabilities{}
	if len(src.Roots) > 0 {
		caps.RootsV2 = &mcp.RootCapabilities{}
	}
	c := mcp.NewClient(&mcp.Implementation{Name: "mcp-platform", Version: version.Version}, &mcp.ClientOptions{Capabilities: caps})
	for _, r := range src.Roots {
		c.AddRoots(&mcp.Root{URI: r.URI, Name: r.Name})
	}
	return c
}

func orNone(env string) string {
	if env == "" {
		return "mcp.bearer_token_env, which is not set"
	}
	return env
}

// httpTransport returns the Streamable HTTP transport of src, with the bearer token read now so
// that a missing secret fails the start rather than the first call, with the progress
// notifications of its streams going to notify and the task support of the tools it lists to
// exec.
func httpTransport(domain string, src *domains.MCPSource, getenv func(string) string, notify func(json.RawMessage), exec *executions) (func() mcp.Transport, error) {
	u, err := url.Parse(src.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("mcpkind: domain %s: mcp.url %q is not an http(s) URL", domain, src.URL)
	}
	var token string
	if src.BearerTokenEnv != "" {
		token = getenv(src.BearerTokenEnv)
		if token == "" {
			return nil, fmt.Errorf("mcpkind: domain %s: environment variable %s (mcp.bearer_token_env) is not set", domain, src.BearerTokenEnv)
		}
	}
	// No client timeout: responses may be streams; each call is bounded by its context.
	// Each POST is an HTTP client span whose context also goes in the traceparent header.
	base := otelhttp.NewTransport(http.DefaultTransport, otelhttp.WithPropagators(telemetry.Propagator()))
	hc := &http.Client{Transport: &listingTransport{base: &authTransport{base: base, token: token, notify: notify}, exec: exec}}
	return func() mcp.Transport {
		// The standalone SSE stream only carries server notifications, which the platform
		// does not use; without it a server that goes away costs no background retries.
		return &mcp.StreamableClientTransport{Endpoint: src.URL, HTTPClient: hc, DisableStandaloneSSE: true}
	}, nil
}

// commandTransport returns a transport that starts src.Command with only PATH, HOME and the
// variables src.Env lists in its environment: the worker's other secrets stay out of it.
func commandTransport(src *domains.MCPSource, getenv func(string) string, logger *slog.Logger) func() mcp.Transport {
	return func() mcp.Transport {
		env := make([]string, 0, len(src.Env)+2)
		for _, k := range append([]string{"PATH", "HOME"}, src.Env...) {
			if v := getenv(k); v != "" {
				env = append(env, k+"="+v)
			} else if k != "PATH" && k != "HOME" {
				logger.Warn("environment variable listed in mcp.env is not set", "variable", k)
			}
		}
		cmd := exec.Command(src.Command, src.Args...)
		cmd.Env = env
		cmd.Stderr = &stderrLog{logger: logger}
		return &mcp.CommandTransport{Command: cmd}
	}
}

// errRefused reports that the server answered 401 or 403: the platform's credentials are
// wrong, which no retry fixes.
var errRefused = errors.New("the server refused the platform's credentials")

// authTransport adds the bearer token to every request and turns 401/403 answers into
// errRefused, so that they are told apart from an unreachable server.
type authTransport struct {
	base  http.RoundTripper
	token string
	// notify receives the params of the progress notifications of SSE responses.
	notify func(json.RawMessage)
}

func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.token != "" {
		req = req.Clone(req.Context())
		req.Header.Set("Authorization", "Bearer "+t.token)
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		resp.Body.Close()
		return nil, fmt.Errorf("HTTP %d: %w", resp.StatusCode, errRefused)
	}
	if t.notify != nil && strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		resp.Body = &sseProgressTap{ReadCloser: resp.Body, notify: t.notify}
	}
	return resp, nil
}

// stderrLog logs what a stdio server writes on its standard error, one record per write.
type stderrLog struct {
	logger *slog.Logger
}

func (w *stderrLog) Write(p []byte) (int, error) {
	if s := strings.TrimRight(string(p), "\r\n"); s != "" {
		w.logger.Info("mcp server stderr", "output", s)
	}
	return len(p), nil
}

// connect returns the current session, opening one when there is none.
func (a *Adapter) connect(ctx context.Context) (*mcp.ClientSession, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return nil, errors.New("the adapter is closed")
	}
	if a.session != nil {
		return a.session, nil
	}
	s, err := a.client.Connect(ctx, a.transport(), nil)
	if err != nil {
		return nil, err
	}
	a.session = s
	return s, nil
}

// drop closes s and forgets it when it is still the current session, so that the next call
// connects again.
func (a *Adapter) drop(s *mcp.ClientSession) {
	a.mu.Lock()
	current := a.session == s
	if current {
		a.session = nil
	}
	a.mu.Unlock()
	if current {
		_ = s.Close()
	}
}

// Close ends the session (and stops a stdio server). Calls after Close fail.
func (a *Adapter) Close() error {
	a.mu.Lock()
	s := a.session
	a.session, a.closed = nil, true
	a.mu.Unlock()
	if s == nil {
		return nil
	}
	return s.Close()
}

// DiscoverTools lists every tool of the upstream server, following pagination. Each becomes a
// tool of the domain named by its sanitised upstream name (lower case, anything but [a-z0-9_]
// replaced by "_"), unless the configuration declares a tool with that upstream name as
// remote, whose name then wins. Title, icons and annotations are the upstream's (with MCP's
// defaults for hints it leaves out); the worker then tightens them with the configuration's.
// It fails when two upstream tools end up with one name, when a name does not start with a
// letter, when an input schema is not of type object, or when the server cannot be listed.
func (a *Adapter) DiscoverTools(ctx context.Context) ([]domains.Tool, error) {
	s, err := a.connect(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect to the %s MCP server: %w", a.cfg.Name, err)
	}
	declared := map[string]string{} // upstream name → short name chosen by the configuration
	for _, t := range a.cfg.Tools {
		if t.Remote != "" {
			declared[t.Remote] = strings.TrimPrefix(t.Name, a.cfg.Name+".")
		}
	}
	var tools []domains.Tool
	remotes, discovered := map[string]string{}, map[string]domains.Tool{}
	for up, err := range s.Tools(ctx, nil) {
		if err != nil {
			if transportFailure(ctx, err) {
				a.drop(s)
			}
			return nil, fmt.Errorf("list the tools of the %s MCP server: %w", a.cfg.Name, err)
		}
		t, err := a.importTool(up, declared)
		if err != nil {
			return nil, err
		}
		if other, dup := remotes[t.Name]; dup {
			return nil, fmt.Errorf("upstream tools %q and %q of domain %s both become %q: declare one of them in the domain's tools with another name and remote: <upstream name>", other, up.Name, a.cfg.Name, t.Name)
		}
		remotes[t.Name] = up.Name
		discovered[t.Name] = t
		tools = append(tools, t)
	}
	for _, t := range a.cfg.Tools {
		if _, ok := remotes[t.Name]; !ok {
			a.logger.Warn("the configuration declares a tool the MCP server does not offer; it is left out", "tool", t.Name, "remote", t.Remote)
		}
	}
	sort.Slice(tools, func(i, j int) bool { return tools[i].Name < tools[j].Name })
	a.mu.Lock()
	a.remotes, a.discovered = remotes, discovered
	a.mu.Unlock()
	return tools, nil
}

// importTool turns one upstream tool into a tool of the domain.
func (a *Adapter) importTool(up *mcp.Tool, declared map[string]string) (domains.Tool, error) {
	short, ok := declared[up.Name]
	if !ok {
		short = SanitizeName(up.Name)
		if short == "" || short[0] < 'a' || short[0] > 'z' {
			return domains.Tool{}, fmt.Errorf("upstream tool %q of domain %s becomes %q, which does not start with a letter: declare it in the domain's tools with a name and remote: %q", up.Name, a.cfg.Name, short, up.Name)
		}
	}
	in, err := schemaMap(up.InputSchema)
	if err != nil {
		return domains.Tool{}, fmt.Errorf("upstream tool %q of domain %s: input schema: %w", up.Name, a.cfg.Name, err)
	}
	if in == nil {
		in = map[string]any{}
	}
	if typ, ok := in["type"]; !ok {
		in["type"] = "object"
	} else if typ != "object" {
		return domains.Tool{}, fmt.Errorf("upstream tool %q of domain %s: input schema type is %v, not object", up.Name, a.cfg.Name, typ)
	}
	out, err := schemaMap(up.OutputSchema)
	if err != nil || out["type"] != "object" {
		out = nil // MCP structured content is an object; anything else is not published
	}
	desc := strings.TrimSpace(up.Description)
	if desc == "" {
		desc = strings.TrimSpace(up.Title)
	}
	if desc == "" {
		desc = fmt.Sprintf("Tool %s of the %s MCP server.", up.Name, a.cfg.Name)
	}
	title := up.Title
	if title == "" && up.Annotations != nil {
		title = up.Annotations.Title
	}
	var icons []map[string]any
	for _, ic := range up.Icons {
		if m, err := schemaMap(ic); err == nil && m != nil {
			icons = append(icons, m)
		}
	}
	return domains.Tool{
		Name:         a.cfg.Name + "." + short,
		Title:        title,
		Description:  desc,
		InputSchema:  in,
		OutputSchema: out,
		Annotations:  annotations(up.Annotations),
		Icons:        icons,
		Remote:       up.Name,
		TaskSupport:  a.executions.taskSupport(up.Name),
	}, nil
}

// annotations reads an upstream tool's hints, with the defaults MCP gives hints that are left
// out: not read-only, destructive (unless read-only), not idempotent, open-world.
func annotations(h *mcp.ToolAnnotations) domains.Annotations {
	out := domains.Annotations{Destructive: true, OpenWorld: true}
	if h == nil {
		return out
	}
	out.ReadOnly, out.Idempotent = h.ReadOnlyHint, h.IdempotentHint
	if h.DestructiveHint != nil {
		out.Destructive = *h.DestructiveHint
	}
	if out.ReadOnly {
		out.Destructive = false
	}
	if h.OpenWorldHint != nil {
		out.OpenWorld = *h.OpenWorldHint
	}
	return out
}

// schemaMap returns a copy of a schema as a map (nil for none).
func schemaMap(v any) (map[string]any, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, errors.New("not a JSON object")
	}
	return m, nil
}

// SanitizeName maps an upstream tool name to a short tool name: lower case, every character
// outside [a-z0-9_] replaced by "_".
func SanitizeName(remote string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(remote) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// remote returns the upstream name of a namespaced tool: from the last discovery, else from
// the configuration, else its short name.
func (a *Adapter) remote(tool string) string {
	a.mu.Lock()
	r, ok := a.remotes[tool]
	a.mu.Unlock()
	if ok {
		return r
	}
	if t := a.cfg.Tool(tool); t != nil && t.Remote != "" {
		return t.Remote
	}
	return strings.TrimPrefix(tool, a.cfg.Name+".")
}

// tool returns the namespaced tool: the configuration's (the worker merges the discovered
// tools into it), else the last discovery's, else nil.
func (a *Adapter) tool(name string) *domains.Tool {
	if t := a.cfg.Tool(name); t != nil {
		return t
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if t, ok := a.discovered[name]; ok {
		return &t
	}
	return nil
}

// Call calls the upstream tool behind call.Tool with call.Args, passing the idempotency key in
// the request's _meta under IdempotencyMetaKey, with the call's trace context there too (the
// traceparent, tracestate and baggage keys of MCP's trace-context convention, SEP-414) and, when
// the caller follows the call's progress, a progress token of the adapter's own (progress.go),
// and returns the upstream's answer as a *domains.Result: content blocks, structuredContent and
// isError unchanged. Errors: CodeInvalid when the server rejects the arguments or the tool,
// CodeDenied when it refuses the platform's credentials, CodeUnavailable when it cannot be
// reached or does not answer in time (the next call connects again), CodeOutcomeUnknown
// instead of CodeUnavailable when the call may have reached the server and the tool must not be
// sent twice (domains.Config.AtMostOnce), and CodeFailed when the server answers with another
// JSON-RPC error.
func (a *Adapter) Call(ctx context.Context, call domains.Call) (res any, err error) {
	remote := a.remote(call.Tool)
	ctx, span := telemetry.Tracer().Start(ctx, "tools/call "+remote, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		attribute.String("mcp.method.name", "tools/call"), attribute.String("gen_ai.tool.name", remote),
		attribute.String("gen_ai.operation.name", "execute_tool")))
	defer func() {
		if err != nil {
			span.SetStatus(codes.Error, "tool call failed")
		}
		span.End()
	}()
	params := &mcp.CallToolParams{Name: remote, Arguments: call.Args, Meta: mcp.Meta{}}
	if call.Args == nil {
		params.Arguments = map[string]any{}
	}
	if call.IdempotencyKey != "" {
		params.Meta[IdempotencyMetaKey] = call.IdempotencyKey
	}
	telemetry.Propagator().Inject(ctx, telemetry.MetaCarrier(params.Meta))
	if call.OnProgress != nil {
		token := a.followProgress(call.OnProgress)
		defer a.progress.Delete(token)
		params.SetProgressToken(token)
	}
	if len(params.Meta) == 0 {
		params.Meta = nil
	}
	for attempt := 0; ; attempt++ {
		s, err := a.connect(ctx)
		if err != nil {
			return nil, a.failure(ctx, err)
		}
		res, err := s.CallTool(ctx, params)
		if err != nil {
			if transportFailure(ctx, err) {
				a.drop(s)
			}
			// A server that restarted has forgotten the session without running the call:
			// open a new session and send it once more.
			if errors.Is(err, mcp.ErrSessionMissing) && attempt == 0 {
				continue
			}
			if a.cfg.AtMostOnce(a.tool(call.Tool)) && maySent(err) {
				return nil, &domains.Error{Code: domains.CodeOutcomeUnknown, Err: err, Message: fmt.Sprintf(
					"the call of %s may have reached the %s MCP server, but no answer came back; it is not sent again because the tool may not be safe to repeat: check in %s whether it took effect", call.Tool, a.cfg.Name, a.cfg.Name)}
			}
			return nil, a.failure(ctx, err)
		}
		return result(res)
	}
}

// maySent reports whether a failed tools/call may have reached the server: anything but an
// answer (a JSON-RPC error, a refusal of our credentials, an unknown session) or a connection
// that was never made.
func maySent(err error) bool {
	var we *jsonrpc.Error
	return !errors.As(err, &we) && !errors.Is(err, errRefused) && !errors.Is(err, mcp.ErrSessionMissing) &&
		!errors.Is(err, syscall.ECONNREFUSED)
}

// transportFailure reports whether err means the session is no longer usable, as opposed to
// an answer from the server or the caller giving up.
func transportFailure(ctx context.Context, err error) bool {
	var we *jsonrpc.Error
	return !errors.As(err, &we) && !errors.Is(err, errRefused) && ctx.Err() == nil
}

// closing reports whether a JSON-RPC error is the client's own report of a connection that
// shut down (the SDK's codes -32001, -32003 to -32005), not an answer of the server.
func closing(we *jsonrpc.Error) bool {
	return we.Code == -32001 || we.Code >= -32005 && we.Code <= -32003
}

// failure turns an error of the MCP client into a domain error.
func (a *Adapter) failure(ctx context.Context, err error) error {
	var we *jsonrpc.Error
	switch {
	case errors.Is(err, errRefused):
		return &domains.Error{Code: domains.CodeDenied, Message: fmt.Sprintf("the %s service refused the platform's credentials", a.cfg.Name), Err: err}
	case errors.As(err, &we) && (we.Code == jsonrpc.CodeInvalidParams || we.Code == jsonrpc.CodeMethodNotFound):
		return &domains.Error{Code: domains.CodeInvalid, Message: fmt.Sprintf("the %s MCP server rejected the call: %s", a.cfg.Name, clip(we.Message)), Err: err}
	case errors.As(err, &we) && ctx.Err() == nil && !closing(we):
		// The server answered with a protocol error rather than a result: sending the call
		// again would get the same answer.
		return &domains.Error{Code: domains.CodeFailed, Message: fmt.Sprintf("the %s MCP server failed the call (error %d): %s", a.cfg.Name, we.Code, sanitized(we.Message)), Err: err}
	case ctx.Err() != nil:
		return &domains.Error{Code: domains.CodeUnavailable, Message: fmt.Sprintf("the %s MCP server did not answer in time", a.cfg.Name), Err: err}
	default:
		return &domains.Error{Code: domains.CodeUnavailable, Message: fmt.Sprintf("the %s MCP server is unavailable", a.cfg.Name), Err: err}
	}
}

// MaxBinaryContent bounds the inline binary data (the base64 "data" of image and audio blocks
// and "blob" of embedded resources) one result carries, in encoded bytes. A result travels in
// Temporal's history (whose payloads are limited to 2 MB each) and is stored with the
// conversation, so a block that would take the result past it is replaced by a text block
// saying what was left out; everything else of the result passes through.
const MaxBinaryContent = 1 << 20

// OmittedMetaKey is the _meta key of a text block that stands for a block left out for its
// size: its type, mimeType and size in encoded bytes.
const OmittedMetaKey = "mcp-platform/omitted"

// result maps a tools/call result to the tool's result, in the wire form of its blocks.
func result(res *mcp.CallToolResult) (any, error) {
	out := &domains.Result{Structured: res.StructuredContent, IsError: res.IsError}
	budget := MaxBinaryContent
	for _, c := range res.Content {
		b, err := json.Marshal(c)
		if err != nil {
			return nil, domains.Errorf(domains.CodeInternal, "the MCP server returned content that cannot be encoded: %v", err)
		}
		var block domains.Content
		if err := json.Unmarshal(b, &block); err != nil {
			return nil, domains.Errorf(domains.CodeInternal, "the MCP server returned content that is not an object")
		}
		if n := binarySize(block); n > 0 {
			if n > budget {
				block = omitted(block, n)
			} else {
				budget -= n
			}
		}
		out.Content = append(out.Content, block)
	}
	return out, nil
}

// binarySize is the size of a block's inline binary data, in encoded bytes.
func binarySize(block domains.Content) int {
	if d, ok := block["data"].(string); ok {
		return len(d)
	}
	if r, ok := block["resource"].(map[string]any); ok {
		if d, ok := r["blob"].(string); ok {
			return len(d)
		}
	}
	return 0
}

// omitted is the text block that replaces a block whose binary data is too big to carry.
func omitted(block domains.Content, size int) domains.Content {
	typ, _ := block["type"].(string)
	mime, _ := block["mimeType"].(string)
	if r, ok := block["resource"].(map[string]any); ok {
		mime, _ = r["mimeType"].(string)
		if uri, _ := r["uri"].(string); uri != "" {
			mime += " at " + uri
		}
	}
	text := fmt.Sprintf("[%s content (%s, %d bytes encoded) left out: the platform carries at most %d bytes of binary content per tool result]",
		typ, cmp.Or(mime, "unknown type"), size, MaxBinaryContent)
	out := domains.Content{"type": domains.ContentText, "text": text,
		"_meta": map[string]any{OmittedMetaKey: map[string]any{"type": typ, "mimeType": mime, "size": size}}}
	if ann, ok := block["annotations"]; ok {
		out["annotations"] = ann
	}
	return out
}

// sanitized is an upstream's error message as callers may read it: its first line only (a
// crashing server may append its stack), with secrets redacted, clipped.
func sanitized(msg string) string {
	first, _, _ := strings.Cut(strings.TrimSpace(msg), "\n")
	return clip(redact.String(strings.TrimSpace(first)))
}

// maxMessage bounds upstream messages passed on to callers and the LLM.
const maxMessage = 2000

func clip(s string) string {
	if len(s) <= maxMessage {
		return s
	}
	return strings.ToValidUTF8(s[:maxMessage], "") + "…"
}
