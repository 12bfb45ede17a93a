package toolcall

import (
	"slices"
	"strings"
	"sync"

	"mcp-platform/authz"
	"mcp-platform/domains"
	"mcp-platform/domains/registry"
	"mcp-platform/toolcall/toolsearch"
)

// maxAllowedSets bounds the cache of allowed tool sets: past it the cache starts afresh, so a
// flood of distinct role and scope combinations costs recomputation, never unbounded memory.
const maxAllowedSets = 1024

// allowedSet is what one set of roles and scopes may call in one catalog version under one
// generation of the authorization rules. It is never modified once built.
type allowedSet struct {
	// entries are the allowed tools, in name order.
	entries []registry.Entry

	indexOnce sync.Once
	index     *toolsearch.Index
}

// searchIndex is the lexical index of the set's tools, built on first use.
func (s *allowedSet) searchIndex() *toolsearch.Index {
	s.indexOnce.Do(func() {
		docs := make([]toolsearch.Document, len(s.entries))
		for i, e := range s.entries {
			docs[i] = document(e)
		}
		s.index = toolsearch.New(docs)
	})
	return s.index
}

// allowedCache maps a principal's roles and scopes to their allowedSet. Its entries all belong
// to one catalog version and rules generation; a change of either empties it.
type allowedCache struct {
	mu         sync.Mutex
	version    uint64
	generation uint64
	sets       map[string]*allowedSet
}

// allowed returns the tools pr may call (whatever their domain's liveness) and which domains
// are live now. The enforcer decides for all tools at once (authz.Enforcer.Allowed), once per
// catalog version, rules generation and set of roles and scopes (the only parts of a principal
// the decision reads), so a thousand-tool catalog is not authorized anew on every request.
func (p *Planner) allowed(pr authz.Principal) (*allowedSet, map[string]bool) {
	// The generation is read before the catalog: rules that change in between bump it, so a
	// set computed from newer rules is at worst cached under an older, already stale key.
	gen := p.Authz.Generation()
	tools, version, live := p.Catalog.Snapshot()
	key := principalKey(pr)

	c := &p.allowedCache
	c.mu.Lock()
	if c.sets == nil || c.version != version || c.generation != gen || len(c.sets) >= maxAllowedSets {
		c.sets, c.version, c.generation = map[string]*allowedSet{}, version, gen
	}
	set := c.sets[key]
	c.mu.Unlock()
	if set != nil {
		return set, live
	}

	names := make([]string, len(tools))
	for i, e := range tools {
		names[i] = e.Tool.Name
	}
	set = &allowedSet{}
	for i, ok := range p.Authz.Allowed(pr, domains.ActionExecute, names) {
		if ok {
			set.entries = append(set.entries, tools[i])
		}
	}
	c.mu.Lock()
	if c.version == version && c.generation == gen {
		c.sets[key] = set
	}
	c.mu.Unlock()
	return set, live
}

// principalKey is what authorization reads of a principal: its roles and its scopes, order and
// repeats aside.
func principalKey(pr authz.Principal) string {
	norm := func(list []string) string {
		l := slices.Clone(list)
		slices.Sort(l)
		return strings.Join(slices.Compact(l), "\x00")
	}
	return norm(pr.Roles) + "\x01" + norm(pr.Scopes)
}
