// Package domainconfig reads the domain files (config/domains/<name>.yaml): it decodes them
// strictly, applies defaults and validates every field, naming the file and field of each
// problem. Tools discovered at run time (kind mcp) are validated with Normalize too.
package domainconfig

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"mcp-platform/domains"
	"mcp-platform/domains/policy"
)

// Defaults applied by Normalize.
const (
	DefaultTimeout     = 30 * time.Second
	DefaultMaxAttempts = 3
)

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
	validKinds  = map[string]bool{domains.KindBuiltin: true, domains.KindMCP: true, domains.KindHTTP: true}
	validAction = map[string]bool{domains.ActionExecute: true, domains.ActionApprove: true, domains.ActionReadSensitive: true}
)

// Parse reads one domain file, applies defaults and validates it. Errors are *FieldError.
func Parse(file string, data []byte) (*domains.Config, error) {
	var c domains.Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, &FieldError{File: file, Field: "(yaml)", Problem: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	c.File = file
	if err := Normalize(&c); err != nil {
		return nil, err
	}
	return &c, nil
}

// Normalize applies defaults (task queue, namespaced tool names, timeouts, retries, actions)
// and validates the configuration. Tools discovered at run time (kind mcp) are validated with
// it too. Errors are *FieldError.
func Normalize(c *domains.Config) error {
	n := normalizer{c: c}
	for _, step := range []func() error{n.identity, n.defaults, n.source, n.tools, n.permissions} {
		if err := step(); err != nil {
			return err
		}
	}
	sort.SliceStable(c.Tools, func(i, j int) bool { return c.Tools[i].Name < c.Tools[j].Name })
	return nil
}

// normalizer holds the configuration being normalized; each method is one step of Normalize.
type normalizer struct{ c *domains.Config }

func (n normalizer) fail(field, format string, args ...any) error {
	return &FieldError{File: n.c.File, Field: field, Problem: fmt.Sprintf(format, args...)}
}

// identity checks the name (against the file name too) and the kind.
func (n normalizer) identity() error {
	c := n.c
	if !nameRE.MatchString(c.Name) || len(c.Name) > 32 {
		return n.fail("name", "%q must be lower-case letters and digits, words joined by single _, at most 32 characters (it prefixes every tool name)", c.Name)
	}
	if base := strings.TrimSuffix(filepath.Base(c.File), filepath.Ext(c.File)); c.File != "" && base != c.Name {
		return n.fail("name", "%q does not match the file name %q", c.Name, base)
	}
	if c.Kind == "" {
		c.Kind = domains.KindBuiltin
	}
	if !validKinds[c.Kind] {
		return n.fail("kind", "%q is not one of builtin, mcp, http", c.Kind)
	}
	return nil
}

// defaults fills the task queue, timeout and retry policy.
func (n normalizer) defaults() error {
	c := n.c
	// The queue is derived from the name, so no domain can claim another's and receive its
	// callers' principals and arguments.
	if want := "domain-" + c.Name; c.TaskQueue == "" {
		c.TaskQueue = want
	} else if c.TaskQueue != want {
		return n.fail("task_queue", "%q must be %q: a domain's task queue is derived from its name (omit it)", c.TaskQueue, want)
	}
	if c.Timeout <= 0 {
		c.Timeout = domains.Duration(DefaultTimeout)
	}
	r := &c.Retry
	if r.MaxAttempts == 0 {
		r.MaxAttempts = DefaultMaxAttempts
	}
	if r.MaxAttempts < 0 {
		return n.fail("retry.max_attempts", "must be at least 1")
	}
	if r.InitialInterval <= 0 {
		r.InitialInterval = domains.Duration(time.Second)
	}
	if r.BackoffFactor == 0 {
		r.BackoffFactor = 2
	}
	if r.BackoffFactor < 1 {
		return n.fail("retry.backoff", "must be at least 1")
	}
	if r.MaxInterval <= 0 {
		r.MaxInterval = domains.Duration(30 * time.Second)
	}
	return nil
}

// source checks the kind's own block (mcp or http).
func (n normalizer) source() error {
	c := n.c
	switch c.Kind {
	case domains.KindMCP:
		if c.MCP == nil || (c.MCP.URL == "") == (c.MCP.Command == "") {
			return n.fail("mcp", "a domain of kind mcp needs exactly one of mcp.url or mcp.command")
		}
		switch c.MCP.Publish {
		case "", domains.PublishPrefixed, domains.PublishUnprefixed:
		default:
			return n.fail("mcp.publish", "%q is not one of %s (tools named <domain>__<tool> on /mcp, the default) or %s (the upstream's own names)",
				c.MCP.Publish, domains.PublishPrefixed, domains.PublishUnprefixed)
		}
		for i, r := range c.MCP.Roots {
			if u, err := url.Parse(r.URI); err != nil || u.Scheme == "" {
				return n.fail(fmt.Sprintf("mcp.roots[%d].uri", i), "must be an absolute URI such as file:///srv/data")
			}
		}
	case domains.KindHTTP:
		if c.HTTP == nil || c.HTTP.BaseURL == "" {
			return n.fail("http.base_url", "a domain of kind http needs http.base_url")
		}
	}
	return nil
}

// tools namespaces and checks every tool.
func (n normalizer) tools() error {
	seen := map[string]bool{}
	for i := range n.c.Tools {
		t := &n.c.Tools[i]
		field := fmt.Sprintf("tools[%d]", i)
		if err := n.toolName(t, field); err != nil {
			return err
		}
		if seen[t.Name] {
			return n.fail(field+".name", "%q is declared twice", t.Name)
		}
		seen[t.Name] = true
		if strings.TrimSpace(t.Description) == "" {
			return n.fail(field+".description", "is required: the LLM and MCP clients choose tools by it")
		}
		if err := n.schemas(t, field); err != nil {
			return err
		}
		if err := n.approval(t.Approval, field+".approval"); err != nil {
			return err
		}
		if n.c.Kind == domains.KindHTTP && t.HTTP == nil {
			return n.fail(field+".http", "a tool of an http domain needs its http call (method and path)")
		}
	}
	return nil
}

// toolName puts a tool's name in the domain's namespace and checks it.
func (n normalizer) toolName(t *domains.Tool, field string) error {
	c := n.c
	short, ok := strings.CutPrefix(t.Name, c.Name+".")
	if !ok {
		if strings.Contains(t.Name, ".") {
			return n.fail(field+".name", "%q is outside the domain's namespace %q: a domain can only declare its own tools", t.Name, c.Name+".*")
		}
		short = t.Name
	}
	t.Name = c.Name + "." + short
	if !toolNameRE.MatchString(short) || len(domains.SafeName(t.Name)) > domains.MaxSafeNameLen {
		return n.fail(field+".name", "%q must be lower-case letters, digits and _, and %q at most %d characters", short, domains.SafeName(t.Name), domains.MaxSafeNameLen)
	}
	return nil
}

// schemas defaults and compiles a tool's input and output schemas.
func (n normalizer) schemas(t *domains.Tool, field string) error {
	if t.InputSchema == nil {
		t.InputSchema = map[string]any{"type": "object", "properties": map[string]any{}}
	}
	if t.InputSchema["type"] != "object" {
		return n.fail(field+".input_schema.type", "must be object")
	}
	if _, err := policy.CompileSchema(t.InputSchema); err != nil {
		return n.fail(field+".input_schema", "not a valid JSON Schema: %v", err)
	}
	if t.OutputSchema == nil {
		return nil
	}
	if t.OutputSchema["type"] != "object" {
		return n.fail(field+".output_schema.type", "must be object (MCP structured content is an object)")
	}
	if _, err := policy.CompileSchema(t.OutputSchema); err != nil {
		return n.fail(field+".output_schema", "not a valid JSON Schema: %v", err)
	}
	return nil
}

// approval checks a tool's approval block, when it has one.
func (n normalizer) approval(a *domains.Approval, field string) error {
	if a == nil {
		return nil
	}
	if a.When != "" {
		if _, err := policy.CompileCondition(a.When); err != nil {
			return n.fail(field+".when", "not a valid CEL condition over args and user: %v", err)
		}
	}
	for j, r := range a.Approvers {
		if !roleRE.MatchString(r) {
			return n.fail(fmt.Sprintf("%s.approvers[%d]", field, j), "%q is not a role name", r)
		}
	}
	if a.Timeout < 0 {
		return n.fail(field+".timeout", "must be positive")
	}
	return nil
}

// permissions checks each grant stays inside the domain's namespace, defaulting actions.
func (n normalizer) permissions() error {
	c := n.c
	for i := range c.Permissions {
		p := &c.Permissions[i]
		field := fmt.Sprintf("permissions[%d]", i)
		if !roleRE.MatchString(p.Role) {
			return n.fail(field+".role", "%q must be lower-case letters, digits, _ and -", p.Role)
		}
		if len(p.Tools) == 0 {
			return n.fail(field+".tools", "lists no tool pattern")
		}
		for j, pat := range p.Tools {
			if !patternRE.MatchString(pat) || !strings.HasPrefix(pat, c.Name+".") {
				return n.fail(fmt.Sprintf("%s.tools[%d]", field, j), "%q must be a pattern inside the domain's namespace, such as %q", pat, c.Name+".*")
			}
		}
		if len(p.Actions) == 0 {
			p.Actions = []string{domains.ActionExecute}
		}
		for j, a := range p.Actions {
			if !validAction[a] {
				return n.fail(fmt.Sprintf("%s.actions[%d]", field, j), "%q is not one of execute, approve, read_sensitive", a)
			}
		}
	}
	return nil
}

// LoadDir reads every *.yaml file of dir. A broken file is reported in errs and skipped; the
// other domains still load. Disabled domains are returned too (callers check IsEnabled).
func LoadDir(dir string) (cfgs []*domains.Config, errs []error) {
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
func Load(dir, name string) (*domains.Config, error) {
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
