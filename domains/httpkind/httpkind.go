// Package httpkind is the adapter of domains of kind http: an internal REST service whose
// endpoints the domain's YAML declares as tools (method, path template, query and body
// arguments, where the result sits in the JSON response). Configuration alone onboards such a
// service; no Go code is written for it.
package httpkind

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

	"mcp-platform/domains"
	"mcp-platform/domains/kit"
	"mcp-platform/internal/telemetry"
	"mcp-platform/internal/version"
)

// maxResponse bounds the size of a response body the adapter reads.
const maxResponse = 10 << 20

// maxMessage bounds the service's error messages passed on to callers and the LLM.
const maxMessage = 1000

var (
	placeholderRE = regexp.MustCompile(`\{([^{}]*)\}`)
	// headerNameRE is the token syntax of RFC 9110 field names.
	headerNameRE = regexp.MustCompile("^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
	methods      = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}
)

// Adapter executes the HTTP calls of one domain's tools. It is safe for concurrent use.
type Adapter struct {
	domain    string
	base      string // base URL without a trailing slash
	headers   http.Header
	tools     map[string]*tool
	transport *http.Transport
	logger    *slog.Logger
}

// tool is one tool's HTTP call, checked at start.
type tool struct {
	name     string
	call     *domains.HTTPCall
	method   string
	timeout  time.Duration
	client   *http.Client
	notFound []int
	inPath   map[string]bool
	inQuery  map[string]bool
}

// New checks deps.Config (kind http) and returns its adapter. It fails when http.base_url is
// not an http(s) URL, when a variable named in http.headers_from_env is not set, or when a
// tool's call is incomplete (method, path, placeholders and arguments that its input schema
// does not declare).
func New(ctx context.Context, deps kit.Deps) (domains.Adapter, error) {
	cfg := deps.Config
	if cfg == nil || cfg.HTTP == nil {
		return nil, errors.New("httpkind: the domain configuration has no http section")
	}
	if deps.Getenv == nil {
		return nil, errors.New("httpkind: no Getenv in the adapter's dependencies")
	}
	base, err := url.Parse(cfg.HTTP.BaseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" || base.RawQuery != "" || base.Fragment != "" {
		return nil, fmt.Errorf("httpkind: domain %s: http.base_url %q must be an http(s) URL without query or fragment", cfg.Name, cfg.HTTP.BaseURL)
	}
	logger := deps.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	a := &Adapter{
		domain:    cfg.Name,
		base:      strings.TrimSuffix(base.String(), "/"),
		headers:   http.Header{},
		tools:     map[string]*tool{},
		transport: http.DefaultTransport.(*http.Transport).Clone(),
		logger:    logger,
	}
	for name, env := range cfg.HTTP.HeadersFromEnv {
		if !headerNameRE.MatchString(name) {
			return nil, fmt.Errorf("httpkind: domain %s: http.headers_from_env: %q is not a header name", cfg.Name, name)
		}
		v := deps.Getenv(env)
		if v == "" {
			return nil, fmt.Errorf("httpkind: domain %s: environment variable %s (header %s in http.headers_from_env) is not set", cfg.Name, env, name)
		}
		a.headers.Set(name, v)
	}
	for i := range cfg.Tools {
		t, err := a.newTool(cfg, &cfg.Tools[i])
		if err != nil {
			return nil, fmt.Errorf("httpkind: domain %s: tool %s: %w", cfg.Name, cfg.Tools[i].Name, err)
		}
		a.tools[t.name] = t
	}
	return a, nil
}

