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
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"mcp-platform/authz"
	"mcp-platform/domains"
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
	"Tool names are <domain>__<tool>. You only see the tools your identity may use; every call is " +
	"authorized, validated and audited, and a failed call returns isError with an explanation you can act on."

// addMCP serves the Model Context Protocol at /mcp (Streamable HTTP, stateless) behind bearer
// authentication as an OAuth resource server.
func addMCP(mux *http.ServeMux, deps Deps) {
	servers := &toolServers{}
	handler := mcp.NewStreamableHTTPHandler(func(r *http.Request) *mcp.Server {
		p, _ := principalOf(r.Context())
		return servers.get(deps, p)
	}, &mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true, Logger: deps.Logger})

	metadataURL := deps.PublicURL + protectedResourcePath + "/mcp"
	mux.Handle("/mcp", requireBearer(deps, metadataURL, withTokenInfo(limitMCP(deps.RateLimit, principalOf, handler))))

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

// newToolServer builds the MCP server of the visible tools, in name order. Calls to other known
// tools still reach the executor, so a denied call is refused plainly and audited rather than
// reported as unknown.
func newToolServer(deps Deps, visible []toolcall.Visible) *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "mcp-platform", Title: "MCP Platform", Version: version.Version},
		&mcp.ServerOptions{PageSize: mcpPageSize, Instructions: instructions, Logger: deps.Logger})
	listed := map[string]bool{}
	for _, v := range visible {
		s.AddTool(mcpTool(v.Entry), toolHandler(deps, v.Tool.Name))
		listed[domains.SafeName(v.Tool.Name)] = true
	}
	s.AddReceivingMiddleware(func(next mcp.MethodHandler) mcp.MethodHandler {
		return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
			if method != "tools/call" {
				return next(ctx, method, req)
			}
			params, ok := req.GetParams().(*mcp.CallToolParamsRaw)
			if !ok || listed[params.Name] {
				return next(ctx, method, req)
			}
			name, ok := domains.FromSafeName(params.Name)
			if _, known := deps.Catalog.Lookup(name); !ok || !known {
				return next(ctx, method, req)
			}
			return toolHandler(deps, name)(ctx, &mcp.CallToolRequest{Params: params, Extra: req.GetExtra()})
		}
	})
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
		Name:        domains.SafeName(t.Name),
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
// errors. The call is a span whose parent is the trace context in the request's _meta (MCP's
// convention, SEP-414) when the client sent one, and the HTTP request's otherwise.
func toolHandler(deps Deps, tool string) mcp.ToolHandler {
	return func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		p, ok := callerOf(req.GetExtra())
		if !ok {
			return errorResult("the request is not authenticated"), nil
		}
		ctx = telemetry.Propagator().Extract(ctx, telemetry.MetaCarrier(req.Params.Meta))
		ctx, span := telemetry.Tracer().Start(ctx, "tools/call "+tool, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String("mcp.method.name", "tools/call"), attribute.String("gen_ai.tool.name", tool)))
		defer span.End()
		var args map[string]any
		if raw := req.Params.Arguments; len(raw) > 0 && string(raw) != "null" {
			if err := json.Unmarshal(raw, &args); err != nil {
				return errorResult("the arguments must be a JSON object"), nil
			}
		}
		res, err := deps.Executor.Execute(ctx, p, tool, args)
		if err != nil {
			var te *toolcall.Error
			if errors.As(err, &te) {
				return errorResult(te.Describe()), nil
			}
			return errorResult("the tool call failed"), nil
		}
		// A call that has not run has no result of the tool, so it cannot be structured content
		// matching its output schema: a clear, actionable message instead.
		switch res.Status {
		case StatusPendingApproval:
			r := res.Approval
			return errorResult(fmt.Sprintf("Approval required: %s has not run. Request %s waits for a person with one of the roles %v (%s); it expires in %s. "+
				"Follow the call with GET /executions/%s on this server; approvers decide with POST /approvals/%s/decision.",
				tool, r.ID, r.ApproverRoles, r.Reason, expiresIn(r.ExpiresAt), res.WorkflowID, r.ID)), nil
		case StatusRunning:
			return errorResult(fmt.Sprintf("%s has not finished yet; follow the call with GET /executions/%s on this server.", tool, res.WorkflowID)), nil
		}
		out, err := callResult(res)
		if err != nil {
			deps.Logger.Error("a tool result could not be encoded for MCP", "tool", tool, "error", err)
			return errorResult("the tool returned a result that is not JSON"), nil
		}
		return out, nil
	}
}

// callResult is a tool's result as MCP tools/call answers it. The content blocks of a tool of
// a domain of kind mcp pass through as the upstream sent them, with its structuredContent and
// isError; any other tool's structured result is the structured content, with its JSON text as
// the one text block (for clients that read only content).
func callResult(res *ExecResult) (*mcp.CallToolResult, error) {
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
