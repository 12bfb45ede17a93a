package platform

import (
	"mcp-platform/domains"
	"mcp-platform/domains/devops"
	"mcp-platform/domains/erp"
	"mcp-platform/domains/hr"
	"mcp-platform/domains/httpkind"
	"mcp-platform/domains/kit"
	"mcp-platform/domains/mcpkind"
	"mcp-platform/internal/llm/mock"
)

// BuiltinAdapters wires every domain adapter built into this binary: the builtin domains by name and
// the configuration-only kinds (mcp, http) by kind, with the builtin domains' demos for the mock
// LLM.
func BuiltinAdapters() Adapters {
	return Adapters{
		Builtin: map[string]kit.Factory{
			"hr":     hr.New,
			"erp":    erp.New,
			"devops": devops.New,
		},
		Kinds: map[string]kit.Factory{
			domains.KindMCP:  mcpkind.New,
			domains.KindHTTP: httpkind.New,
		},
		MockDemos: []mock.Demo{hr.MockDemo(), erp.MockDemo(), devops.MockDemo()},
	}
}
