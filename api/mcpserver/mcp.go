package mcpserver

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"mcp-platform/authz"
	"mcp-platform/domains/registry"
	"mcp-platform/internal/telemetry"
	"mcp-platform/internal/version"
	"mcp-platform/toolcall"
)

// protectedResourcePath serves the OAuth protected-resource metadata of /mcp (RFC 9728).
const protectedResourcePath = "/.well-known/oauth-protected-resource"

// mcpPageSize is how many tools one tools/list page holds.
const mcpPageSize = 50

const instructions = "MCP Platform exposes business systems (HR, ERP, DevOps and more) as governed tools. " +
	"Tool names are <domain>__<tool> (or, for a proxied MCP server, its own names). You only see the tools your identity may use; every call is " +
	"authorized, validated and audited, and a failed call returns isError with an explanation you can act on."

// servedMethods are the JSON-RPC methods /mcp answers; any other is "method not found". It has
// no prompts or resources of its own (the lists are empty) and no completions.
var servedMethods = append([]string{"initialize", "ping", "server/discover", "tools/list", "tools/call",
	"prompts/list", "prompts/get", "resources/list", "resources/templates/list", "resources/read",
	"logging/setLevel", "subscriptions/listen"}, taskMethods...)

// addMCP serves the Model Context Protocol at /mcp (Streamable HTTP, stateless) behind bearer
// authentication as an OAuth resource server. Each request is served by a server built for
// its caller (newToolServer), behind these layers, outermost first: allowed origins and CORS,
// bearer authentication, and the methods /mcp serves.
func addMCP(mux *http.ServeMux, deps Deps) {
	servers := &toolServers{}
	watched := newWatchers(deps)
	serverOf := func(r *http.Request) *mcp.Server {
		p, _ := principalOf(r.Context())
		if rpcMethod(r.Context()) == "subscriptions/listen" {
			// A subscription gets a server of its own, whose tools follow the caller's.
			return watched.serve(r.Context(), p)
		}
		return servers.get(deps, p)
	}
	// A request that asks for progress is answered with a stream that carries it (progress.go).
	handler := streamProgress(
		mcp.NewStreamableHTTPHandler(serverOf, &mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true, Logger: deps.Logger}),
		mcp.NewStreamableHTTPHandler(serverOf, &mcp.StreamableHTTPOptions{Stateless: true, Logger: deps.Logger}))

	metadataURL := deps.PublicURL + protectedResourcePath + "/mcp"
	mux.Handle("/mcp", origins(deps.PublicURL, deps.AllowedOrigins,
		requireBearer(deps, metadataURL, withTokenInfo(limitMCP(deps.RateLimit, principalOf, methods(servedMethods, handler))))))

	meta := auth.ProtectedResourceMetadataHandler(&oauthex.ProtectedResourceMetadata{
		Resource:               deps.PublicURL + "/mcp",
		ResourceName:           "MCP Platform tools",
		AuthorizationServers:   deps.AuthorizationServers,
		BearerMethodsSupported: []string{"header"},
		ScopesSupported:        []string{"tools:*"},
	})
	mux.Handle("GET "+protectedResourcePath+"/mcp", meta)
	mux.Handle("GET "+protectedResourcePath, meta)
}

const principalExtra = "principal"

func principalOf(ctx context.Context) (authz.Principal, bool) {
	return principalIn(auth.TokenInfoFromContext(ctx))
}

// callerOf is the principal that authenticated the MCP request.
func callerOf(extra *mcp.RequestExtra) (authz.Principal, bool) {
	if extra == nil {
		return authz.Principal{}, false
	}
	return principalIn(extra.TokenInfo)
}

func principalIn(ti *auth.TokenInfo) (authz.Principal, bool) {
	if ti == nil {
		return authz.Principal{}, false
	}
	p, ok := ti.Extra[principalExtra].(authz.Principal)
	return p, ok
}

// maxToolServers bounds the cache of MCP servers: past it the cache starts afresh.
const maxToolServers = 64

