package domains

import "strings"

// MaxSafeNameLen is the longest tool name strict clients accept (OpenAI function names and
// several MCP clients allow at most 64 characters of [A-Za-z0-9_-]).
const MaxSafeNameLen = 64

// safeSep joins domain and tool in safe names. Domain names cannot contain "__", so the first
// "__" of a safe name always ends the domain.
const safeSep = "__"

// SafeName maps a namespaced tool name ("hr.get_employee") to the name published to LLMs and
// MCP clients ("hr__get_employee"), which uses only [a-z0-9_] so that strict clients accept it.
func SafeName(tool string) string {
	return strings.Replace(tool, ".", safeSep, 1)
}

// FromSafeName maps a published name back to the namespaced tool name. It also accepts the
// namespaced name itself, for lenient clients.
func FromSafeName(name string) (string, bool) {
	if d, t, ok := strings.Cut(name, safeSep); ok && d != "" && t != "" {
		return d + "." + t, true
	}
	if d, t, ok := strings.Cut(name, "."); ok && d != "" && t != "" {
		return name, true
	}
	return "", false
}

// DomainOf returns the domain part of a namespaced tool name.
func DomainOf(tool string) string {
	d, _, _ := strings.Cut(tool, ".")
	return d
}

// Values of MCPSource.Publish.
const (
	PublishPrefixed   = "prefixed"
	PublishUnprefixed = "unprefixed"
)

// Unprefixed reports whether /mcp publishes the domain's tools by their short names (an
// option of domains of kind mcp only).
func (c *Config) Unprefixed() bool {
	return c != nil && c.Kind == KindMCP && c.MCP != nil && c.MCP.Publish == PublishUnprefixed
}

// PublishedName is the name /mcp publishes a tool of domain c by: its short name when the
// domain publishes unprefixed names, its SafeName otherwise.
func (c *Config) PublishedName(tool string) string {
	if c.Unprefixed() {
		if short, ok := strings.CutPrefix(tool, c.Name+"."); ok {
			return short
		}
	}
	return SafeName(tool)
}
