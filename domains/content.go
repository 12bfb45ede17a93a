package domains

// Content is one MCP content block exactly as it travels on the wire: "type" (text, image,
// audio, resource_link, resource) and that type's fields (text, data, mimeType, uri, name,
// resource, annotations, _meta...). Keeping the wire form, rather than a struct per type, is
// what lets a block pass through the platform unchanged, fields it does not know included.
type Content = map[string]any

// Result is what an adapter returns for a tool whose answer is MCP content (the mcp kind)
// rather than one structured value. The platform carries it to every caller unchanged: MCP
// tools/call gets the same content, structuredContent and isError; POST /execute returns the
// content blocks beside the structured result; a chat's LLM reads the text and sees the images.
type Result struct {
	// Structured is the tool's structuredContent, or nil.
	Structured any `json:"structured,omitempty"`
	// Content are the content blocks, in order.
	Content []Content `json:"content,omitempty"`
	// IsError is the tool's own report that it failed (MCP isError): a result the caller and
	// the LLM read, not a failure of the platform.
	IsError bool `json:"is_error,omitempty"`
}

// Content block types of MCP.
const (
	ContentText         = "text"
	ContentImage        = "image"
	ContentAudio        = "audio"
	ContentResourceLink = "resource_link"
	ContentResource     = "resource"
)