// toolServers caches one MCP server per set of visible tools: building one registers every
// tool with the SDK (which re-encodes each schema), too slow to do on each request of a
// thousand-tool catalog. A server is shared by the principals who see the same tools; its
// handlers read the caller of each request.
type toolServers struct {
	mu      sync.Mutex
	servers map[string]*mcp.Server
}

// get returns the MCP server of the tools p may use now whose domain has a running worker.
func (c *toolServers) get(deps Deps, p authz.Principal) *mcp.Server {
	// The version is read before the tools: a server is never cached under a version newer
	// than its tools' definitions.
	version := deps.Catalog.Version()
	visible := deps.Tools.Visible(p, toolcall.VisibleOptions{LiveOnly: true})
	h := sha256.New()
	h.Write(strconv.AppendUint(nil, version, 10))
	for _, v := range visible {
		h.Write([]byte{'\n'})
		h.Write([]byte(v.Tool.Name))
	}
	key := string(h.Sum(nil))
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.servers[key]; s != nil {
		return s
	}
	if c.servers == nil || len(c.servers) >= maxToolServers {
		c.servers = map[string]*mcp.Server{}
	}
	s := newToolServer(deps, visible)
	c.servers[key] = s
	return s
}

// capabilities are what /mcp declares, in initialize and server/discover: tools, prompts and
// resources (none of either yet: their lists are empty, and reading an unknown resource is
// "resource not found"), logging, and the Tasks extension. Tool list changes are notified on a
// subscriptions/listen stream (2026-07-28) when the caller's visible tools change (watchers).
func capabilities() *mcp.ServerCapabilities {
	c := &mcp.ServerCapabilities{Tools: &mcp.ToolCapabilities{ListChanged: true}, Prompts: &mcp.PromptCapabilities{},
		Resources: &mcp.ResourceCapabilities{}, Logging: &mcp.LoggingCapabilities{}}
	c.AddExtension(tasksExtension, map[string]any{})
	return c
}

// cacheable marks every cacheable result private and immediately stale: the tool list is the
// caller's own (their roles and scopes) and changes as domain workers come and go, and the
// other lists are served to authenticated callers only.
func cacheable(_ context.Context, _ mcp.Request, c *mcp.Cacheable) {
	c.CacheScope, c.TTLMs = "private", 0
}

// newToolServer builds the MCP server of the visible tools, in name order, and the tasks of its
// callers' calls. Calls to other known tools still reach the executor, so a denied call is
// refused plainly and audited rather than reported as unknown.
func newToolServer(deps Deps, visible []toolcall.Visible) *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "mcp-platform", Title: "MCP Platform", Version: version.Version},
		&mcp.ServerOptions{PageSize: mcpPageSize, Instructions: instructions, Logger: deps.Logger,
			Capabilities: capabilities(), SetCacheable: cacheable})
	for _, v := range visible {
		s.AddTool(mcpTool(v.Entry), toolHandler(deps, v.Tool.Name))
	}
	publishExecution(s, visible)
	s.AddReceivingMiddleware(func(next mcp.MethodHandler) mcp.MethodHandler {
		return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
			if method != "tools/call" {
				return next(ctx, method, req)
			}
			params, ok := req.GetParams().(*mcp.CallToolParamsRaw)
			if !ok {
				return next(ctx, method, req)
			}
			name, known := deps.Catalog.Resolve(params.Name)
			if !known {
				return next(ctx, method, req)
			}
			p, ok := callerOf(req.GetExtra())
			if !ok {
				return errorResult("the request is not authenticated"), nil
			}
			ctx, span := callSpan(ctx, name, params.GetMeta())
			defer span.End()
			ctx = withProgress(ctx, req)
			ss, _ := req.GetSession().(*mcp.ServerSession)
			support := taskSupport(deps, name)
			if supportsTasks(params.GetMeta(), ss) {
				res, err := taskCall(ctx, deps, p, name, params.Arguments, support != "")
				if r, ok := res.(*mcp.CallToolResult); ok {
					return complete(req, r), err
				}
				return res, err
			}
			if requiresTask(support) {
				// The upstream runs this tool only as a task, which this client cannot follow.
				return nil, missingTasksCapability()
			}
			return complete(req, syncCall(ctx, deps, p, name, params.Arguments)), nil
		}
	})
	addTasks(s, deps.Executor)
	return s
}

