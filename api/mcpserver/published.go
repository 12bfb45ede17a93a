package mcpserver

import (
	"context"
	"encoding/json"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"mcp-platform/domains"
	"mcp-platform/toolcall"
)

// Tools on /mcp are published by the names their domains choose (domains.Config.PublishedName:
// "<domain>__<tool>", or the upstream's own name for a domain that publishes unprefixed names),
// and a tool of a remote MCP server that runs as a task there is published with its
// execution.taskSupport, which the SDK's Tool cannot carry.

// taskSupport is the task support of a namespaced tool of the catalog (empty: plain calls).
func taskSupport(deps Deps, tool string) string {
	if e, ok := deps.Catalog.Lookup(tool); ok {
		return e.Tool.TaskSupport
	}
	return ""
}

// publishExecution adds the execution.taskSupport of the visible tools that declare one to the
// server's tools/list results.
func publishExecution(s *mcp.Server, visible []toolcall.Visible) {
	support := map[string]string{}
	for _, v := range visible {
		if v.Tool.TaskSupport != "" {
			support[v.Domain.Config.PublishedName(v.Tool.Name)] = v.Tool.TaskSupport
		}
	}
	PublishExecution(s, support)
}

// PublishExecution makes s publish each tool of support (by its name on s) with that
// execution.taskSupport in its tools/list results ("optional" or "required"), which the SDK's
// Tool has no field for.
func PublishExecution(s *mcp.Server, support map[string]string) {
	if len(support) == 0 {
		return
	}
	s.AddReceivingMiddleware(func(next mcp.MethodHandler) mcp.MethodHandler {
		return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
			res, err := next(ctx, method, req)
			if list, ok := res.(*mcp.ListToolsResult); ok && method == "tools/list" && err == nil {
				return listedTools{ListToolsResult: list, support: support}, nil
			}
			return res, err
		}
	})
}

// listedTools is a tools/list result whose tools carry their execution.taskSupport.
type listedTools struct {
	*mcp.ListToolsResult
	support map[string]string
}

// MarshalJSON is the result's JSON with "execution": {"taskSupport": ...} on each tool that
// declares task support.
func (r listedTools) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(r.ListToolsResult)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	var tools []map[string]any
	if err := json.Unmarshal(m["tools"], &tools); err != nil {
		return nil, err
	}
	for _, t := range tools {
		name, _ := t["name"].(string)
		if s := r.support[name]; s != "" {
			t["execution"] = map[string]any{"taskSupport": s}
		}
	}
	if m["tools"], err = json.Marshal(tools); err != nil {
		return nil, err
	}
	return json.Marshal(m)
}

// requiresTask reports whether a tool can only run as a task (its upstream requires it).
func requiresTask(support string) bool { return support == domains.TaskSupportRequired }
