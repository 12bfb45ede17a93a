package config

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func writeSettings(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "settings.yaml")
	require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
	return p
}

func TestLoad(t *testing.T) {
	t.Run("OK defaults without a file", func(t *testing.T) {
		t.Chdir(t.TempDir())
		cfg, err := Load(envMap(nil))
		require.NoError(t, err)
		require.Equal(t, EnvDev, cfg.Environment)
		require.Equal(t, 8000, cfg.Server.APIPort)
		require.Equal(t, 8001, cfg.Server.MCPPort)
		require.Equal(t, "mock", cfg.LLM.Provider)
		require.Equal(t, DevJWTSecret, cfg.JWT.Secret, "dev falls back to the dev-only secret")
		require.Equal(t, 40, cfg.Limits.LLMTools)
	})

	t.Run("OK repository settings file", func(t *testing.T) {
		cfg, err := Load(envMap(map[string]string{"MCP_CONFIG": "../../config/settings.yaml"}))
		require.NoError(t, err)
		require.Equal(t, "127.0.0.1:7233", cfg.Temporal.Address)
		require.Equal(t, 15*time.Second, cfg.Server.ShutdownTimeout)
	})

	t.Run("OK environment overrides the file", func(t *testing.T) {
		p := writeSettings(t, "server:\n  api_port: 9000\nllm:\n  provider: mock\n")
		cfg, err := Load(envMap(map[string]string{
			"MCP_CONFIG":          p,
			"ORCHESTRATOR_PORT":   "9100",
			"MCP_SERVER_PORT":     "9101",
			"LLM_PROVIDER":        "openai_compatible",
			"LLM_API_BASE":        "http://127.0.0.1:11434/v1",
			"LLM_MODEL":           "llama3",
			"DATABASE_URL":        "postgres://u:p@db:5432/mcp",
			"JWT_TOKEN_TTL":       "30m",
			"MCP_METRICS_ADDR":    "127.0.0.1:9464",
			"MCP_LLM_TOOLS":       "12",
			"MCP_ALLOWED_ORIGINS": "https://app.example.com, http://localhost:6274,",
		}))
		require.NoError(t, err)
		require.Equal(t, "127.0.0.1:9464", cfg.Server.MetricsAddr)
		require.Equal(t, []string{"https://app.example.com", "http://localhost:6274"}, cfg.Server.MCPOrigins)
		require.Equal(t, 9100, cfg.Server.APIPort)
		require.Equal(t, 9101, cfg.Server.MCPPort)
		require.Equal(t, "openai_compatible", cfg.LLM.Provider)
		require.Equal(t, 30*time.Minute, cfg.JWT.TokenTTL)
		require.Equal(t, 12, cfg.Limits.LLMTools)
		require.Equal(t, "postgres://u:xxxxx@db:5432/mcp", cfg.RedactedDatabaseURL())
	})

	t.Run("OK quota defaults, file and environment", func(t *testing.T) {
		t.Chdir(t.TempDir())
		cfg, err := Load(envMap(nil))
		require.NoError(t, err)
		require.Equal(t, Quota{APIRequestsPerMinute: 600, MCPRequestsPerMinute: 600, TokensPerDay: 1_000_000}, cfg.Quota)
		cfg, err = Load(envMap(map[string]string{
			"MCP_CONFIG":                     writeSettings(t, "quota:\n  api_requests_per_minute: 30\n  tokens_per_day: 0\n"),
			"MCP_SERVER_REQUESTS_PER_MINUTE": "90",
		}))
		require.NoError(t, err)
		require.Equal(t, Quota{APIRequestsPerMinute: 30, MCPRequestsPerMinute: 90, TokensPerDay: 0}, cfg.Quota, "0 turns the budget off")
		cfg, err = Load(envMap(map[string]string{"MCP_CONFIG": writeSettings(t, ""), "MCP_LLM_TOKENS_PER_DAY": "2_500_000"}))
		require.NoError(t, err)
		require.Equal(t, int64(2_500_000), cfg.Quota.TokensPerDay)
	})

	t.Run("OK stream usage on unless turned off", func(t *testing.T) {
		t.Chdir(t.TempDir())
		cfg, err := Load(envMap(nil))
		require.NoError(t, err)
		require.True(t, cfg.LLM.StreamUsage)
		cfg, err = Load(envMap(map[string]string{"LLM_STREAM_USAGE": "false"}))
		require.NoError(t, err)
		require.False(t, cfg.LLM.StreamUsage)
	})

	t.Run("OK production with secrets", func(t *testing.T) {
		cfg, err := Load(envMap(map[string]string{
			"MCP_CONFIG":          writeSettings(t, ""),
			"MCP_ENVIRONMENT":     "production",
			"DATABASE_URL":        "postgres://db/mcp",
			"JWT_SECRET":          "0123456789abcdef0123456789abcdef",
			"TEMPORAL_CODEC_KEYS": testCodecKeys,
		}))
		require.NoError(t, err)
		require.False(t, cfg.IsDev())
	})
}

