package registry

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"mcp-platform/domains"
	"mcp-platform/domains/domainconfig"
	"mcp-platform/internal/store"
)

// RefreshInterval is how often a Catalog re-reads the registry, for the liveness of domains
// (heartbeats are not announced) and in case an announcement was lost.
const RefreshInterval = 2 * time.Second

// Channel is the Postgres NOTIFY channel on which the registry announces a domain registered,
// forgotten or left by a worker (the payload is the domain's name), so that catalogs re-read
// it at once instead of on every use.
const Channel = "mcp_registry"

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
	// published maps each name /mcp publishes a tool by to the tool's namespaced name.
	published map[string]string
	// version counts the changes of the domains' configurations (tools, permissions), so
	// that views derived from them can be cached until the next change.
	version uint64
	now     time.Time

	// listening is true while Run follows the registry's announcements; changes counts the
	// announcements (and reconnects) seen, read the value of changes the last read began at.
	listening atomic.Bool
	changes   atomic.Int64
	read      atomic.Int64
	// changed wakes Run to re-read the registry after an announcement.
	changed chan struct{}
	// outage is set while refreshes fail: the registry's database (where the workers'
	// heartbeats go too) does not answer. liveBefore is which domains were live then.
	outage     bool
	liveBefore map[string]bool
	// graceUntil: until then (the registry's clock) the domains of liveBefore count as live,
	// because the heartbeats they missed during the outage say nothing about their workers.
	graceUntil time.Time
}

// NewCatalog returns an empty catalog; call Refresh or Run to fill it.
func NewCatalog(reg *Registry, sink PolicySink, logger *slog.Logger) *Catalog {
	c := &Catalog{reg: reg, sink: sink, logger: logger, domains: map[string]*Domain{}, tools: map[string]Entry{},
		changed: make(chan struct{}, 1)}
	c.read.Store(-1) // nothing read yet
	return c
}

// Run refreshes the catalog every RefreshInterval, and at once when the registry announces a
// change, until ctx ends.
func (c *Catalog) Run(ctx context.Context) {
	go c.follow(ctx)
	t := time.NewTicker(RefreshInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-c.changed:
		}
		if err := c.Refresh(ctx); err != nil && ctx.Err() == nil {
			c.logger.Warn("tool registry refresh failed; serving the previous view", "error", err)
		}
	}
}

// Sync brings the catalog up to date for a caller that must see the registry as it is now (the
// tools offered to the LLM): it re-reads the registry unless the catalog follows its
// announcements (Run) and none came since the last read, so an unchanged registry costs no
// query. Liveness is then as of the last periodic read, at most RefreshInterval old.
func (c *Catalog) Sync(ctx context.Context) error {
	if c.listening.Load() && c.read.Load() == c.changes.Load() {
		return nil
	}
	return c.Refresh(ctx)
}

// Following reports whether the catalog follows the registry's announcements now (Run is
// listening), so that Sync reads only after a change.
func (c *Catalog) Following() bool { return c.listening.Load() }

// follow listens for the registry's announcements until ctx ends, reconnecting after failures.
// Announcements may have been missed while not listening: a (re)connection counts as a change.
func (c *Catalog) follow(ctx context.Context) {
	store.Listen(ctx, c.reg.pool, Channel, c.logger, store.Handlers{
		Connected: func() {
			c.announce()
			c.listening.Store(true)
		},
		Disconnected: func() { c.listening.Store(false) },
		Notified:     func(string) { c.announce() },
	})
}

// announce records a change of the registry and wakes Run to read it.
func (c *Catalog) announce() {
	c.changes.Add(1)
	select {
	case c.changed <- struct{}{}:
	default:
	}
}

// Refresh re-reads the registry. A domain whose stored configuration is invalid (for example a
// tool or permission outside its namespace) is left out and logged, never trusted.
func (c *Catalog) Refresh(ctx context.Context) error {
	// What this read will have seen: announcements after this point need another.
	seen := c.changes.Load()
	list, now, err := c.reg.Domains(ctx)
	if err != nil {
		c.markOutage()
		return err
	}
	next := map[string]*Domain{}
	tools := map[string]Entry{}
	c.mu.RLock()
	prev := c.domains
	c.mu.RUnlock()
	for _, d := range list {
		name := d.Config.Name
		if old := prev[name]; old != nil && bytes.Equal(old.stored, d.stored) {
			// Unchanged since the last read: keep the checked configuration (checking compiles
			// every schema, and the registry is read every RefreshInterval).
			d.Config = old.Config
		} else if err := domainconfig.Normalize(d.Config); err != nil {
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
	published := c.publishedNames(sorted)

	c.mu.Lock()
	changed := c.applyPolicies(next)
	if changed {
		c.version++
	}
	changed = changed || c.liveness(now) != liveness(next, now)
	c.domains, c.tools, c.sorted, c.published, c.now = next, tools, sorted, published, now
	if c.read.Load() < seen {
		c.read.Store(seen)
	}
	if c.outage {
		// The database is back; give the workers one liveness period to heartbeat again.
		c.outage, c.graceUntil = false, now.Add(LiveAfter)
	}
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

// markOutage records, on the first failed refresh of an outage, which domains were live.
func (c *Catalog) markOutage() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.outage {
		return
	}
	c.outage = true
	c.liveBefore = map[string]bool{}
	for name, d := range c.domains {
		if c.liveLocked(name, d) {
			c.liveBefore[name] = true
		}
	}
}

// liveLocked reports whether domain d, named name, counts as live. Callers hold c.mu.
func (c *Catalog) liveLocked(name string, d *Domain) bool {
	return d.Live(c.now) || (c.now.Before(c.graceUntil) && c.liveBefore[name])
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

// publishedNames maps the name /mcp publishes each tool by to the tool. Registration refuses a
// domain whose published names clash with another's (ErrNameTaken); should a clash be stored
// anyway, the first tool in name order keeps the name and the clash is logged.
func (c *Catalog) publishedNames(sorted []Entry) map[string]string {
	out := make(map[string]string, len(sorted))
	for _, e := range sorted {
		name := e.Domain.Config.PublishedName(e.Tool.Name)
		if other, taken := out[name]; taken {
			c.logger.Error("two tools are published on /mcp under one name; the second is not reachable by it", "name", name, "tool", other, "other", e.Tool.Name)
			continue
		}
		out[name] = e.Tool.Name
	}
	return out
}

// Resolve maps a tool name a client of /mcp sent to the tool's namespaced name: a name the
// catalog publishes, or else (for lenient clients) a "<domain>__<tool>" or "<domain>.<tool>"
// name of a known tool.
func (c *Catalog) Resolve(name string) (string, bool) {
	c.mu.RLock()
	tool, ok := c.published[name]
	c.mu.RUnlock()
	if ok {
		return tool, true
	}
	tool, ok = domains.FromSafeName(name)
	if !ok {
		return "", false
	}
	_, known := c.Lookup(tool)
	return tool, known
}

// Live reports whether the domain has a worker that heartbeat recently, judged at the time
// of the last refresh. After the registry's database was unreachable, a domain that was live
// before stays live for LiveAfter, the time its workers need to heartbeat again: missed
// heartbeats then mean the database was down, not the workers.
func (c *Catalog) Live(domain string) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	d, ok := c.domains[domain]
	return ok && c.liveLocked(domain, d)
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
