package platform

import (
	"testing"

	"github.com/stretchr/testify/require"

	"mcp-platform/domains"
)

func TestWorkerSelection(t *testing.T) {
	off := false
	cfgs := []*domains.Config{{Name: "hr"}, {Name: "erp"}, {Name: "legacy", Enabled: &off}}
	names := func(cs []*domains.Config) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.Name)
		}
		return out
	}
	tests := []struct {
		name string
		sel  WorkerSelection
		want []string
	}{
		{"OK orchestrator alone runs no domain", WorkerSelection{Orchestrator: true}, nil},
		{"OK named domains only", WorkerSelection{Domains: []string{"erp"}}, []string{"erp"}},
		{"OK all enabled domains", WorkerSelection{AllDomains: true}, []string{"hr", "erp"}},
		{"OK a disabled domain runs when named", WorkerSelection{Domains: []string{"legacy"}}, []string{"legacy"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.sel.pick(cfgs)
			require.NoError(t, err)
			require.Equal(t, tt.want, names(got))
		})
	}
	t.Run("ErrUnknownDomain", func(t *testing.T) {
		_, err := WorkerSelection{Domains: []string{"crm"}}.pick(cfgs)
		require.ErrorContains(t, err, `domain "crm"`)
	})
}
