package domains

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
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
	// ("get_employee"); Normalize prefixes it.
	Name            string         `yaml:"name" json:"name"`
	Title           string         `yaml:"title" json:"title,omitempty"`
	Description     string         `yaml:"description" json:"description"`
	InputSchema     map[string]any `yaml:"input_schema" json:"input_schema"`
	OutputSchema    map[string]any `yaml:"output_schema" json:"output_schema,omitempty"`
	Annotations     Annotations    `yaml:"annotations" json:"annotations"`
	SensitiveFields []string       `yaml:"sensitive_fields" json:"sensitive_fields,omitempty"`
	// Timeout overrides the domain's timeout for this tool.
	Timeout Duration `yaml:"timeout" json:"timeout,omitempty"`
	// Approval is the tool's human-approval policy (see NeedsApproval).
	Approval *Approval `yaml:"approval" json:"approval,omitempty"`
	// HTTP describes the call for a domain of kind http.
	HTTP *HTTPCall `yaml:"http" json:"http,omitempty"`
	// Remote is the tool's name on the remote server for a domain of kind mcp (default: the
	// short name).
	Remote string `yaml:"remote" json:"remote,omitempty"`
}

// Annotations are hints about a tool's behaviour, set by our configuration (never taken from an
// upstream server) and published to MCP clients.
type Annotations struct {
	ReadOnly         bool `yaml:"read_only" json:"read_only"`
	Destructive      bool `yaml:"destructive" json:"destructive"`
	Idempotent       bool `yaml:"idempotent" json:"idempotent"`
	OpenWorld        bool `yaml:"open_world" json:"open_world"`
	RequiresApproval bool `yaml:"requires_approval" json:"requires_approval"`
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

// UnmarshalYAML reads "30s".
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return fmt.Errorf("line %d: want a duration such as 30s", n.Line)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration such as 30s", n.Line, s)
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

// Defaults applied by Normalize.
const (
	DefaultTimeout     = 30 * time.Second
	DefaultMaxAttempts = 3
)

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

// FieldError is one problem in a domain file: which file, which field, what is wrong.
type FieldError struct {
	File    string
	Field   string
	Problem string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("domain config %s: %s: %s", e.File, e.Field, e.Problem)
}

var (
	// Domain names have no "__", so SafeName's "__" separator stays reversible.
	nameRE      = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
	toolNameRE  = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	patternRE   = regexp.MustCompile(`^[a-z0-9_.*]+$`)
	roleRE      = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,63}$`)
	validKinds  = map[string]bool{KindBuiltin: true, KindMCP: true, KindHTTP: true}
	validAction = map[string]bool{ActionExecute: true, ActionApprove: true, ActionReadSensitive: true}
)

// Parse reads one domain file, applies defaults and validates it. Errors are *FieldError.
func Parse(file string, data []byte) (*Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, &FieldError{File: file, Field: "(yaml)", Problem: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	c.File = file
	if err := c.Normalize(); err != nil {
		return nil, err
	}
	return &c, nil
}

// Normalize applies defaults (task queue, namespaced tool names, timeouts, retries, actions)
// and validates the configuration. Tools discovered at run time (kind mcp) are validated with
// it too.
func (c *Config) Normalize() error {
	fail := func(field, format string, args ...any) error {
		return &FieldError{File: c.File, Field: field, Problem: fmt.Sprintf(format, args...)}
	}
	if !nameRE.MatchString(c.Name) || len(c.Name) > 32 {
		return fail("name", "%q must be lower-case letters and digits, words joined by single _, at most 32 characters (it prefixes every tool name)", c.Name)
	}
	if base := strings.TrimSuffix(filepath.Base(c.File), filepath.Ext(c.File)); c.File != "" && base != c.Name {
		return fail("name", "%q does not match the file name %q", c.Name, base)
	}
	if c.Kind == "" {
		c.Kind = KindBuiltin
	}
	if !validKinds[c.Kind] {
		return fail("kind", "%q is not one of builtin, mcp, http", c.Kind)
	}
	if c.TaskQueue == "" {
		c.TaskQueue = "domain-" + c.Name
	}
	if c.Timeout <= 0 {
		c.Timeout = Duration(DefaultTimeout)
	}
	if c.Retry.MaxAttempts == 0 {
		c.Retry.MaxAttempts = DefaultMaxAttempts
	}
	if c.Retry.MaxAttempts < 0 {
		return fail("retry.max_attempts", "must be at least 1")
	}
	if c.Retry.InitialInterval <= 0 {
		c.Retry.InitialInterval = Duration(time.Second)
	}
	if c.Retry.BackoffFactor == 0 {
		c.Retry.BackoffFactor = 2
	}
	if c.Retry.BackoffFactor < 1 {
		return fail("retry.backoff", "must be at least 1")
	}
	if c.Retry.MaxInterval <= 0 {
		c.Retry.MaxInterval = Duration(30 * time.Second)
	}
	switch c.Kind {
	case KindMCP:
		if c.MCP == nil || (c.MCP.URL == "") == (c.MCP.Command == "") {
			return fail("mcp", "a domain of kind mcp needs exactly one of mcp.url or mcp.command")
		}
	case KindHTTP:
		if c.HTTP == nil || c.HTTP.BaseURL == "" {
			return fail("http.base_url", "a domain of kind http needs http.base_url")
		}
	}
	seen := map[string]bool{}
	for i := range c.Tools {
		t := &c.Tools[i]
		field := fmt.Sprintf("tools[%d]", i)
		short, ok := strings.CutPrefix(t.Name, c.Name+".")
		if !ok {
			if strings.Contains(t.Name, ".") {
				return fail(field+".name", "%q is outside the domain's namespace %q: a domain can only declare its own tools", t.Name, c.Name+".*")
			}
			short = t.Name
		}
		t.Name = c.Name + "." + short
		if !toolNameRE.MatchString(short) || len(SafeName(t.Name)) > MaxSafeNameLen {
			return fail(field+".name", "%q must be lower-case letters, digits and _, and %q at most %d characters", short, SafeName(t.Name), MaxSafeNameLen)
		}
		if seen[t.Name] {
			return fail(field+".name", "%q is declared twice", t.Name)
		}
		seen[t.Name] = true
		if strings.TrimSpace(t.Description) == "" {
			return fail(field+".description", "is required: the LLM and MCP clients choose tools by it")
		}
		if t.InputSchema == nil {
			t.InputSchema = map[string]any{"type": "object", "properties": map[string]any{}}
		}
		if t.InputSchema["type"] != "object" {
			return fail(field+".input_schema.type", "must be object")
		}
		if _, err := CompileSchema(t.InputSchema); err != nil {
			return fail(field+".input_schema", "not a valid JSON Schema: %v", err)
		}
		if t.OutputSchema != nil {
			if t.OutputSchema["type"] != "object" {
				return fail(field+".output_schema.type", "must be object (MCP structured content is an object)")
			}
			if _, err := CompileSchema(t.OutputSchema); err != nil {
				return fail(field+".output_schema", "not a valid JSON Schema: %v", err)
			}
		}
		if a := t.Approval; a != nil {
			if a.When != "" {
				if _, err := compileCondition(a.When); err != nil {
					return fail(field+".approval.when", "not a valid CEL condition over args and user: %v", err)
				}
			}
			for j, r := range a.Approvers {
				if !roleRE.MatchString(r) {
					return fail(fmt.Sprintf("%s.approval.approvers[%d]", field, j), "%q is not a role name", r)
				}
			}
			if a.Timeout < 0 {
				return fail(field+".approval.timeout", "must be positive")
			}
		}
		if c.Kind == KindHTTP && t.HTTP == nil {
			return fail(field+".http", "a tool of an http domain needs its http call (method and path)")
		}
	}
	for i := range c.Permissions {
		p := &c.Permissions[i]
		field := fmt.Sprintf("permissions[%d]", i)
		if !roleRE.MatchString(p.Role) {
			return fail(field+".role", "%q must be lower-case letters, digits, _ and -", p.Role)
		}
		if len(p.Tools) == 0 {
			return fail(field+".tools", "lists no tool pattern")
		}
		for j, pat := range p.Tools {
			if !patternRE.MatchString(pat) || !strings.HasPrefix(pat, c.Name+".") {
				return fail(fmt.Sprintf("%s.tools[%d]", field, j), "%q must be a pattern inside the domain's namespace, such as %q", pat, c.Name+".*")
			}
		}
		if len(p.Actions) == 0 {
			p.Actions = []string{ActionExecute}
		}
		for j, a := range p.Actions {
			if !validAction[a] {
				return fail(fmt.Sprintf("%s.actions[%d]", field, j), "%q is not one of execute, approve, read_sensitive", a)
			}
		}
	}
	sort.SliceStable(c.Tools, func(i, j int) bool { return c.Tools[i].Name < c.Tools[j].Name })
	return nil
}

// LoadDir reads every *.yaml file of dir. A broken file is reported in errs and skipped; the
// other domains still load. Disabled domains are returned too (callers check IsEnabled).
func LoadDir(dir string) (cfgs []*Config, errs []error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, []error{fmt.Errorf("list domain configs in %s: %w", dir, err)}
	}
	sort.Strings(files)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			errs = append(errs, fmt.Errorf("read domain config %s: %w", f, err))
			continue
		}
		c, err := Parse(f, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		cfgs = append(cfgs, c)
	}
	return cfgs, errs
}

// Load reads the configuration of one domain from dir.
func Load(dir, name string) (*Config, error) {
	f := filepath.Join(dir, name+".yaml")
	data, err := os.ReadFile(f)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("domain %q has no configuration file %s (MCP_DOMAINS_DIR)", name, f)
	}
	if err != nil {
		return nil, fmt.Errorf("read domain config %s: %w", f, err)
	}
	return Parse(f, data)
}