// mcpTool publishes a tool with its annotations (for a tool of a domain of kind mcp: the
// upstream's, tightened by our configuration), title and icons.
func mcpTool(e registry.Entry) *mcp.Tool {
	t := e.Tool
	destructive, openWorld := t.Annotations.Destructive, t.Annotations.OpenWorld
	title := t.Title
	if title == "" {
		title = t.Name
	}
	desc := t.Description
	if t.Annotations.RequiresApproval {
		desc += " (Requires human approval before it runs.)"
	}
	mt := &mcp.Tool{
		Name:        e.Domain.Config.PublishedName(t.Name),
		Title:       title,
		Description: desc,
		InputSchema: t.InputSchema,
		Annotations: &mcp.ToolAnnotations{
			Title:           title,
			ReadOnlyHint:    t.Annotations.ReadOnly,
			DestructiveHint: &destructive,
			IdempotentHint:  t.Annotations.Idempotent,
			OpenWorldHint:   &openWorld,
		},
	}
	if t.OutputSchema != nil {
		mt.OutputSchema = t.OutputSchema
	}
	for _, ic := range t.Icons {
		var icon mcp.Icon
		if b, err := json.Marshal(ic); err == nil && json.Unmarshal(b, &icon) == nil && icon.Source != "" {
			mt.Icons = append(mt.Icons, icon)
		}
	}
	return mt
}

// toolHandler runs a tools/call through the executor, as the request's authenticated caller.
// Tool failures are results with isError and a message the model can act on, not protocol
// errors.
func toolHandler(deps Deps, tool string) mcp.ToolHandler {
	return func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		p, ok := callerOf(req.GetExtra())
		if !ok {
			return errorResult("the request is not authenticated"), nil
		}
		ctx, span := callSpan(ctx, tool, req.Params.Meta)
		defer span.End()
		return syncCall(ctx, deps, p, tool, req.Params.Arguments), nil
	}
}

// callSpan starts the span of a tools/call, whose parent is the trace context in the request's
// _meta (MCP's convention, SEP-414) when the client sent one, and the HTTP request's otherwise.
func callSpan(ctx context.Context, tool string, meta mcp.Meta) (context.Context, trace.Span) {
	ctx = telemetry.Propagator().Extract(ctx, telemetry.MetaCarrier(meta))
	return telemetry.Tracer().Start(ctx, "tools/call "+tool, trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("mcp.method.name", "tools/call"), attribute.String("gen_ai.tool.name", tool)))
}

// arguments decodes a tools/call's arguments, which must be a JSON object (or absent).
func arguments(raw json.RawMessage) (map[string]any, *mcp.CallToolResult) {
	var args map[string]any
	if len(raw) > 0 && string(raw) != "null" {
		if err := json.Unmarshal(raw, &args); err != nil {
			return nil, errorResult("the arguments must be a JSON object")
		}
	}
	return args, nil
}

// syncCall runs a tools/call of a client without tasks through the executor. A call that needs
// approval is answered once its request is recorded, with what to do next.
func syncCall(ctx context.Context, deps Deps, p authz.Principal, tool string, raw json.RawMessage) *mcp.CallToolResult {
	args, bad := arguments(raw)
	if bad != nil {
		return bad
	}
	res, err := deps.Executor.Execute(ctx, p, tool, args)
	return callResult(tool, res, err)
}