func TestLoadExplicit(t *testing.T) {
	file := writeSettings(t, "server:\n  api_port: 9000\ntemporal:\n  namespace: ops\n")
	tests := []struct {
		name         string
		env          map[string]string
		wantExplicit []string
		wantDefault  []string
	}{
		{"OK defaults are not explicit", map[string]string{"MCP_CONFIG": writeSettings(t, "")}, nil,
			[]string{"temporal.ui_url", "server.api_port"}},
		{"OK environment", map[string]string{"MCP_CONFIG": writeSettings(t, ""), "TEMPORAL_UI_URL": "http://devbox:8233"},
			[]string{"temporal.ui_url"}, []string{"server.api_port"}},
		{"OK empty variable is unset", map[string]string{"MCP_CONFIG": writeSettings(t, ""), "TEMPORAL_UI_URL": ""},
			nil, []string{"temporal.ui_url"}},
		{"OK settings file", map[string]string{"MCP_CONFIG": file}, []string{"server.api_port", "temporal.namespace"},
			[]string{"temporal.ui_url", "temporal.address"}},
		// The repository's file leaves ui_url unset, so that dev links to its embedded UI.
		{"OK repository settings file", map[string]string{"MCP_CONFIG": "../../config/settings.yaml"},
			[]string{"server.api_port", "temporal.address"}, []string{"temporal.ui_url"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load(envMap(tt.env))
			require.NoError(t, err)
			for _, k := range tt.wantExplicit {
				require.True(t, cfg.Explicit(k), k)
			}
			for _, k := range tt.wantDefault {
				require.False(t, cfg.Explicit(k), k)
			}
		})
	}
	require.False(t, Default().Explicit("temporal.ui_url"), "a Config not made by Load")
}

