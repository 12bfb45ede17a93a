// Package config loads the platform's settings from config/settings.yaml and the environment,
// and validates them at start so that a mistake is reported once, by name, with its fix.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Environments the platform knows.
const (
	EnvDev        = "dev"
	EnvProduction = "production"
)

// DefaultPath is where the settings file is looked for when MCP_CONFIG is unset.
const DefaultPath = "config/settings.yaml"

// DevJWTSecret signs tokens in dev mode when JWT_SECRET is unset. It is public, so it is refused
// outside dev.
const DevJWTSecret = "mcp-platform-dev-only-secret-do-not-use-in-production"

// Config is the whole of the platform's settings.
type Config struct {
	Environment string   `yaml:"environment"`
	Log         Log      `yaml:"log"`
	DataDir     string   `yaml:"data_dir"`
	DomainsDir  string   `yaml:"domains_dir"`
	Server      Server   `yaml:"server"`
	Database    Database `yaml:"database"`
	Temporal    Temporal `yaml:"temporal"`
	LLM         LLM      `yaml:"llm"`
	JWT         JWT      `yaml:"jwt"`
	Limits      Limits   `yaml:"limits"`
	Quota       Quota    `yaml:"quota"`
	// Assertions are the keys the front ends sign with and the workers verify with.
	Assertions Assertions `yaml:"assertions"`

	// explicit holds the keys (such as "temporal.ui_url") that the settings file or the
	// environment set, as opposed to the defaults.
	explicit map[string]bool
}

// Explicit reports whether the settings file or the environment set key (a dotted settings
// key such as "temporal.ui_url"), rather than it keeping its default. It is false for a Config
// not made by Load.
func (c Config) Explicit(key string) bool { return c.explicit[key] }

// Assertions configure the signed assertions the front ends hand the backbone (DESIGN 13).
type Assertions struct {
	// Key is the front ends' private signing key, "kid:base64(32-byte Ed25519 seed)". Only the
	// API and MCP server need it; in dev one is generated under data_dir.
	Key string `yaml:"key"`
	// PublicKeys are the keys workers verify with, "kid:base64(key),..." (old keys stay listed
	// during a rotation). Defaults to the public half of Key.
	PublicKeys string `yaml:"public_keys"`
}

// Limits bound what one chat turn may ask of the platform.
type Limits struct {
	// ToolCallsPerStep is how many tool calls of one LLM step run; the excess is refused.
	ToolCallsPerStep int `yaml:"tool_calls_per_step"`
	// ToolCallsPerTurn is how many tool calls one turn runs over all its steps.
	ToolCallsPerTurn int `yaml:"tool_calls_per_turn"`
	// LLMTools is how many tool definitions the LLM is given at most in one step: a user who
	// may call more gets the most relevant ones and the search_tools tool.
	LLMTools int `yaml:"llm_tools"`
}

// Quota bounds what one user may ask of the platform: requests per minute at each server and
// LLM tokens per UTC day. Zero turns a limit off.
type Quota struct {
	// APIRequestsPerMinute is each user's rate at the gateway API, a token bucket per user and
	// API process that holds a minute's worth: with N replicas behind a load balancer a user
	// may reach up to N times it.
	APIRequestsPerMinute int `yaml:"api_requests_per_minute"`
	// MCPRequestsPerMinute is each user's rate at the MCP server (/mcp, /execute, /tools...),
	// per MCP server process likewise.
	MCPRequestsPerMinute int `yaml:"mcp_requests_per_minute"`
	// TokensPerDay is each user's LLM tokens (prompt and completion) per UTC day, counted in
	// Postgres and so shared by every orchestrator.
	TokensPerDay int64 `yaml:"tokens_per_day"`
}

// Log configures structured logging.
type Log struct {
	Level  string `yaml:"level"`
	Format string `yaml:"format"`
}