func (a *Adapter) newTool(cfg *domains.Config, ct *domains.Tool) (*tool, error) {
	c := ct.HTTP
	if c == nil {
		return nil, errors.New("http: the call (method and path) is missing")
	}
	method := strings.ToUpper(c.Method)
	if !slices.Contains(methods, method) {
		return nil, fmt.Errorf("http.method %q is not one of %s", c.Method, strings.Join(methods, ", "))
	}
	if c.Path == "" {
		return nil, errors.New("http.path is required (\"/\" for the base URL itself)")
	}
	t := &tool{
		name:     ct.Name,
		call:     c,
		method:   method,
		timeout:  cfg.ToolTimeout(ct),
		notFound: c.NotFoundStatus,
		inPath:   map[string]bool{},
		inQuery:  map[string]bool{},
	}
	if len(t.notFound) == 0 {
		t.notFound = []int{http.StatusNotFound}
	}
	props, declared := ct.InputSchema["properties"].(map[string]any)
	check := func(field, arg string) error {
		if arg == "" {
			return fmt.Errorf("http.%s: an empty argument name", field)
		}
		if _, ok := props[arg]; declared && !ok {
			return fmt.Errorf("http.%s: %q is not an argument of the tool's input_schema", field, arg)
		}
		return nil
	}
	for _, m := range placeholderRE.FindAllStringSubmatch(c.Path, -1) {
		if err := check("path", m[1]); err != nil {
			return nil, err
		}
		t.inPath[m[1]] = true
	}
	for _, q := range c.Query {
		if err := check("query", q); err != nil {
			return nil, err
		}
		t.inQuery[q] = true
	}
	for _, b := range c.Body {
		if err := check("body", b); err != nil {
			return nil, err
		}
	}
	// The timeout covers the whole exchange, body included; redirects are not followed, so
	// the configured headers (credentials) never go anywhere but base_url.
	t.client = &http.Client{
		// Each call is a client span whose context goes upstream in traceparent.
		Transport:     otelhttp.NewTransport(a.transport, otelhttp.WithPropagators(telemetry.Propagator())),
		Timeout:       t.timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return t, nil
}

// Close releases idle connections.
func (a *Adapter) Close() error {
	a.transport.CloseIdleConnections()
	return nil
}

// Call sends the tool's HTTP request, built from call.Args, with the configured headers and
// an Idempotency-Key header, and returns the part of the JSON response http.result points at
// (wrapped as {"result": v} when not an object). Errors: CodeInvalid for a missing path
// argument or a 400/422 answer, CodeNotFound for a not_found_status answer, CodeConflict for
// 409, CodeDenied for 401/403, CodeUnavailable for 408/429/5xx answers, timeouts and
// connection failures, CodeInternal for answers the configuration does not fit.
func (a *Adapter) Call(ctx context.Context, call domains.Call) (any, error) {
	t := a.tools[call.Tool]
	if t == nil {
		return nil, domains.Errorf(domains.CodeInvalid, "the %s service has no tool %q", a.domain, call.Tool)
	}
	req, err := a.request(ctx, t, call)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	resp, err := t.client.Do(req)
	if err != nil {
		return nil, a.transportError(ctx, t, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return nil, a.transportError(ctx, t, err)
	}
	a.logger.DebugContext(ctx, "http tool call", "tool", t.name, "method", t.method, "path", t.call.Path,
		"status", resp.StatusCode, "duration", time.Since(start))
	if len(body) > maxResponse {
		return nil, domains.Errorf(domains.CodeInternal, "the %s service answered with more than %d bytes", a.domain, maxResponse)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, a.statusError(t, resp.StatusCode, body)
	}
	return a.result(t, resp.StatusCode, body)
}

// request builds the HTTP request of one call.
func (a *Adapter) request(ctx context.Context, t *tool, call domains.Call) (*http.Request, error) {
	var missing, dots []string
	path := placeholderRE.ReplaceAllStringFunc(t.call.Path, func(m string) string {
		name := m[1 : len(m)-1]
		v, ok := scalar(call.Args[name])
		switch {
		case !ok || v == "":
			missing = append(missing, name)
			return ""
		case v == "." || v == "..":
			// PathEscape leaves dot segments alone, and they would climb out of the template.
			dots = append(dots, name)
			return ""
		}
		return url.PathEscape(v)
	})
	if len(missing) > 0 {
		return nil, domains.Errorf(domains.CodeInvalid, "%s needs the argument(s) %s (a non-empty string or number)", t.name, strings.Join(missing, ", "))
	}
	if len(dots) > 0 {
		return nil, domains.Errorf(domains.CodeInvalid, "%s: the argument(s) %s may not be . or .. (they would change the path)", t.name, strings.Join(dots, ", "))
	}
	u, err := url.Parse(a.base + "/" + strings.TrimPrefix(path, "/"))
	if err != nil {
		return nil, domains.Errorf(domains.CodeInvalid, "%s: the arguments do not make a valid URL", t.name)
	}
	q := u.Query()
	for _, name := range t.call.Query {
		if err := addQuery(q, name, call.Args[name]); err != nil {
			return nil, domains.Errorf(domains.CodeInvalid, "%s: argument %s: %v", t.name, name, err)
		}
	}
	u.RawQuery = q.Encode()

	var body io.Reader
	if fields, send := t.bodyFields(call.Args); send {
		obj := map[string]any{}
		for _, f := range fields {
			if v, ok := call.Args[f]; ok {
				obj[f] = v
			}
		}
		b, err := json.Marshal(obj)
		if err != nil {
			return nil, domains.Errorf(domains.CodeInvalid, "%s: the arguments cannot be sent as JSON", t.name)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, t.method, u.String(), body)
	if err != nil {
		return nil, &domains.Error{Code: domains.CodeInternal, Message: fmt.Sprintf("%s: cannot build the request", t.name), Err: err}
	}
	for k, vs := range a.headers {
		req.Header[k] = vs
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "mcp-platform/"+version.Version)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if call.IdempotencyKey != "" {
		req.Header.Set("Idempotency-Key", call.IdempotencyKey)
	}
	return req, nil
}

// bodyFields returns the arguments sent in the JSON body, and whether there is a body: the
// listed ones, or, when none are listed and the method has a body, every argument that is not
// in the path or the query.
func (t *tool) bodyFields(args map[string]any) ([]string, bool) {
	if len(t.call.Body) > 0 {
		return t.call.Body, true
	}
	if t.method != http.MethodPost && t.method != http.MethodPut && t.method != http.MethodPatch {
		return nil, false
	}
	var fields []string
	for k := range args {
		if !t.inPath[k] && !t.inQuery[k] {
			fields = append(fields, k)
		}
	}
	return fields, true
}

// scalar formats a string, number or boolean argument for a URL.
func scalar(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32), true
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, json.Number:
		return fmt.Sprint(x), true
	default:
		return "", false
	}
}

// addQuery adds one argument to the query: scalars as they are, arrays as repeated
// parameters, objects as JSON. Absent (or null) arguments are left out.
func addQuery(q url.Values, name string, v any) error {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		for _, e := range x {
			s, ok := scalar(e)
			if !ok {
				return errors.New("array items must be strings, numbers or booleans")
			}
			q.Add(name, s)
		}
		return nil
	case map[string]any:
		b, err := json.Marshal(x)
		if err != nil {
			return err
		}
		q.Add(name, string(b))
		return nil
	}
	s, ok := scalar(v)
	if !ok {
		return fmt.Errorf("a %T cannot be sent as a query parameter", v)
	}
	q.Add(name, s)
	return nil
}

