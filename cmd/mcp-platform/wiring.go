package main

import (
	"mcp-platform/domains"
	"mcp-platform/domains/devops"
	"mcp-platform/domains/erp"
	"mcp-platform/domains/hr"
	"mcp-platform/domains/httpkind"
	"mcp-platform/domains/mcpkind"
	"mcp-platform/internal/roles"
)

// adapters wires every domain adapter built into this binary: the builtin domains by name and
// the configuration-only kinds (mcp, http) by kind.
func adapters() roles.Adapters {
	return roles.Adapters{
		Builtin: map[string]domains.Factory{
			"hr":     hr.New,
			"erp":    erp.New,
			"devops": devops.New,
		},
		Kinds: map[string]domains.Factory{
			domains.KindMCP:  mcpkind.New,
			domains.KindHTTP: httpkind.New,
		},
	}
}
