package domains

import (
	"encoding/json"
	"fmt"
	"time"
)

// Adapter kinds.
const (
	KindBuiltin = "builtin"
	KindMCP     = "mcp"
	KindHTTP    = "http"
)

// Actions a permission can grant on tools.
const (
	ActionExecute = "execute"
	ActionApprove = "approve"
	// ActionReadSensitive lets a role see a tool's sensitive fields (salary...) in results;
	// without it they are redacted.
	ActionReadSensitive = "read_sensitive"
)

// Config is one domain, as written in config/domains/<name>.yaml.
type Config struct {
	Name        string `yaml:"name" json:"name"`
	Description string `yaml:"description" json:"description"`
	Version     string `yaml:"version" json:"version"`
	Enabled     *bool  `yaml:"enabled" json:"enabled"`
	Kind        string `yaml:"kind" json:"kind"`
	// TaskQueue is the Temporal task queue of the domain's worker; default "domain-<name>".
	TaskQueue string `yaml:"task_queue" json:"task_queue"`
	// SensitiveFields are redacted in every tool of the domain, in addition to the well-known
	// secret names and each tool's own list.
	SensitiveFields []string     `yaml:"sensitive_fields" json:"sensitive_fields,omitempty"`
	Permissions     []Permission `yaml:"permissions" json:"permissions"`
	Timeout         Duration     `yaml:"timeout" json:"timeout"`
	Retry           RetryPolicy  `yaml:"retry" json:"retry"`
	Tools           []Tool       `yaml:"tools" json:"tools"`
	// MCP configures a domain of kind mcp.
	MCP *MCPSource `yaml:"mcp" json:"mcp,omitempty"`
	// HTTP configures a domain of kind http.
	HTTP *HTTPSource `yaml:"http" json:"http,omitempty"`

	// File is where the configuration was read from.
	File string `yaml:"-" json:"-"`
}

// Tool is one tool of a domain.
type Tool struct {
	// Name is the namespaced name ("hr.get_employee"). The YAML may give the short name
	// ("get_employee"); domainconfig.Normalize prefixes it.
	Name            string         `yaml:"name" json:"name"`
	Title           string         `yaml:"title" json:"title,omitempty"`
	Description     string         `yaml:"description" json:"description"`
	InputSchema     map[string]any `yaml:"input_schema" json:"input_schema"`
	OutputSchema    map[string]any `yaml:"output_schema" json:"output_schema,omitempty"`
	Annotations     Annotations    `yaml:"annotations" json:"annotations"`
	SensitiveFields []string       `yaml:"sensitive_fields" json:"sensitive_fields,omitempty"`
	// Timeout overrides the domain's timeout for this tool.
	Timeout Duration `yaml:"timeout" json:"timeout,omitempty"`
	// Approval is the tool's human-approval policy (evaluated by policy.NeedsApproval).
	Approval *Approval `yaml:"approval" json:"approval,omitempty"`
	// HTTP describes the call for a domain of kind http.
	HTTP *HTTPCall `yaml:"http" json:"http,omitempty"`
	// Remote is the tool's name on the remote server for a domain of kind mcp (default: the
	// short name).
	Remote string `yaml:"remote" json:"remote,omitempty"`
	// RetrySafe says that sending a call of this tool of a domain of kind mcp twice does no
	// harm although the upstream does not annotate it idempotent (for example because it does
	// honour the idempotency key in _meta). Without it such a call is sent at most once: a
	// retry after an attempt that may have reached the upstream reports the outcome as unknown.
	RetrySafe bool `yaml:"retry_safe" json:"retry_safe,omitempty"`
	// Icons are the upstream tool's icons (MCP Icon objects: src, mimeType, sizes, theme), for
	// a domain of kind mcp; they are discovered, not configured.
	Icons []map[string]any `yaml:"-" json:"icons,omitempty"`
	// TaskSupport is the upstream tool's execution.taskSupport (TaskSupportOptional or
	// TaskSupportRequired; empty for a tool that runs as a plain call), for a domain of kind
	// mcp; it is discovered, not configured. /mcp publishes it, and a call of such a tool from a
	// client of the Tasks extension is answered with its task at once.
	TaskSupport string `yaml:"-" json:"task_support,omitempty"`
}

// Values of Tool.TaskSupport (MCP's execution.taskSupport; "forbidden" is stored as empty).
const (
	TaskSupportOptional = "optional"
	TaskSupportRequired = "required"
)

// AtMostOnce reports whether a call of tool t of domain c must not be sent to the backend
// twice: a tool of a third-party MCP server that is neither read-only nor idempotent by its
// own annotations, unless the configuration says retries are safe. Builtin and http tools
// honour the idempotency key (or are declared by us), so they may be retried.
func (c *Config) AtMostOnce(t *Tool) bool {
	return c.Kind == KindMCP && t != nil && !t.RetrySafe && !t.Annotations.ReadOnly && !t.Annotations.Idempotent
}

// Annotations are hints about a tool's behaviour, published to MCP clients. For builtin and
// http tools our configuration sets them; for a tool of a domain of kind mcp they start from
// the upstream server's own annotations and the configuration can only tighten them (mark a
// tool destructive, open-world or needing approval, never read-only or idempotent: see
// Tighten).
type Annotations struct {
	ReadOnly         bool `yaml:"read_only" json:"read_only"`
	Destructive      bool `yaml:"destructive" json:"destructive"`
	Idempotent       bool `yaml:"idempotent" json:"idempotent"`
	OpenWorld        bool `yaml:"open_world" json:"open_world"`
	RequiresApproval bool `yaml:"requires_approval" json:"requires_approval"`
}

