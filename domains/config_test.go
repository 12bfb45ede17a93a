package domains_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"mcp-platform/domains"
)

func TestTighten(t *testing.T) {
	tests := []struct {
		name       string
		upstream   domains.Annotations
		configured domains.Annotations
		want       domains.Annotations
	}{
		{name: "OK nothing configured keeps the upstream's hints",
			upstream: domains.Annotations{ReadOnly: true, Idempotent: true},
			want:     domains.Annotations{ReadOnly: true, Idempotent: true}},
		{name: "OK destructive is added and ends read-only",
			upstream:   domains.Annotations{ReadOnly: true, Idempotent: true},
			configured: domains.Annotations{Destructive: true},
			want:       domains.Annotations{Destructive: true, Idempotent: true}},
		{name: "OK open world and approval are added",
			configured: domains.Annotations{OpenWorld: true, RequiresApproval: true},
			want:       domains.Annotations{OpenWorld: true, RequiresApproval: true}},
		{name: "OK read-only and idempotent cannot be claimed for a writing tool",
			upstream:   domains.Annotations{Destructive: true, OpenWorld: true},
			configured: domains.Annotations{ReadOnly: true, Idempotent: true},
			want:       domains.Annotations{Destructive: true, OpenWorld: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, tt.upstream.Tighten(tt.configured))
		})
	}
}

func TestAtMostOnce(t *testing.T) {
	mcpDomain := &domains.Config{Kind: domains.KindMCP}
	tests := []struct {
		name string
		cfg  *domains.Config
		tool *domains.Tool
		want bool
	}{
		{name: "OK a writing upstream tool", cfg: mcpDomain, tool: &domains.Tool{}, want: true},
		{name: "OK read-only", cfg: mcpDomain, tool: &domains.Tool{Annotations: domains.Annotations{ReadOnly: true}}},
		{name: "OK idempotent", cfg: mcpDomain, tool: &domains.Tool{Annotations: domains.Annotations{Idempotent: true}}},
		{name: "OK retry_safe in the YAML", cfg: mcpDomain, tool: &domains.Tool{RetrySafe: true}},
		{name: "OK builtin tools honour the idempotency key", cfg: &domains.Config{Kind: domains.KindBuiltin}, tool: &domains.Tool{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, tt.cfg.AtMostOnce(tt.tool))
		})
	}
}