// Server configures the two HTTP servers.
type Server struct {
	Host            string        `yaml:"host"`
	APIPort         int           `yaml:"api_port"`
	MCPPort         int           `yaml:"mcp_port"`
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// MetricsAddr is the host:port where the process serves Prometheus /metrics, apart from
	// the public servers; empty serves none.
	MetricsAddr string `yaml:"metrics_addr"`
	// MCPOrigins are the browser origins (scheme://host[:port]) that may call /mcp, besides the
	// MCP server's own: a request with any other Origin is refused with 403 (DNS rebinding
	// protection), and these get CORS answers.
	MCPOrigins []string `yaml:"mcp_allowed_origins"`
}

// Database configures Postgres.
type Database struct {
	URL string `yaml:"url"`
}

// Temporal configures the Temporal client (and, in dev, the embedded server).
type Temporal struct {
	Address   string `yaml:"address"`
	Namespace string `yaml:"namespace"`
	UIPort    int    `yaml:"ui_port"`
	// UIURL is where people open the Temporal UI; turns link to their runs there. Its origin is
	// also the one the gateway's codec server answers cross-origin requests from.
	UIURL string `yaml:"ui_url"`
	// CodecKeys are the AES-256 keys of the payload codec, "id:base64key,id:base64key": the
	// first encrypts, every one decrypts (rotation). Required outside dev; in dev, empty means a
	// key generated once into data_dir. Parse them with Keys.
	CodecKeys string `yaml:"codec_keys"`
	// DatabaseURL, when set, makes the Temporal server that `temporal` and `dev` embed persist to
	// PostgreSQL (this database, and the one named after it with the suffix _visibility) instead
	// of SQLite. The roles that only talk to Temporal ignore it.
	DatabaseURL string `yaml:"database_url"`
}

// LLM configures the language model provider.
type LLM struct {
	Provider string `yaml:"provider"`
	APIKey   string `yaml:"api_key"`
	APIBase  string `yaml:"api_base"`
	Model    string `yaml:"model"`
	// StreamUsage asks the provider for the token counts of each streamed answer
	// (stream_options.include_usage); turn it off only for a server that refuses the option.
	StreamUsage bool `yaml:"stream_usage"`
}

// JWT configures bearer token verification.
type JWT struct {
	Secret   string        `yaml:"secret"`
	Issuer   string        `yaml:"issuer"`
	Audience string        `yaml:"audience"`
	JWKSURL  string        `yaml:"jwks_url"`
	TokenTTL time.Duration `yaml:"token_ttl"`
	// AuthorizationServer is the OAuth authorization server (the OIDC issuer URL) that MCP
	// clients are sent to for tokens; empty means Issuer when that is an https URL. Dev uses its
	// built-in dev authorization server instead.
	AuthorizationServer string `yaml:"authorization_server"`
}

// AuthorizationServers are the issuers the MCP server's protected-resource metadata lists for
// production: jwt.authorization_server, else jwt.issuer when it is an https URL (as OIDC
// issuers are), else none.
func (j JWT) AuthorizationServers() []string {
	if j.AuthorizationServer != "" {
		return []string{j.AuthorizationServer}
	}
	if u, err := url.Parse(j.Issuer); err == nil && u.Scheme == "https" && u.Host != "" {
		return []string{j.Issuer}
	}
	return nil
}

// IsDev reports whether the platform runs in dev mode, where demo users and a built-in JWT
// secret are allowed.
func (c Config) IsDev() bool { return c.Environment == EnvDev }

// Default returns the settings used when neither the file nor the environment says otherwise.
func Default() Config {
	return Config{
		Environment: EnvDev,
		Log:         Log{Level: "info"},
		DataDir:     ".data",
		DomainsDir:  "config/domains",
		Server:      Server{Host: "127.0.0.1", APIPort: 8000, MCPPort: 8001, ShutdownTimeout: 15 * time.Second},
		Temporal:    Temporal{Address: "127.0.0.1:7233", Namespace: "default", UIPort: 8233, UIURL: "http://localhost:8233"},
		LLM:         LLM{Provider: "mock", StreamUsage: true},
		JWT:         JWT{Issuer: "mcp-platform", Audience: "mcp-platform", TokenTTL: 8 * time.Hour},
		Limits:      Limits{ToolCallsPerStep: 16, ToolCallsPerTurn: 64, LLMTools: 40},
		Quota:       Quota{APIRequestsPerMinute: 600, MCPRequestsPerMinute: 600, TokensPerDay: 1_000_000},
	}
}