// Tighten returns upstream's annotations made stricter by configured ones: what the remote
// server says about itself may be narrowed, never widened. A configured destructive tool is
// no longer read-only; read-only and idempotent can only come from upstream; approval is our
// own policy.
func (upstream Annotations) Tighten(configured Annotations) Annotations {
	out := upstream
	out.Destructive = upstream.Destructive || configured.Destructive
	out.OpenWorld = upstream.OpenWorld || configured.OpenWorld
	out.ReadOnly = upstream.ReadOnly && !configured.Destructive
	out.RequiresApproval = configured.RequiresApproval
	return out
}

// Permission grants a role actions on tools matching patterns ("hr.*", "hr.get_employee").
type Permission struct {
	Role    string   `yaml:"role" json:"role"`
	Tools   []string `yaml:"tools" json:"tools"`
	Actions []string `yaml:"actions" json:"actions,omitempty"`
}

// RetryPolicy is how a failed tool activity is retried. Validation, authorization and
// not-found errors are never retried.
type RetryPolicy struct {
	MaxAttempts     int      `yaml:"max_attempts" json:"max_attempts"`
	InitialInterval Duration `yaml:"initial_interval" json:"initial_interval"`
	BackoffFactor   float64  `yaml:"backoff" json:"backoff"`
	MaxInterval     Duration `yaml:"max_interval" json:"max_interval"`
}

// MCPSource is a remote MCP server whose tools the domain imports.
type MCPSource struct {
	// URL of a Streamable HTTP MCP endpoint.
	URL string `yaml:"url" json:"url,omitempty"`
	// BearerTokenEnv names the environment variable holding a bearer token for URL.
	BearerTokenEnv string `yaml:"bearer_token_env" json:"bearer_token_env,omitempty"`
	// Command and Args start a stdio MCP server instead of URL.
	Command string   `yaml:"command" json:"command,omitempty"`
	Args    []string `yaml:"args" json:"args,omitempty"`
	// Env names environment variables passed through to the stdio server.
	Env []string `yaml:"env" json:"env,omitempty"`
	// Publish is how /mcp names the domain's tools: PublishPrefixed (the default,
	// "<domain>__<tool>") or PublishUnprefixed (the upstream's own short names, so that the
	// platform can stand in for the server before clients that expect its names). Only the names
	// on /mcp change: REST, audit, the LLM and policies keep the canonical "<domain>.<tool>".
	Publish string `yaml:"publish" json:"publish,omitempty"`
	// Roots are the filesystem or URI roots the platform offers the server (MCP roots/list).
	// Only a domain that lists roots makes the platform advertise the roots capability: a
	// server told of a capability asks for it, and one we cannot answer stalls its calls.
	Roots []Root `yaml:"roots" json:"roots,omitempty"`
}

// Root is one MCP root: a URI (file:// for a folder) and an optional name.
type Root struct {
	URI  string `yaml:"uri" json:"uri"`
	Name string `yaml:"name" json:"name,omitempty"`
}

// HTTPSource is an internal REST service whose endpoints are declared as tools.
type HTTPSource struct {
	BaseURL string `yaml:"base_url" json:"base_url"`
	// Headers maps header names to environment variables holding their values (secrets stay in
	// the worker's environment).
	HeadersFromEnv map[string]string `yaml:"headers_from_env" json:"headers_from_env,omitempty"`
}

// HTTPCall maps a tool to an HTTP request and its response back to a result.
type HTTPCall struct {
	Method string `yaml:"method" json:"method"`
	// Path is a template with {param} placeholders, filled (escaped) from the arguments.
	Path string `yaml:"path" json:"path"`
	// Query lists the arguments sent as query parameters.
	Query []string `yaml:"query" json:"query,omitempty"`
	// Body lists the arguments sent as the JSON body (all remaining ones when empty and the
	// method has a body).
	Body []string `yaml:"body" json:"body,omitempty"`
	// Result is a dot path into the JSON response to return ("" = the whole response).
	Result string `yaml:"result" json:"result,omitempty"`
	// NotFoundStatus lists statuses reported as not-found tool errors (default 404).
	NotFoundStatus []int `yaml:"not_found_status" json:"not_found_status,omitempty"`
}

// Duration is a time.Duration written as "30s" in YAML and JSON.
type Duration time.Duration

// UnmarshalText reads "30s" (YAML decoders use it for scalars).
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration such as 30s", b)
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes "30s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "30s".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	*d = Duration(v)
	return err
}

// Std returns the time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// IsEnabled reports whether the domain is enabled (the default).
func (c *Config) IsEnabled() bool { return c.Enabled == nil || *c.Enabled }

// Tool returns the tool with the namespaced name, or nil.
func (c *Config) Tool(name string) *Tool {
	for i := range c.Tools {
		if c.Tools[i].Name == name {
			return &c.Tools[i]
		}
	}
	return nil
}

// ToolTimeout is the tool's timeout, or the domain's.
func (c *Config) ToolTimeout(t *Tool) time.Duration {
	if t != nil && t.Timeout > 0 {
		return t.Timeout.Std()
	}
	return c.Timeout.Std()
}

// Sensitive returns the field names redacted for tool t: the domain's and the tool's.
func (c *Config) Sensitive(t *Tool) []string {
	out := append([]string{}, c.SensitiveFields...)
	if t != nil {
		out = append(out, t.SensitiveFields...)
	}
	return out
}
