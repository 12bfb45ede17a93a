package mcpserver

import (
	"github.com/danielgtaylor/huma/v2"
)

// ContentBlock is one MCP content block of a tool result, exactly as the upstream MCP server
// sent it (the wire form of the MCP specification's ContentBlock).
type ContentBlock map[string]any

// Schema documents the block in the OpenAPI document: the fields of each MCP content type,
// with further fields allowed, since blocks pass through unchanged.
func (ContentBlock) Schema(huma.Registry) *huma.Schema {
	str := func(doc string) *huma.Schema { return &huma.Schema{Type: huma.TypeString, Description: doc} }
	open := func(doc string) *huma.Schema {
		return &huma.Schema{Type: huma.TypeObject, Description: doc, AdditionalProperties: true}
	}
	return &huma.Schema{
		Type:        huma.TypeObject,
		Description: "An MCP content block: text (text), image or audio (data, mimeType), resource_link (uri, name, title, description, mimeType, size) or resource (an embedded resource with uri, mimeType and text or blob), each optionally with annotations and _meta.",
		Required:    []string{"type"},
		Properties: map[string]*huma.Schema{
			"type":        {Type: huma.TypeString, Enum: []any{"text", "image", "audio", "resource_link", "resource"}, Description: "The block's type"},
			"text":        str("The text of a text block"),
			"data":        {Type: huma.TypeString, Format: "byte", Description: "The base64 data of an image or audio block"},
			"mimeType":    str("The media type of an image, audio or resource_link block"),
			"uri":         str("The URI of a resource_link block"),
			"name":        str("The name of a resource_link block"),
			"title":       str("The title of a resource_link block"),
			"description": str("The description of a resource_link block"),
			"size":        {Type: huma.TypeInteger, Description: "The size in bytes of a resource_link's resource, when known"},
			"resource":    open("The embedded resource of a resource block: uri, mimeType, and text or blob (base64)"),
			"annotations": open("Hints for the client: audience (user, assistant), priority (0 to 1), lastModified"),
			"_meta":       open("Metadata the server attached to the block"),
		},
		AdditionalProperties: true,
	}
}