// taskCall runs a tools/call of a client that supports tasks: a call that needs approval, or
// that has not finished within taskDetach, is answered with its task (the ToolRun workflow);
// any other with its result. A call of a tool that runs as a task upstream (asTask) is
// answered with its task as soon as its run has started.
func taskCall(ctx context.Context, deps Deps, p authz.Principal, tool string, raw json.RawMessage, asTask bool) (mcp.Result, error) {
	args, bad := arguments(raw)
	if bad != nil {
		return bad, nil
	}
	detach := taskDetach
	if asTask {
		detach = AtOnce
	}
	res, err := deps.Executor.Submit(ctx, p, tool, args, detach)
	if err != nil || res.Status == StatusCompleted {
		return callResult(tool, res, err), nil
	}
	// The run exists (it was started, and is durable), so tasks/get finds it from now on.
	run, ferr := deps.Executor.find(ctx, p, res.WorkflowID)
	if ferr != nil {
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "the task was created but cannot be described yet; try tasks/get " + res.WorkflowID}
	}
	return newTask(run, res), nil
}

// callResult is the tools/call result of a call's outcome. Tool failures are results with
// isError and a message the model can act on, not protocol errors. A call that has not run
// has no result of the tool, so it cannot be structured content matching its output schema: a
// clear message says where it stands instead (not an error: nothing failed).
func callResult(tool string, res *ExecResult, err error) *mcp.CallToolResult {
	if err != nil {
		var te *toolcall.Error
		if errors.As(err, &te) {
			return errorResult(te.Describe())
		}
		return errorResult("the tool call failed")
	}
	switch res.Status {
	case StatusPendingApproval, StatusRunning:
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: pendingText(tool, res)}}}
	}
	out, err := wireResult(res)
	if err != nil {
		return errorResult("the tool returned a result that is not JSON")
	}
	return out
}

// pendingText says where a call that has not ended stands and how to follow it.
func pendingText(tool string, res *ExecResult) string {
	if r := res.Approval; res.Status == StatusPendingApproval && r != nil {
		return fmt.Sprintf("Approval required: %s has not run. Request %s waits for a person with one of the roles %v (%s); it expires in %s. "+
			"Follow the call with GET /executions/%s on this server (or tasks/get with that task ID); approvers decide with POST /approvals/%s/decision.",
			tool, r.ID, r.ApproverRoles, r.Reason, expiresIn(r.ExpiresAt), res.WorkflowID, r.ID)
	}
	return fmt.Sprintf("%s has not finished yet; follow the call with GET /executions/%s on this server (or tasks/get with that task ID).", tool, res.WorkflowID)
}

// completeResult is a tools/call result marked resultType "complete", as the 2026-07-28
// revision wants every final result (the SDK marks the results of the tool handlers it calls;
// the middleware answers tools/call itself).
type completeResult struct{ *mcp.CallToolResult }

// MarshalJSON is the result's JSON with "resultType": "complete".
func (r completeResult) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(r.CallToolResult)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	m["resultType"] = json.RawMessage(`"complete"`)
	return json.Marshal(m)
}

// complete marks res complete for a client of the 2026-07-28 revision or later.
func complete(req mcp.Request, res *mcp.CallToolResult) mcp.Result {
	if r, ok := req.(*mcp.CallToolRequest); ok && r.ProtocolVersion() >= "2026-07-28" {
		return completeResult{res}
	}
	return res
}

// wireResult is a tool's result as MCP tools/call answers it. The content blocks of a tool of
// a domain of kind mcp pass through as the upstream sent them, with its structuredContent and
// isError; any other tool's structured result is the structured content, with its JSON text as
// the one text block (for clients that read only content).
func wireResult(res *ExecResult) (*mcp.CallToolResult, error) {
	if res.Content == nil && !res.IsError {
		b, err := json.Marshal(res.Output)
		if err != nil {
			return nil, err
		}
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: string(b)}}, StructuredContent: res.Output}, nil
	}
	wire := map[string]any{"content": res.Content, "isError": res.IsError}
	if res.Content == nil {
		wire["content"] = []any{}
	}
	if res.Output != nil {
		wire["structuredContent"] = res.Output
	}
	b, err := json.Marshal(wire)
	if err != nil {
		return nil, err
	}
	var out mcp.CallToolResult
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func errorResult(msg string) *mcp.CallToolResult {
	return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: msg}}}
}