// Error is an invalid setting: which key (and its environment variable), what is wrong, and how
// to fix it.
type Error struct {
	Key    string
	Env    string
	Value  string
	Reason string
	Fix    string
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "invalid setting %s", e.Key)
	if e.Env != "" {
		fmt.Fprintf(&b, " (env %s)", e.Env)
	}
	if e.Value != "" {
		fmt.Fprintf(&b, " = %q", e.Value)
	}
	fmt.Fprintf(&b, ": %s", e.Reason)
	if e.Fix != "" {
		fmt.Fprintf(&b, "; fix: %s", e.Fix)
	}
	return b.String()
}

// binding ties a settings key to the environment variable that overrides it.
type binding struct {
	key, env string
	set      func(c *Config, v string) error
}

type setter = func(c *Config, v string) error

func str(p func(c *Config) *string) setter {
	return func(c *Config, v string) error { *p(c) = v; return nil }
}

// list reads a comma-separated list, leaving out empty items.
func list(p func(c *Config) *[]string) setter {
	return func(c *Config, v string) error {
		var items []string
		for _, item := range strings.Split(v, ",") {
			if item = strings.TrimSpace(item); item != "" {
				items = append(items, item)
			}
		}
		*p(c) = items
		return nil
	}
}

func port(p func(c *Config) *int) setter {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return errors.New("not a whole number")
		}
		*p(c) = n
		return nil
	}
}

func boolean(p func(c *Config) *bool) setter {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return errors.New("not true or false")
		}
		*p(c) = b
		return nil
	}
}

func count(p func(c *Config) *int64) setter {
	return func(c *Config, v string) error {
		n, err := strconv.ParseInt(strings.ReplaceAll(strings.TrimSpace(v), "_", ""), 10, 64)
		if err != nil {
			return errors.New("not a whole number")
		}
		*p(c) = n
		return nil
	}
}

func duration(p func(c *Config) *time.Duration) setter {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil {
			return errors.New("not a duration such as 30s or 8h")
		}
		*p(c) = d
		return nil
	}
}