// transportError maps a failure to get an answer to CodeUnavailable.
func (a *Adapter) transportError(ctx context.Context, t *tool, err error) error {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return &domains.Error{Code: domains.CodeUnavailable, Message: fmt.Sprintf("the %s service did not answer within %s", a.domain, t.timeout), Err: err}
	}
	if ctx.Err() != nil {
		return &domains.Error{Code: domains.CodeUnavailable, Message: fmt.Sprintf("the call to the %s service was cancelled", a.domain), Err: err}
	}
	return &domains.Error{Code: domains.CodeUnavailable, Message: fmt.Sprintf("the %s service is unavailable", a.domain), Err: err}
}

// statusError maps an answer other than 2xx to a domain error, with the service's own message
// when its JSON body has one.
func (a *Adapter) statusError(t *tool, status int, body []byte) error {
	msg := serverMessage(body)
	or := func(def string) string {
		if msg != "" {
			return msg
		}
		return def
	}
	switch {
	case slices.Contains(t.notFound, status):
		return domains.Errorf(domains.CodeNotFound, "%s", or(fmt.Sprintf("the %s service found nothing for this request (HTTP %d)", a.domain, status)))
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return domains.Errorf(domains.CodeDenied, "the %s service refused the platform's credentials", a.domain)
	case status == http.StatusBadRequest || status == http.StatusUnprocessableEntity:
		return domains.Errorf(domains.CodeInvalid, "%s", or(fmt.Sprintf("the %s service rejected the arguments (HTTP %d)", a.domain, status)))
	case status == http.StatusConflict:
		return domains.Errorf(domains.CodeConflict, "%s", or(fmt.Sprintf("the %s service reports a conflict with the current state (HTTP %d)", a.domain, status)))
	case status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500:
		return domains.Errorf(domains.CodeUnavailable, "the %s service is unavailable (HTTP %d)", a.domain, status)
	case status >= 400:
		return domains.Errorf(domains.CodeInvalid, "%s", or(fmt.Sprintf("the %s service refused the request (HTTP %d)", a.domain, status)))
	case status >= 300:
		return domains.Errorf(domains.CodeInternal, "the %s service answered with a redirect (HTTP %d); point http.base_url at the final address", a.domain, status)
	default:
		return domains.Errorf(domains.CodeInternal, "the %s service answered HTTP %d", a.domain, status)
	}
}

