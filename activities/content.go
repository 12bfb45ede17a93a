package activities

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"mcp-platform/domains"
	"mcp-platform/internal/llm"
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

// ContentForLLM is the text a model reads for a tool result made of MCP content blocks: text
// blocks as the tool wrote them (not re-wrapped in JSON), and a faithful description of every
// other block (an image's type and size, a link's name and URI, an embedded resource's text);
// the structured content, as JSON, when no block carries text; and a first line saying so when
// the tool reported an error. Images themselves reach models that can see them through
// ContentImages.
func ContentForLLM(blocks []domains.Content, structured any, isError bool) (string, error) {
	var parts []string
	if isError {
		parts = append(parts, "The tool reported an error:")
	}
	hasText := false
	for _, b := range blocks {
		str := func(k string) string { s, _ := b[k].(string); return s }
		switch b["type"] {
		case domains.ContentText:
			parts, hasText = append(parts, str("text")), true
		case domains.ContentImage, domains.ContentAudio:
			d := fmt.Sprintf("[%s: %s, %d bytes]", b["type"], cmp.Or(str("mimeType"), "unknown type"), decodedSize(str("data")))
			parts = append(parts, d)
		case domains.ContentResourceLink:
			d := fmt.Sprintf("[resource link: %s <%s>", cmp.Or(str("title"), str("name")), str("uri"))
			if m := str("mimeType"); m != "" {
				d += " (" + m + ")"
			}
			if desc := str("description"); desc != "" {
				d += ": " + desc
			}
			parts = append(parts, d+"]")
		case domains.ContentResource:
			r, _ := b["resource"].(map[string]any)
			uri, _ := r["uri"].(string)
			mime, _ := r["mimeType"].(string)
			if t, ok := r["text"].(string); ok {
				parts, hasText = append(parts, fmt.Sprintf("[resource <%s> (%s)]\n%s", uri, cmp.Or(mime, "text"), t)), true
			} else {
				blob, _ := r["blob"].(string)
				parts = append(parts, fmt.Sprintf("[resource <%s> (%s), %d bytes]", uri, cmp.Or(mime, "binary"), decodedSize(blob)))
			}
		default:
			b, err := json.Marshal(b)
			if err != nil {
				return "", err
			}
			parts = append(parts, string(b))
		}
	}
	if structured != nil && !hasText {
		b, err := json.Marshal(structured)
		if err != nil {
			return "", err
		}
		parts = append(parts, string(b))
	}
	return strings.Join(parts, "\n"), nil
}

// decodedSize is the size of the data a base64 string encodes.
func decodedSize(s string) int {
	s = strings.TrimRight(s, "=")
	return base64.RawStdEncoding.DecodedLen(len(s))
}

// ContentImages returns the image blocks of stored tool content (a []domains.Content, or the
// []any a stored message decodes to) as images a model can be shown.
func ContentImages(v any) []llm.Image {
	var blocks []map[string]any
	switch x := v.(type) {
	case []domains.Content:
		blocks = x
	case []any:
		for _, e := range x {
			if m, ok := e.(map[string]any); ok {
				blocks = append(blocks, m)
			}
		}
	}
	var out []llm.Image
	for _, b := range blocks {
		mime, _ := b["mimeType"].(string)
		data, _ := b["data"].(string)
		if b["type"] == domains.ContentImage && data != "" && mime != "" {
			out = append(out, llm.Image{MIMEType: mime, Data: data})
		}
	}
	return out
}