// bindings lists every setting that the environment can override.
var bindings = func() []binding {
	b := []binding{}
	add := func(key, env string, set setter) { b = append(b, binding{key: key, env: env, set: set}) }
	add("environment", "MCP_ENVIRONMENT", str(func(c *Config) *string { return &c.Environment }))
	add("log.level", "MCP_LOG_LEVEL", str(func(c *Config) *string { return &c.Log.Level }))
	add("log.format", "MCP_LOG_FORMAT", str(func(c *Config) *string { return &c.Log.Format }))
	add("data_dir", "MCP_DATA_DIR", str(func(c *Config) *string { return &c.DataDir }))
	add("domains_dir", "MCP_DOMAINS_DIR", str(func(c *Config) *string { return &c.DomainsDir }))
	add("server.host", "MCP_HOST", str(func(c *Config) *string { return &c.Server.Host }))
	add("server.api_port", "ORCHESTRATOR_PORT", port(func(c *Config) *int { return &c.Server.APIPort }))
	add("server.mcp_port", "MCP_SERVER_PORT", port(func(c *Config) *int { return &c.Server.MCPPort }))
	add("server.shutdown_timeout", "MCP_SHUTDOWN_TIMEOUT", duration(func(c *Config) *time.Duration { return &c.Server.ShutdownTimeout }))
	add("server.metrics_addr", "MCP_METRICS_ADDR", str(func(c *Config) *string { return &c.Server.MetricsAddr }))
	add("server.mcp_allowed_origins", "MCP_ALLOWED_ORIGINS", list(func(c *Config) *[]string { return &c.Server.MCPOrigins }))
	add("database.url", "DATABASE_URL", str(func(c *Config) *string { return &c.Database.URL }))
	add("temporal.address", "TEMPORAL_ADDRESS", str(func(c *Config) *string { return &c.Temporal.Address }))
	add("temporal.namespace", "TEMPORAL_NAMESPACE", str(func(c *Config) *string { return &c.Temporal.Namespace }))
	add("temporal.ui_port", "TEMPORAL_UI_PORT", port(func(c *Config) *int { return &c.Temporal.UIPort }))
	add("temporal.ui_url", "TEMPORAL_UI_URL", str(func(c *Config) *string { return &c.Temporal.UIURL }))
	add("temporal.database_url", "TEMPORAL_DB_URL", str(func(c *Config) *string { return &c.Temporal.DatabaseURL }))
	add("temporal.codec_keys", "TEMPORAL_CODEC_KEYS", str(func(c *Config) *string { return &c.Temporal.CodecKeys }))
	add("llm.provider", "LLM_PROVIDER", str(func(c *Config) *string { return &c.LLM.Provider }))
	add("llm.api_key", "LLM_API_KEY", str(func(c *Config) *string { return &c.LLM.APIKey }))
	add("llm.api_base", "LLM_API_BASE", str(func(c *Config) *string { return &c.LLM.APIBase }))
	add("llm.model", "LLM_MODEL", str(func(c *Config) *string { return &c.LLM.Model }))
	add("llm.stream_usage", "LLM_STREAM_USAGE", boolean(func(c *Config) *bool { return &c.LLM.StreamUsage }))
	add("jwt.secret", "JWT_SECRET", str(func(c *Config) *string { return &c.JWT.Secret }))
	add("jwt.issuer", "JWT_ISSUER", str(func(c *Config) *string { return &c.JWT.Issuer }))
	add("jwt.audience", "JWT_AUDIENCE", str(func(c *Config) *string { return &c.JWT.Audience }))
	add("jwt.jwks_url", "JWT_JWKS_URL", str(func(c *Config) *string { return &c.JWT.JWKSURL }))
	add("jwt.authorization_server", "JWT_AUTHORIZATION_SERVER", str(func(c *Config) *string { return &c.JWT.AuthorizationServer }))
	add("jwt.token_ttl", "JWT_TOKEN_TTL", duration(func(c *Config) *time.Duration { return &c.JWT.TokenTTL }))
	add("assertions.key", "MCP_ASSERTION_KEY", str(func(c *Config) *string { return &c.Assertions.Key }))
	add("assertions.public_keys", "MCP_ASSERTION_PUBLIC_KEYS", str(func(c *Config) *string { return &c.Assertions.PublicKeys }))
	add("limits.tool_calls_per_step", "MCP_TOOL_CALLS_PER_STEP", port(func(c *Config) *int { return &c.Limits.ToolCallsPerStep }))
	add("limits.tool_calls_per_turn", "MCP_TOOL_CALLS_PER_TURN", port(func(c *Config) *int { return &c.Limits.ToolCallsPerTurn }))
	add("quota.api_requests_per_minute", "MCP_API_REQUESTS_PER_MINUTE", port(func(c *Config) *int { return &c.Quota.APIRequestsPerMinute }))
	add("quota.mcp_requests_per_minute", "MCP_SERVER_REQUESTS_PER_MINUTE", port(func(c *Config) *int { return &c.Quota.MCPRequestsPerMinute }))
	add("quota.tokens_per_day", "MCP_LLM_TOKENS_PER_DAY", count(func(c *Config) *int64 { return &c.Quota.TokensPerDay }))
	add("limits.llm_tools", "MCP_LLM_TOOLS", port(func(c *Config) *int { return &c.Limits.LLMTools }))
	return b
}()

// envOf returns the environment variable that overrides key, for error messages.
func envOf(key string) string {
	for _, b := range bindings {
		if b.key == key {
			return b.env
		}
	}
	return ""
}