// serverMessage returns the message of a JSON error body: its "message", its "error" (a
// string, or an object with a message), or its "detail" (RFC 9457).
func serverMessage(body []byte) string {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return ""
	}
	if s, ok := m["message"].(string); ok && strings.TrimSpace(s) != "" {
		return clip(s)
	}
	switch e := m["error"].(type) {
	case string:
		if strings.TrimSpace(e) != "" {
			return clip(e)
		}
	case map[string]any:
		if s, ok := e["message"].(string); ok && strings.TrimSpace(s) != "" {
			return clip(s)
		}
	}
	if s, ok := m["detail"].(string); ok && strings.TrimSpace(s) != "" {
		return clip(s)
	}
	return ""
}

func clip(s string) string {
	s = strings.TrimSpace(s)
	if len(s) <= maxMessage {
		return s
	}
	return strings.ToValidUTF8(s[:maxMessage], "") + "…"
}

// result extracts the tool's result from a 2xx answer.
func (a *Adapter) result(t *tool, status int, body []byte) (any, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		if t.call.Result != "" {
			return nil, domains.Errorf(domains.CodeInternal, "the %s service answered HTTP %d without a body, so it has no %q (http.result of %s)", a.domain, status, t.call.Result, t.name)
		}
		return map[string]any{"status": status}, nil
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		if t.call.Result != "" {
			return nil, domains.Errorf(domains.CodeInternal, "the %s service did not answer JSON, so it has no %q (http.result of %s)", a.domain, t.call.Result, t.name)
		}
		return map[string]any{"text": clip(string(body))}, nil
	}
	if t.call.Result != "" {
		var ok bool
		if v, ok = lookup(v, t.call.Result); !ok {
			return nil, domains.Errorf(domains.CodeInternal, "the answer of the %s service has no %q (http.result of %s)", a.domain, t.call.Result, t.name)
		}
	}
	if m, ok := v.(map[string]any); ok {
		return m, nil
	}
	// MCP structured content is an object.
	return map[string]any{"result": v}, nil
}

// lookup follows a dot path ("data.items", "items.0") into a decoded JSON value.
func lookup(v any, path string) (any, bool) {
	for _, seg := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[seg]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}