func TestLoadErrors(t *testing.T) {
	prod := func(extra map[string]string) map[string]string {
		m := map[string]string{"MCP_ENVIRONMENT": "production", "DATABASE_URL": "postgres://db/mcp", "JWT_SECRET": "0123456789abcdef0123456789abcdef",
			"TEMPORAL_CODEC_KEYS": testCodecKeys}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name    string
		env     map[string]string
		file    string
		wantKey string
		wantEnv string
		wantMsg string
	}{
		{name: "ErrPortNotNumber", env: map[string]string{"MCP_SERVER_PORT": "eighty"}, wantKey: "server.mcp_port", wantEnv: "MCP_SERVER_PORT", wantMsg: "not a whole number"},
		{name: "ErrPortRange", env: map[string]string{"ORCHESTRATOR_PORT": "70000"}, wantKey: "server.api_port", wantEnv: "ORCHESTRATOR_PORT", wantMsg: "between 1 and 65535"},
		{name: "ErrSamePorts", env: map[string]string{"ORCHESTRATOR_PORT": "8001"}, wantKey: "server.mcp_port", wantEnv: "MCP_SERVER_PORT"},
		{name: "ErrMetricsAddr", env: map[string]string{"MCP_METRICS_ADDR": "9464"}, wantKey: "server.metrics_addr", wantEnv: "MCP_METRICS_ADDR", wantMsg: "host:port"},
		{name: "ErrEnvironment", env: map[string]string{"MCP_ENVIRONMENT": "staging"}, wantKey: "environment", wantEnv: "MCP_ENVIRONMENT", wantMsg: `"dev" or "production"`},
		{name: "ErrLogLevel", env: map[string]string{"MCP_LOG_LEVEL": "loud"}, wantKey: "log.level", wantEnv: "MCP_LOG_LEVEL"},
		{name: "ErrProvider", env: map[string]string{"LLM_PROVIDER": "gpt"}, wantKey: "llm.provider", wantEnv: "LLM_PROVIDER"},
		{name: "ErrOpenAIKey", env: map[string]string{"LLM_PROVIDER": "openai", "LLM_MODEL": "gpt-4o"}, wantKey: "llm.api_key", wantEnv: "LLM_API_KEY"},
		{name: "ErrCompatibleBase", env: map[string]string{"LLM_PROVIDER": "openai_compatible", "LLM_MODEL": "m"}, wantKey: "llm.api_base", wantEnv: "LLM_API_BASE"},
		{name: "ErrDatabaseURL", env: map[string]string{"DATABASE_URL": "mysql://x"}, wantKey: "database.url", wantEnv: "DATABASE_URL"},
		{name: "ErrTemporalDatabaseURL", env: map[string]string{"TEMPORAL_DB_URL": "mysql://temporal:s3cret@db/temporal"}, wantKey: "temporal.database_url", wantEnv: "TEMPORAL_DB_URL", wantMsg: "not a PostgreSQL URL"},
		{name: "ErrTemporalDatabaseName", env: map[string]string{"TEMPORAL_DB_URL": "postgres://temporal:s3cret@db:5432"}, wantKey: "temporal.database_url", wantEnv: "TEMPORAL_DB_URL", wantMsg: "names no database"},
		{name: "ErrTemporalAddress", env: map[string]string{"TEMPORAL_ADDRESS": "localhost"}, wantKey: "temporal.address", wantEnv: "TEMPORAL_ADDRESS"},
		{name: "ErrDuration", env: map[string]string{"MCP_SHUTDOWN_TIMEOUT": "soon"}, wantKey: "server.shutdown_timeout", wantEnv: "MCP_SHUTDOWN_TIMEOUT"},
		{name: "ErrOriginWithPath", env: map[string]string{"MCP_ALLOWED_ORIGINS": "https://app.example.com/chat"}, wantKey: "server.mcp_allowed_origins", wantEnv: "MCP_ALLOWED_ORIGINS", wantMsg: "not an origin"},
		{name: "ErrOriginNoScheme", env: map[string]string{"MCP_ALLOWED_ORIGINS": "app.example.com"}, wantKey: "server.mcp_allowed_origins", wantEnv: "MCP_ALLOWED_ORIGINS", wantMsg: "not an origin"},
		{name: "ErrProductionNeedsDatabase", env: map[string]string{"MCP_ENVIRONMENT": "production", "JWT_SECRET": "0123456789abcdef0123456789abcdef"}, wantKey: "database.url", wantMsg: "required outside dev"},
		{name: "ErrProductionNeedsCodecKeys", env: prod(map[string]string{"TEMPORAL_CODEC_KEYS": ""}), wantKey: "temporal.codec_keys", wantEnv: "TEMPORAL_CODEC_KEYS", wantMsg: "required outside dev"},
		{name: "ErrCodecKeyInDev", env: map[string]string{"TEMPORAL_CODEC_KEYS": "k1:c2hvcnQ="}, wantKey: "temporal.codec_keys", wantEnv: "TEMPORAL_CODEC_KEYS", wantMsg: `key "k1" is 5 bytes, want 32`},
		{name: "ErrProductionNeedsSecret", env: prod(map[string]string{"JWT_SECRET": ""}), wantKey: "jwt.secret", wantEnv: "JWT_SECRET"},
		{name: "ErrShortSecret", env: prod(map[string]string{"JWT_SECRET": "short"}), wantKey: "jwt.secret", wantMsg: "32 bytes"},
		{name: "ErrDevSecretInProduction", env: prod(map[string]string{"JWT_SECRET": DevJWTSecret}), wantKey: "jwt.secret", wantMsg: "not allowed outside dev"},
		{name: "ErrAuthorizationServer", env: map[string]string{"JWT_AUTHORIZATION_SERVER": "login.example.com"}, wantKey: "jwt.authorization_server", wantEnv: "JWT_AUTHORIZATION_SERVER", wantMsg: "not an http(s) URL"},
		{name: "ErrStreamUsage", env: map[string]string{"LLM_STREAM_USAGE": "sometimes"}, wantKey: "llm.stream_usage", wantEnv: "LLM_STREAM_USAGE", wantMsg: "not true or false"},
		{name: "ErrQuotaNegative", env: map[string]string{"MCP_LLM_TOKENS_PER_DAY": "-5"}, wantKey: "quota.tokens_per_day", wantEnv: "MCP_LLM_TOKENS_PER_DAY", wantMsg: "must not be negative"},
		{name: "ErrQuotaNotNumber", env: map[string]string{"MCP_API_REQUESTS_PER_MINUTE": "lots"}, wantKey: "quota.api_requests_per_minute", wantEnv: "MCP_API_REQUESTS_PER_MINUTE", wantMsg: "not a whole number"},
		{name: "ErrLLMToolsTooFew", env: map[string]string{"MCP_LLM_TOOLS": "1"}, wantKey: "limits.llm_tools", wantEnv: "MCP_LLM_TOOLS", wantMsg: "between 2 and 1000"},
		{name: "ErrUnknownFileKey", file: "servr:\n  api_port: 1\n", wantMsg: "field servr not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"MCP_CONFIG": writeSettings(t, tt.file)}
			for k, v := range tt.env {
				env[k] = v
			}
			_, err := Load(envMap(env))
			require.Error(t, err)
			if tt.wantKey != "" {
				var cerr *Error
				require.ErrorAs(t, err, &cerr)
				require.Equal(t, tt.wantKey, cerr.Key)
				require.Contains(t, err.Error(), "fix:")
			}
			if tt.wantEnv != "" {
				require.Contains(t, err.Error(), tt.wantEnv)
			}
			if tt.wantMsg != "" {
				require.Contains(t, err.Error(), tt.wantMsg)
			}
		})
	}

	t.Run("ErrTemporalDatabaseURLHidesPassword", func(t *testing.T) {
		_, err := Load(envMap(map[string]string{"MCP_CONFIG": writeSettings(t, ""), "TEMPORAL_DB_URL": "mysql://temporal:s3cret@db/temporal"}))
		require.ErrorContains(t, err, "TEMPORAL_DB_URL")
		require.NotContains(t, err.Error(), "s3cret")
	})

	t.Run("ErrMissingExplicitFile", func(t *testing.T) {
		_, err := Load(envMap(map[string]string{"MCP_CONFIG": "/nonexistent/settings.yaml"}))
		require.ErrorContains(t, err, "MCP_CONFIG")
	})

	t.Run("ErrSecretNotEchoed", func(t *testing.T) {
		_, err := Load(envMap(map[string]string{"MCP_CONFIG": writeSettings(t, ""), "DATABASE_URL": "mysql://user:hunter2@db/x"}))
		require.Error(t, err)
		require.NotContains(t, err.Error(), "hunter2")
	})
}

func TestAuthorizationServers(t *testing.T) {
	require.Equal(t, []string{"https://id.example/realms/a"}, JWT{Issuer: "https://id.example/realms/a"}.AuthorizationServers(), "an https issuer is the OIDC issuer")
	require.Equal(t, []string{"https://login.example"}, JWT{Issuer: "https://id.example", AuthorizationServer: "https://login.example"}.AuthorizationServers())
	require.Empty(t, JWT{Issuer: "mcp-platform"}.AuthorizationServers(), "a plain issuer name is no URL to send clients to")
}
