package kit

import (
	"mcp-platform/domains"

	"context"
	"fmt"
	"sort"
)

// Handler executes one tool of a builtin domain. The Router hands it a call whose Args are never
// nil.
type Handler func(ctx context.Context, call domains.Call) (any, error)

// Router dispatches a builtin domain's calls to its handlers by tool name. An adapter declares its
// tools once, in Handlers, and the same map serves its calls, lists its tools and checks its
// configuration, so the three cannot disagree.
type Router struct {
	// Domain is the domain's name ("hr"), used in error messages.
	Domain string
	// Handlers maps each namespaced tool name ("hr.get_employee") to its handler.
	Handlers map[string]Handler
}

// Call runs the handler of call.Tool, with empty Args when call has none, and returns what it
// returns. A tool without a handler is domains.CodeNotFound.
func (r Router) Call(ctx context.Context, call domains.Call) (any, error) {
	h, ok := r.Handlers[call.Tool]
	if !ok {
		return nil, domains.Errorf(domains.CodeNotFound, "the %s domain has no tool %q", r.Domain, call.Tool)
	}
	if call.Args == nil {
		call.Args = map[string]any{}
	}
	return h(ctx, call)
}

// Names returns the names of the tools r serves, sorted.
func (r Router) Names() []string {
	names := make([]string, 0, len(r.Handlers))
	for name := range r.Handlers {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// CheckServes fails when cfg declares a tool r has no handler for, so that a typo in the YAML is
// found when the worker starts rather than on the first call. A nil cfg passes.
func (r Router) CheckServes(cfg *domains.Config) error {
	if cfg == nil {
		return nil
	}
	for _, t := range cfg.Tools {
		if _, ok := r.Handlers[t.Name]; !ok {
			return fmt.Errorf("configuration %s declares tool %q, which the %s adapter does not serve", cfg.File, t.Name, r.Domain)
		}
	}
	return nil
}
