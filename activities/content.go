package activities

import (
	"strconv"
	"strings"

	"mcp-platform/domains"
	"mcp-platform/internal/redact"
)

// RedactContent returns a copy of MCP content blocks with the sensitive fields and the secrets
// in text masked as redact.Value masks them (binary data passes unchanged: it holds no field
// names, and masking inside it would corrupt it).
func RedactContent(blocks []domains.Content, sensitive ...string) []domains.Content {
	if blocks == nil {
		return nil
	}
	out := make([]domains.Content, len(blocks))
	for i, b := range blocks {
		data, hasData := b["data"].(string)
		shown, _ := redact.Value(map[string]any(b), sensitive...).(map[string]any)
		if hasData {
			shown["data"] = data
		}
		if r, ok := b["resource"].(map[string]any); ok {
			if blob, ok := r["blob"].(string); ok {
				if sr, ok := shown["resource"].(map[string]any); ok {
					sr["blob"] = blob
				}
			}
		}
		out[i] = shown
	}
	return out
}

// ContentText joins the text of the text blocks (and of embedded text resources) of content.
func ContentText(blocks []domains.Content) string {
	var parts []string
	for _, b := range blocks {
		switch b["type"] {
		case domains.ContentText:
			if t, ok := b["text"].(string); ok {
				parts = append(parts, t)
			}
		case domains.ContentResource:
			if r, ok := b["resource"].(map[string]any); ok {
				if t, ok := r["text"].(string); ok {
					parts = append(parts, t)
				}
			}
		}
	}
	return strings.Join(parts, "\n")
}

// maxAuditMessage bounds a tool's own error text in the audit row.
const maxAuditMessage = 2000

func clip(s string) string {
	if len(s) <= maxAuditMessage {
		return s
	}
	return strings.ToValidUTF8(s[:maxAuditMessage], "") + "…"
}

// auditView is what the audit log keeps of a tool's output: a *domains.Result with its binary
// data (images, audio, blobs) replaced by its size, so that the log records what was returned
// without holding every image a tool ever produced.
func auditView(out any) any {
	r, ok := out.(*domains.Result)
	if !ok {
		return out
	}
	blocks := make([]domains.Content, len(r.Content))
	for i, b := range r.Content {
		c := make(domains.Content, len(b))
		for k, v := range b {
			c[k] = v
		}
		if d, ok := b["data"].(string); ok {
			c["data"] = binaryNote(d)
		}
		if res, ok := b["resource"].(map[string]any); ok {
			if blob, ok := res["blob"].(string); ok {
				rc := make(map[string]any, len(res))
				for k, v := range res {
					rc[k] = v
				}
				rc["blob"] = binaryNote(blob)
				c["resource"] = rc
			}
		}
		blocks[i] = c
	}
	return &domains.Result{Structured: r.Structured, Content: blocks, IsError: r.IsError}
}

func binaryNote(encoded string) string {
	return "[binary data, " + strconv.Itoa(len(encoded)) + " bytes base64, not kept in the audit log]"
}
