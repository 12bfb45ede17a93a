// Package synthetic generates big domain configurations of plausible tools, for the tests and
// benchmarks of large catalogs (a thousand tools and more): names, titles, descriptions and
// input schemas that vary like real ones, deterministically.
package synthetic

import (
	"fmt"

	"mcp-platform/domains"
	"mcp-platform/domains/domainconfig"
)

var (
	verbs = []string{"get", "list", "create", "update", "archive", "export", "sync", "validate", "assign", "close",
		"reopen", "merge", "tag", "schedule", "estimate", "forecast", "reconcile", "notify", "import", "summarize"}
	nouns = []string{"ticket", "asset", "vendor", "shipment", "contract", "lead", "campaign", "warehouse", "license",
		"device", "budget", "timesheet", "course", "policy", "incident", "supplier", "quote", "project", "room", "vehicle",
		"badge", "payroll_run", "survey", "refund", "subscription"}
	regions = []string{"north", "south", "east", "west", "central", "coastal", "alpine", "metro"}
)

// Domain returns a normalized configuration of domain name with n generated tools
// ("<name>.<verb>_<noun>_<i>"), every one executable by role, ready for registry.Register.
// It fails only when name or role are not valid names.
func Domain(name string, n int, role string) (*domains.Config, error) {
	cfg := &domains.Config{
		Name:        name,
		Description: fmt.Sprintf("Generated domain %s with %d tools, for tests and benchmarks of big catalogs.", name, n),
		Version:     "1",
		Permissions: []domains.Permission{{Role: role, Tools: []string{name + ".*"}}},
	}
	for i := range n {
		verb, noun := verbs[i%len(verbs)], nouns[(i/len(verbs))%len(nouns)]
		region := regions[(i/(len(verbs)*len(nouns)))%len(regions)]
		cfg.Tools = append(cfg.Tools, domains.Tool{
			Name:  fmt.Sprintf("%s_%s_%04d", verb, noun, i),
			Title: fmt.Sprintf("%s %s (%s)", verb, noun, region),
			Description: fmt.Sprintf("%ss the %s records of the %s region, batch %d. Use it when someone asks to %s a %s; "+
				"it returns the affected records with their identifiers, owners and status.", verb, noun, region, i, verb, noun),
			InputSchema: map[string]any{
				"type":                 "object",
				"additionalProperties": false,
				"required":             []any{"id"},
				"properties": map[string]any{
					"id":     map[string]any{"type": "string", "pattern": "^[A-Z]{2}-[0-9]{4}$", "description": "The " + noun + " identifier"},
					"region": map[string]any{"type": "string", "enum": []any{region, "all"}},
					"limit":  map[string]any{"type": "integer", "minimum": 1, "maximum": 500},
				},
			},
			Annotations: domains.Annotations{ReadOnly: verb == "get" || verb == "list" || verb == "export"},
		})
	}
	if err := domainconfig.Normalize(cfg); err != nil {
		return nil, fmt.Errorf("generate domain %s: %w", name, err)
	}
	return cfg, nil
}