// Load reads the settings file (MCP_CONFIG, or DefaultPath when that exists), applies the
// environment on top and validates the result. A missing default file is not an error: the
// defaults apply.
func Load(getenv func(string) string) (Config, error) {
	cfg := Default()
	path, explicit := getenv("MCP_CONFIG"), true
	if path == "" {
		path, explicit = DefaultPath, false
	}
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := decodeYAML(data, &cfg); err != nil {
			return Config{}, fmt.Errorf("read settings %s: %w", path, err)
		}
		if cfg.explicit, err = yamlKeys(data); err != nil {
			return Config{}, fmt.Errorf("read settings %s: %w", path, err)
		}
	case errors.Is(err, fs.ErrNotExist) && !explicit:
	default:
		return Config{}, fmt.Errorf("read settings %s (MCP_CONFIG): %w", path, err)
	}
	if cfg.explicit == nil {
		cfg.explicit = map[string]bool{}
	}
	for _, b := range bindings {
		v, ok := lookup(getenv, b.env)
		if !ok {
			continue
		}
		if err := b.set(&cfg, v); err != nil {
			return Config{}, &Error{Key: b.key, Env: b.env, Value: v, Reason: err.Error(), Fix: "correct or unset " + b.env}
		}
		cfg.explicit[b.key] = true
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// lookup treats an empty variable as unset, as shells and compose files commonly produce them.
func lookup(getenv func(string) string, name string) (string, bool) {
	v := getenv(name)
	return v, v != ""
}

// yamlKeys lists the dotted keys ("temporal.ui_url") that a settings file gives a value,
// null included: a key written in the file is set there, whatever its value.
func yamlKeys(data []byte) (map[string]bool, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	keys := map[string]bool{}
	var walk func(n *yaml.Node, prefix string)
	walk = func(n *yaml.Node, prefix string) {
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := prefix + n.Content[i].Value
			keys[key] = true
			walk(n.Content[i+1], key+".")
		}
	}
	for _, n := range doc.Content {
		walk(n, "")
	}
	return keys, nil
}

func decodeYAML(data []byte, cfg *Config) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w (check the key names against config/settings.yaml in the repository)", err)
	}
	return nil
}

// Validate checks every setting and returns the first problem as an *Error. In dev it fills in
// DevJWTSecret when no JWT secret is set.
func (c *Config) Validate() error {
	// The steps run in this order, so that of several mistakes the same one is reported first.
	for _, step := range []func() error{
		c.validateEnvironment,
		c.validateLog,
		c.validatePorts,
		c.validateShutdown,
		c.validateOrigins,
		c.validateDatabase,
		c.validateTemporal,
		c.validateLLM,
		c.validateJWT,
		c.validateLimits,
		c.validateQuota,
	} {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// invalid is the *Error for key, with the environment variable that overrides it.
func invalid(key, value, reason, fix string) error {
	return &Error{Key: key, Env: envOf(key), Value: value, Reason: reason, Fix: fix}
}

// validateEnvironment checks that the environment is one the platform knows.
func (c *Config) validateEnvironment() error {
	switch c.Environment {
	case EnvDev, EnvProduction:
		return nil
	default:
		return invalid("environment", c.Environment, "unknown environment", `use "dev" or "production"`)
	}
}

// validateLog checks the log level and format.
func (c *Config) validateLog() error {
	switch strings.ToLower(c.Log.Level) {
	case "debug", "info", "warn", "warning", "error":
	default:
		return invalid("log.level", c.Log.Level, "unknown log level", "use debug, info, warn or error")
	}
	switch c.Log.Format {
	case "", "text", "json":
		return nil
	default:
		return invalid("log.format", c.Log.Format, "unknown log format", "use text or json")
	}
}

// validatePorts checks that every port the platform listens on is a port, and that the two
// HTTP servers do not share one.
func (c *Config) validatePorts() error {
	for _, p := range []struct {
		key  string
		port int
	}{{"server.api_port", c.Server.APIPort}, {"server.mcp_port", c.Server.MCPPort}, {"temporal.ui_port", c.Temporal.UIPort}} {
		if p.port < 1 || p.port > 65535 {
			return invalid(p.key, strconv.Itoa(p.port), "port out of range", "use a port between 1 and 65535")
		}
	}
	if c.Server.APIPort == c.Server.MCPPort {
		return invalid("server.mcp_port", strconv.Itoa(c.Server.MCPPort), "same port as server.api_port", "give the two servers different ports")
	}
	if a := c.Server.MetricsAddr; a != "" {
		if _, port, err := net.SplitHostPort(a); err != nil || port == "" {
			return invalid("server.metrics_addr", a, "not a host:port", "use an address such as 127.0.0.1:9464 or :9464")
		}
	}
	return nil
}

// validateOrigins checks that every allowed MCP origin is an origin: a scheme and a host, with
// no path, query or trailing slash (browsers send it so, and it is compared as it is).
func (c *Config) validateOrigins() error {
	for _, o := range c.Server.MCPOrigins {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.User != nil {
			return invalid("server.mcp_allowed_origins", o, "not an origin", "use scheme://host[:port], such as https://app.example.com")
		}
	}
	return nil
}

// validateShutdown checks the graceful shutdown timeout.
func (c *Config) validateShutdown() error {
	if c.Server.ShutdownTimeout <= 0 {
		return invalid("server.shutdown_timeout", c.Server.ShutdownTimeout.String(), "must be positive", "use a duration such as 15s")
	}
	return nil
}

// validateDatabase checks the PostgreSQL URL, which only dev may leave out (the dev stack then
// starts a private cluster). The password is never shown in the error.
func (c *Config) validateDatabase() error {
	if c.Database.URL != "" {
		if err := checkPostgresURL(c.Database.URL, false); err != nil {
			return invalid("database.url", redactURL(c.Database.URL), err.Error(), "use postgres://user:password@host:5432/dbname?sslmode=disable")
		}
	} else if !c.IsDev() {
		return invalid("database.url", "", "required outside dev", "set DATABASE_URL to your PostgreSQL server")
	}
	return nil
}

// checkPostgresURL reports whether raw is a postgres:// URL with a host (and, when needDB, a
// database name).
func checkPostgresURL(raw string, needDB bool) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
		return errors.New("not a PostgreSQL URL")
	}
	if db := strings.TrimPrefix(u.Path, "/"); needDB && (db == "" || strings.Contains(db, "/")) {
		return errors.New("names no database")
	}
	return nil
}

