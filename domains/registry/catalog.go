package registry

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"sort"
	"sync"
	"time"

	"mcp-platform/domains"
	"mcp-platform/domains/domainconfig"
)

// RefreshInterval is how often a Catalog re-reads the registry.
const RefreshInterval = 2 * time.Second

// PolicySink receives each domain's permissions when the catalog sees them change (the Casbin
// enforcer). SetDomainPolicies must reject patterns outside the domain's namespace.
type PolicySink interface {
	SetDomainPolicies(domain string, perms []domains.Permission) error
	RemoveDomain(domain string)
}

// Entry is one tool as the catalog knows it.
type Entry struct {
	Tool   *domains.Tool
	Domain *Domain
}

// Catalog is an in-memory view of the registry, refreshed in the background, that the API and
// MCP server consult on every request. It is safe for concurrent use.
type Catalog struct {
	reg    *Registry
	sink   PolicySink
	logger *slog.Logger

	mu      sync.RWMutex
	domains map[string]*Domain
	tools   map[string]Entry
	// sorted holds the entries of tools in name order, built once per refresh: the tool list
	// is read on every request, and a big catalog must not be sorted on each.
	sorted []Entry
	// version counts the changes of the domains' configurations (tools, permissions), so
	// that views derived from them can be cached until the next change.
	version uint64
	now     time.Time
}

// NewCatalog returns an empty catalog; call Refresh or Run to fill it.
func NewCatalog(reg *Registry, sink PolicySink, logger *slog.Logger) *Catalog {
	return &Catalog{reg: reg, sink: sink, logger: logger, domains: map[string]*Domain{}, tools: map[string]Entry{}}
}

// Run refreshes the catalog every RefreshInterval until ctx ends.
func (c *Catalog) Run(ctx context.Context) {
	t := time.NewTicker(RefreshInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := c.Refresh(ctx); err != nil && ctx.Err() == nil {
				c.logger.Warn("tool registry refresh failed; serving the previous view", "error", err)
			}
		}
	}
}

// Refresh re-reads the registry. A domain whose stored configuration is invalid (for example a
// tool or permission outside its namespace) is left out and logged, never trusted.
func (c *Catalog) Refresh(ctx context.Context) error {
	list, now, err := c.reg.Domains(ctx)
	if err != nil {
		return err
	}
	next := map[string]*Domain{}
	tools := map[string]Entry{}
	for _, d := range list {
		name := d.Config.Name
		if err := domainconfig.Normalize(d.Config); err != nil {
			c.logger.Error("ignoring invalid registered domain", "domain", name, "error", err)
			continue
		}
		if !d.Config.IsEnabled() {
			continue
		}
		next[name] = d
		for i := range d.Config.Tools {
			t := &d.Config.Tools[i]
			tools[t.Name] = Entry{Tool: t, Domain: d}
		}
	}

	sorted := make([]Entry, 0, len(tools))
	for _, e := range tools {
		sorted = append(sorted, e)
	}
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Tool.Name < sorted[j].Tool.Name })

	c.mu.Lock()
	changed := c.applyPolicies(next)
	if changed {
		c.version++
	}
	changed = changed || c.liveness(now) != liveness(next, now)
	c.domains, c.tools, c.sorted, c.now = next, tools, sorted, now
	c.mu.Unlock()
	if changed {
		c.logger.Info("tool registry changed", "domains", len(next), "tools", len(tools))
	}
	return nil
}

// applyPolicies pushes changed permissions to the sink and reports whether any domain was
// added, removed or changed. Callers hold c.mu.
func (c *Catalog) applyPolicies(next map[string]*Domain) bool {
	changed := false
	for name, d := range next {
		old, ok := c.domains[name]
		if ok && reflect.DeepEqual(old.Config, d.Config) {
			continue
		}
		changed = true
		if c.sink == nil {
			continue
		}
		if err := c.sink.SetDomainPolicies(name, d.Config.Permissions); err != nil {
			c.logger.Error("refusing domain permissions", "domain", name, "error", err)
			c.sink.RemoveDomain(name)
		}
	}
	for name := range c.domains {
		if _, ok := next[name]; !ok {
			changed = true
			if c.sink != nil {
				c.sink.RemoveDomain(name)
			}
		}
	}
	return changed
}

func (c *Catalog) liveness(now time.Time) string { return liveness(c.domains, now) }

func liveness(ds map[string]*Domain, now time.Time) string {
	names := make([]string, 0, len(ds))
	for n, d := range ds {
		if d.Live(now) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return fmt.Sprint(names)
}

// Domains returns the enabled domains, ordered by name, and the registry clock of the last
// refresh (for liveness).
func (c *Catalog) Domains() ([]*Domain, time.Time) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]*Domain, 0, len(c.domains))
	for _, d := range c.domains {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Config.Name < out[j].Config.Name })
	return out, c.now
}

// Lookup finds a tool by namespaced name.
func (c *Catalog) Lookup(tool string) (Entry, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.tools[tool]
	return e, ok
}

// Live reports whether the domain has a worker that heartbeat recently, judged at the time
// of the last refresh.
func (c *Catalog) Live(domain string) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	d, ok := c.domains[domain]
	return ok && d.Live(c.now)
}

// Tools returns every tool of the enabled domains, ordered by name. The slice is the caller's.
func (c *Catalog) Tools() []Entry {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return slices.Clone(c.sorted)
}

// Version identifies the domains' configurations the catalog holds: it changes whenever a
// domain is added, removed or changes its tools or permissions (not when only a worker's
// liveness changes), so what is derived from them may be cached under it.
func (c *Catalog) Version() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.version
}

// Snapshot returns the tools of the enabled domains in name order, the configuration version
// they belong to and the domains whose workers are live, read together: a cache keyed by the
// version then never holds tools of another version. The slice is shared: do not modify it.
func (c *Catalog) Snapshot() (tools []Entry, version uint64, live map[string]bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	live = make(map[string]bool, len(c.domains))
	for name, d := range c.domains {
		live[name] = d.Live(c.now)
	}
	return c.sorted, c.version, live
}

// SensitiveFields returns the sensitive field names of every tool of the enabled domains (the
// domains' and the tools' own), sorted and without repeats, for masking payloads whose tool is
// not known, as the codec server decodes them.
func (c *Catalog) SensitiveFields() []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	seen := map[string]bool{}
	var out []string
	for _, e := range c.tools {
		for _, f := range e.Domain.Config.Sensitive(e.Tool) {
			if !seen[f] {
				seen[f] = true
				out = append(out, f)
			}
		}
	}
	sort.Strings(out)
	return out
}
