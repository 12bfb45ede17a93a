package activities_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"mcp-platform/activities"
	"mcp-platform/domains"
	"mcp-platform/internal/llm"
)

func TestContentForLLM(t *testing.T) {
	tests := []struct {
		name       string
		blocks     []domains.Content
		structured any
		isError    bool
		want       string
	}{
		{name: "OK text is read as written, not re-wrapped",
			blocks: []domains.Content{{"type": "text", "text": "Echo: hi"}}, want: "Echo: hi"},
		{name: "OK every other block is described",
			blocks: []domains.Content{
				{"type": "text", "text": "Here:"},
				{"type": "image", "data": "AAAA", "mimeType": "image/png"},
				{"type": "audio", "data": "AAAAAAAA", "mimeType": "audio/wav"},
				{"type": "resource_link", "uri": "https://x.example/1", "name": "r1", "title": "Resource 1", "mimeType": "text/plain", "description": "The first"},
				{"type": "resource", "resource": map[string]any{"uri": "demo://2", "mimeType": "text/plain", "text": "Two"}},
				{"type": "resource", "resource": map[string]any{"uri": "demo://3", "mimeType": "application/pdf", "blob": "AAAA"}},
			},
			want: "Here:\n[image: image/png, 3 bytes]\n[audio: audio/wav, 6 bytes]\n[resource link: Resource 1 <https://x.example/1> (text/plain): The first]\n" +
				"[resource <demo://2> (text/plain)]\nTwo\n[resource <demo://3> (application/pdf), 3 bytes]"},
		{name: "OK structured content when no block has text",
			blocks: []domains.Content{}, structured: map[string]any{"temperature": 36}, want: `{"temperature":36}`},
		{name: "OK the tool's own error says so",
			blocks: []domains.Content{{"type": "text", "text": "page 7 is protected"}}, isError: true,
			want: "The tool reported an error:\npage 7 is protected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := activities.ContentForLLM(tt.blocks, tt.structured, tt.isError)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestContentImages(t *testing.T) {
	t.Run("OK images of stored content, in order", func(t *testing.T) {
		stored := []any{
			map[string]any{"type": "text", "text": "x"},
			map[string]any{"type": "image", "data": "AAAA", "mimeType": "image/png"},
			map[string]any{"type": "audio", "data": "BBBB", "mimeType": "audio/wav"},
		}
		require.Equal(t, []llm.Image{{MIMEType: "image/png", Data: "AAAA"}}, activities.ContentImages(stored))
		require.Nil(t, activities.ContentImages(nil))
	})
}