// validateTemporal checks the Temporal address and namespace.
func (c *Config) validateTemporal() error {
	if _, p, ok := strings.Cut(c.Temporal.Address, ":"); !ok || p == "" {
		return invalid("temporal.address", c.Temporal.Address, "not host:port", "use for example 127.0.0.1:7233")
	}
	if c.Temporal.Namespace == "" {
		return invalid("temporal.namespace", "", "must not be empty", "use default or your namespace")
	}
	if c.Temporal.DatabaseURL != "" {
		if err := checkPostgresURL(c.Temporal.DatabaseURL, true); err != nil {
			return invalid("temporal.database_url", redactURL(c.Temporal.DatabaseURL), err.Error(),
				"use postgres://user:password@host:5432/temporal?sslmode=disable")
		}
	}
	if c.Temporal.CodecKeys == "" && !c.IsDev() {
		return invalid("temporal.codec_keys", "", "required outside dev: without it Temporal would store workflow inputs and results in clear",
			"set TEMPORAL_CODEC_KEYS="+codecKeysExample)
	}
	_, err := c.Temporal.Keys()
	return err
}

// validateLimits checks the tool-call bounds of a turn.
func (c *Config) validateLimits() error {
	if n := c.Limits.ToolCallsPerStep; n < 1 || n > 1000 {
		return invalid("limits.tool_calls_per_step", strconv.Itoa(n), "must be between 1 and 1000", "set MCP_TOOL_CALLS_PER_STEP, for example 16")
	}
	if n := c.Limits.ToolCallsPerTurn; n < c.Limits.ToolCallsPerStep || n > 10000 {
		return invalid("limits.tool_calls_per_turn", strconv.Itoa(n), "must be at least limits.tool_calls_per_step and at most 10000", "set MCP_TOOL_CALLS_PER_TURN, for example 64")
	}
	if n := c.Limits.LLMTools; n < 2 || n > 1000 {
		return invalid("limits.llm_tools", strconv.Itoa(n), "must be between 2 and 1000 (one place is search_tools')", "set MCP_LLM_TOOLS, for example 40")
	}
	return nil
}

