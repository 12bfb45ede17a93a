package devstack

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/require"

	"mcp-platform/internal/config"
)

func TestUIURL(t *testing.T) {
	const embedded = "http://127.0.0.1:8233"
	settings := filepath.Join(t.TempDir(), "settings.yaml")
	require.NoError(t, os.WriteFile(settings, []byte("temporal:\n  ui_url: https://temporal.corp.example\n"), 0o600))
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"OK embedded when unset", nil, embedded},
		{"OK embedded when the variable is empty", map[string]string{"TEMPORAL_UI_URL": ""}, embedded},
		{"OK TEMPORAL_UI_URL", map[string]string{"TEMPORAL_UI_URL": "http://devbox.lan:8233"}, "http://devbox.lan:8233"},
		{"OK settings file", map[string]string{"MCP_CONFIG": settings}, "https://temporal.corp.example"},
		{"OK the variable wins over the file", map[string]string{"MCP_CONFIG": settings, "TEMPORAL_UI_URL": "http://devbox.lan:8233"},
			"http://devbox.lan:8233"},
	}
	t.Chdir(t.TempDir()) // no config/settings.yaml unless MCP_CONFIG names one
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Load(func(k string) string { return tt.env[k] })
			require.NoError(t, err)
			require.Equal(t, tt.want, uiURL(cfg, embedded))
		})
	}
}

func TestTuneGC(t *testing.T) {
	restore := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(restore) })

	t.Run("OK the dev target when GOGC is unset", func(t *testing.T) {
		debug.SetGCPercent(100)
		tuneGC(func(string) string { return "" })
		require.Equal(t, devGCPercent, debug.SetGCPercent(100))
	})
	t.Run("OK GOGC wins", func(t *testing.T) {
		debug.SetGCPercent(100)
		tuneGC(func(k string) string { return map[string]string{"GOGC": "100"}[k] })
		require.Equal(t, 100, debug.SetGCPercent(100))
	})
}