// validateQuota checks the per-user limits: none may be negative (zero turns one off).
func (c *Config) validateQuota() error {
	for _, q := range []struct {
		key     string
		n       int64
		example string
	}{
		{"quota.api_requests_per_minute", int64(c.Quota.APIRequestsPerMinute), "600"},
		{"quota.mcp_requests_per_minute", int64(c.Quota.MCPRequestsPerMinute), "600"},
		{"quota.tokens_per_day", c.Quota.TokensPerDay, "1000000"},
	} {
		if q.n < 0 {
			return invalid(q.key, strconv.FormatInt(q.n, 10), "must not be negative",
				"set "+envOf(q.key)+" to a limit such as "+q.example+", or 0 for none")
		}
	}
	return nil
}

// validateLLM checks the provider and the settings that provider needs.
func (c *Config) validateLLM() error {
	switch c.LLM.Provider {
	case "mock":
	case "openai":
		if c.LLM.APIKey == "" {
			return invalid("llm.api_key", "", "required by the openai provider", "set LLM_API_KEY, or LLM_PROVIDER=mock for keyless demos")
		}
	case "azure_openai", "openai_compatible":
		if c.LLM.APIBase == "" {
			return invalid("llm.api_base", "", "required by the "+c.LLM.Provider+" provider", "set LLM_API_BASE to the endpoint's base URL")
		}
		if c.LLM.Provider == "azure_openai" && c.LLM.APIKey == "" {
			return invalid("llm.api_key", "", "required by the azure_openai provider", "set LLM_API_KEY")
		}
	default:
		return invalid("llm.provider", c.LLM.Provider, "unknown provider", "use mock, openai, azure_openai or openai_compatible")
	}
	if c.LLM.Provider != "mock" && c.LLM.Model == "" {
		return invalid("llm.model", "", "required by the "+c.LLM.Provider+" provider", "set LLM_MODEL, for example gpt-4o-mini")
	}
	return nil
}

// validateJWT checks that tokens can be verified, by a private secret or a JWKS URL, and the
// lifetime of the tokens the platform issues. In dev a missing secret becomes DevJWTSecret.
func (c *Config) validateJWT() error {
	if c.JWT.Secret == "" && c.IsDev() {
		c.JWT.Secret = DevJWTSecret
	}
	if c.JWT.JWKSURL == "" {
		if c.JWT.Secret == "" {
			return invalid("jwt.secret", "", "no way to verify tokens", "set JWT_SECRET (32+ bytes) or JWT_JWKS_URL")
		}
		if len(c.JWT.Secret) < 32 {
			return invalid("jwt.secret", "", "shorter than 32 bytes", "use a random secret of at least 32 bytes, e.g. openssl rand -hex 32")
		}
		if !c.IsDev() && c.JWT.Secret == DevJWTSecret {
			return invalid("jwt.secret", "", "the public dev secret is not allowed outside dev", "set JWT_SECRET to a private random value")
		}
	} else if u, err := url.Parse(c.JWT.JWKSURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return invalid("jwt.jwks_url", c.JWT.JWKSURL, "not an http(s) URL", "use the JWKS URL of your OIDC provider")
	}
	if as := c.JWT.AuthorizationServer; as != "" {
		if u, err := url.Parse(as); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return invalid("jwt.authorization_server", as, "not an http(s) URL", "use the issuer URL of your OIDC provider, e.g. https://login.example.com/realms/acme")
		}
	}
	if c.JWT.TokenTTL <= 0 {
		return invalid("jwt.token_ttl", c.JWT.TokenTTL.String(), "must be positive", "use a duration such as 8h")
	}
	return nil
}

// redactURL hides the password of a connection URL so it can be shown in errors and logs.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}

// RedactedDatabaseURL is the database URL with its password hidden, for logs.
func (c Config) RedactedDatabaseURL() string { return redactURL(c.Database.URL) }
