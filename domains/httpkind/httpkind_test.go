package httpkind_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"mcp-platform/domains"
	"mcp-platform/domains/domainconfig"
	"mcp-platform/domains/httpkind"
	"mcp-platform/domains/kit"
)

const secret = "Bearer very-secret-value"

// seen is one request as the service received it.
type seen struct {
	Method     string
	RequestURI string
	Query      url.Values
	Header     http.Header
	Body       string
}

// service is a fake REST service: it records requests and answers what the test sets.
type service struct {
	*httptest.Server
	mu     sync.Mutex
	last   seen
	status int
	body   string
	delay  time.Duration
}

func newService(tb testing.TB) *service {
	tb.Helper()
	s := &service{status: http.StatusOK, body: `{}`}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.last = seen{Method: r.Method, RequestURI: r.RequestURI, Query: r.URL.Query(), Header: r.Header.Clone(), Body: string(b)}
		status, body, delay := s.status, s.body, s.delay
		s.mu.Unlock()
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	tb.Cleanup(s.Close)
	return s
}

func (s *service) answer(status int, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status, s.body, s.delay = status, body, 0
}

func (s *service) request() seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

func obj(props ...string) map[string]any {
	p := map[string]any{}
	for _, n := range props {
		p[n] = map[string]any{}
	}
	return map[string]any{"type": "object", "properties": p}
}

// testConfig is a domain with one tool per feature under test.
func testConfig(tb testing.TB, baseURL string) *domains.Config {
	tb.Helper()
	cfg := &domains.Config{
		Name: "crm", Description: "CRM.", Kind: domains.KindHTTP,
		HTTP: &domains.HTTPSource{BaseURL: baseURL, HeadersFromEnv: map[string]string{"Authorization": "CRM_AUTH", "X-Tenant": "CRM_TENANT"}},
		Tools: []domains.Tool{
			{Name: "get_customer", Description: "d", InputSchema: obj("customer_id"),
				HTTP: &domains.HTTPCall{Method: "GET", Path: "/customers/{customer_id}", Result: "data", NotFoundStatus: []int{404, 410}}},
			{Name: "search", Description: "d", InputSchema: obj("query", "limit", "tags", "active"),
				HTTP: &domains.HTTPCall{Method: "get", Path: "/customers", Query: []string{"query", "limit", "tags", "active"}, Result: "data.items"}},
			{Name: "create_note", Description: "d", InputSchema: obj("customer_id", "text", "extra"),
				HTTP: &domains.HTTPCall{Method: "POST", Path: "/customers/{customer_id}/notes", Body: []string{"text"}}},
			{Name: "update_customer", Description: "d", InputSchema: obj("customer_id", "name", "status", "dry_run"),
				HTTP: &domains.HTTPCall{Method: "PATCH", Path: "/customers/{customer_id}", Query: []string{"dry_run"}}},
			{Name: "slow", Description: "d", Timeout: domains.Duration(100 * time.Millisecond),
				HTTP: &domains.HTTPCall{Method: "GET", Path: "/slow"}},
			{Name: "raw", Description: "d", HTTP: &domains.HTTPCall{Method: "GET", Path: "/raw"}},
			{Name: "first", Description: "d", HTTP: &domains.HTTPCall{Method: "GET", Path: "/first", Result: "items.0"}},
		},
	}
	require.NoError(tb, domainconfig.Normalize(cfg))
	return cfg
}

var testEnv = map[string]string{"CRM_AUTH": secret, "CRM_TENANT": "acme"}

func getenv(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func newAdapter(tb testing.TB, cfg *domains.Config, logger *slog.Logger) domains.Adapter {
	tb.Helper()
	a, err := httpkind.New(context.Background(), kit.Deps{Config: cfg, Getenv: getenv(testEnv), Logger: logger})
	require.NoError(tb, err)
	return a
}

func call(a domains.Adapter, tool string, args map[string]any) (any, error) {
	return a.Call(context.Background(), domains.Call{Tool: tool, Args: args, IdempotencyKey: "wf-9/call-2", Subject: "tester"})
}

func requireCode(tb testing.TB, err error, code domains.ErrorCode) {
	tb.Helper()
	require.Error(tb, err)
	require.Equal(tb, code, domains.CodeOf(err), "error: %v", err)
}

func TestRequest(t *testing.T) {
	svc := newService(t)
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a := newAdapter(t, testConfig(t, svc.URL+"/api/"), logger)

	t.Run("OK path escaping", func(t *testing.T) {
		svc.answer(200, `{"data": {"id": "a/b c"}}`)
		got, err := call(a, "crm.get_customer", map[string]any{"customer_id": "a/b c?x"})
		require.NoError(t, err)
		require.Equal(t, map[string]any{"id": "a/b c"}, got)
		r := svc.request()
		require.Equal(t, "GET", r.Method)
		require.Equal(t, "/api/customers/a%2Fb%20c%3Fx", r.RequestURI)
		require.Empty(t, r.Body)
	})

	t.Run("OK numbers in the path", func(t *testing.T) {
		svc.answer(200, `{"data": {}}`)
		_, err := call(a, "crm.get_customer", map[string]any{"customer_id": float64(1234567)})
		require.NoError(t, err)
		require.Equal(t, "/api/customers/1234567", svc.request().RequestURI)
	})

	t.Run("OK query", func(t *testing.T) {
		svc.answer(200, `{"data": {"items": [{"id": "C1"}]}}`)
		_, err := call(a, "crm.search", map[string]any{"query": "a&b=c", "limit": float64(5), "tags": []any{"x", "y"}, "active": true})
		require.NoError(t, err)
		r := svc.request()
		require.Equal(t, url.Values{"query": {"a&b=c"}, "limit": {"5"}, "tags": {"x", "y"}, "active": {"true"}}, r.Query)
		require.Empty(t, r.Body)
	})

	t.Run("OK absent query arguments are left out", func(t *testing.T) {
		svc.answer(200, `{"data": {"items": []}}`)
		_, err := call(a, "crm.search", map[string]any{"query": "x"})
		require.NoError(t, err)
		require.Equal(t, url.Values{"query": {"x"}}, svc.request().Query)
	})

	t.Run("OK listed body arguments", func(t *testing.T) {
		svc.answer(201, `{"id": "N1"}`)
		_, err := call(a, "crm.create_note", map[string]any{"customer_id": "C1", "text": "Called them.", "extra": 1})
		require.NoError(t, err)
		r := svc.request()
		require.Equal(t, "POST", r.Method)
		require.Equal(t, "/api/customers/C1/notes", r.RequestURI)
		require.JSONEq(t, `{"text": "Called them."}`, r.Body)
		require.Equal(t, "application/json", r.Header.Get("Content-Type"))
	})

	t.Run("OK remaining arguments as the body", func(t *testing.T) {
		svc.answer(200, `{"id": "C1"}`)
		_, err := call(a, "crm.update_customer", map[string]any{"customer_id": "C1", "name": "Acme", "status": "customer", "dry_run": false})
		require.NoError(t, err)
		r := svc.request()
		require.Equal(t, "PATCH", r.Method)
		require.Equal(t, "/api/customers/C1?dry_run=false", r.RequestURI)
		require.JSONEq(t, `{"name": "Acme", "status": "customer"}`, r.Body)
	})

	t.Run("OK headers from the environment and idempotency key", func(t *testing.T) {
		svc.answer(200, `{"data": {}}`)
		_, err := call(a, "crm.get_customer", map[string]any{"customer_id": "C1"})
		require.NoError(t, err)
		h := svc.request().Header
		require.Equal(t, secret, h.Get("Authorization"))
		require.Equal(t, "acme", h.Get("X-Tenant"))
		require.Equal(t, "wf-9/call-2", h.Get("Idempotency-Key"))
		require.Equal(t, "application/json", h.Get("Accept"))
	})

	t.Run("OK header values are never logged", func(t *testing.T) {
		require.Contains(t, logs.String(), "http tool call")
		require.NotContains(t, logs.String(), "very-secret-value")
	})

	t.Run("ErrMissingPathArgument", func(t *testing.T) {
		_, err := call(a, "crm.get_customer", map[string]any{})
		requireCode(t, err, domains.CodeInvalid)
		require.Contains(t, err.Error(), "customer_id")
		_, err = call(a, "crm.get_customer", map[string]any{"customer_id": ""})
		requireCode(t, err, domains.CodeInvalid)
	})

	t.Run("ErrDotSegments cannot climb out of the path template", func(t *testing.T) {
		for _, v := range []string{".", ".."} {
			_, err := call(a, "crm.get_customer", map[string]any{"customer_id": v})
			requireCode(t, err, domains.CodeInvalid)
			require.Contains(t, err.Error(), "may not be . or ..")
		}
		svc.answer(200, `{"data": {}}`)
		_, err := call(a, "crm.get_customer", map[string]any{"customer_id": "..a"})
		require.NoError(t, err, "dots inside a value are fine")
		require.Equal(t, "/api/customers/..a", svc.request().RequestURI)
	})
}

func TestResult(t *testing.T) {
	svc := newService(t)
	a := newAdapter(t, testConfig(t, svc.URL), nil)
	tests := map[string]struct {
		tool string
		body string
		want any
	}{
		"OK object at the path":           {tool: "crm.get_customer", body: `{"data": {"id": "C1", "n": 2}}`, want: map[string]any{"id": "C1", "n": float64(2)}},
		"OK array at the path is wrapped": {tool: "crm.search", body: `{"data": {"items": [1, 2]}}`, want: map[string]any{"result": []any{float64(1), float64(2)}}},
		"OK whole response":               {tool: "crm.raw", body: `{"a": {"b": true}}`, want: map[string]any{"a": map[string]any{"b": true}}},
		"OK scalar response is wrapped":   {tool: "crm.raw", body: `"done"`, want: map[string]any{"result": "done"}},
		"OK null at the path":             {tool: "crm.get_customer", body: `{"data": null}`, want: map[string]any{"result": nil}},
		"OK array index in the path":      {tool: "crm.first", body: `{"items": [{"id": "x"}]}`, want: map[string]any{"id": "x"}},
		"OK empty body":                   {tool: "crm.raw", body: ``, want: map[string]any{"status": float64(200)}},
		"OK text body":                    {tool: "crm.raw", body: `plain words`, want: map[string]any{"text": "plain words"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			svc.answer(200, tc.body)
			got, err := call(a, tc.tool, map[string]any{"customer_id": "C1"})
			require.NoError(t, err)
			b, err := json.Marshal(got)
			require.NoError(t, err)
			var norm any
			require.NoError(t, json.Unmarshal(b, &norm))
			require.Equal(t, tc.want, norm)
		})
	}

	t.Run("ErrPathNotInResponse", func(t *testing.T) {
		svc.answer(200, `{"other": 1}`)
		_, err := call(a, "crm.get_customer", map[string]any{"customer_id": "C1"})
		requireCode(t, err, domains.CodeInternal)
		require.Contains(t, err.Error(), `"data"`)
	})
}

func TestStatus(t *testing.T) {
	svc := newService(t)
	a := newAdapter(t, testConfig(t, svc.URL), nil)
	tests := map[string]struct {
		status int
		body   string
		code   domains.ErrorCode
		msg    string
	}{
		"ErrNotFound":                {404, `{"error": "customer C9 not found"}`, domains.CodeNotFound, "customer C9 not found"},
		"ErrNotFoundConfiguredGone":  {410, `{}`, domains.CodeNotFound, "found nothing"},
		"ErrNotFoundNestedMessage":   {404, `{"error": {"code": "nf", "message": "no such customer"}}`, domains.CodeNotFound, "no such customer"},
		"ErrBadRequest":              {400, `{"message": "customer_id is malformed"}`, domains.CodeInvalid, "customer_id is malformed"},
		"ErrUnprocessable":           {422, `{"detail": "status must be lead or customer"}`, domains.CodeInvalid, "status must be lead or customer"},
		"ErrConflict":                {409, `{"error": "customer is archived"}`, domains.CodeConflict, "customer is archived"},
		"ErrUnauthorized":            {401, `{"error": "bad token"}`, domains.CodeDenied, "the crm service refused the platform's credentials"},
		"ErrForbidden":               {403, ``, domains.CodeDenied, "the crm service refused the platform's credentials"},
		"ErrServerError":             {500, `{"error": "boom"}`, domains.CodeUnavailable, "HTTP 500"},
		"ErrBadGateway":              {502, `<html>`, domains.CodeUnavailable, "HTTP 502"},
		"ErrServiceUnavailable":      {503, ``, domains.CodeUnavailable, "HTTP 503"},
		"ErrTooManyRequests":         {429, ``, domains.CodeUnavailable, "HTTP 429"},
		"ErrOtherClientError":        {405, ``, domains.CodeInvalid, "HTTP 405"},
		"ErrRedirectIsNotFollowed":   {302, ``, domains.CodeInternal, "redirect"},
		"ErrNonJSONNotFoundFallback": {404, `not here`, domains.CodeNotFound, "HTTP 404"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			svc.answer(tc.status, tc.body)
			_, err := call(a, "crm.get_customer", map[string]any{"customer_id": "C9"})
			requireCode(t, err, tc.code)
			require.Contains(t, err.Error(), tc.msg)
		})
	}
}

func TestUnavailable(t *testing.T) {
	t.Run("ErrTimeout", func(t *testing.T) {
		svc := newService(t)
		svc.answer(200, `{}`)
		svc.mu.Lock()
		svc.delay = 5 * time.Second
		svc.mu.Unlock()
		a := newAdapter(t, testConfig(t, svc.URL), nil)
		start := time.Now()
		_, err := call(a, "crm.slow", nil)
		requireCode(t, err, domains.CodeUnavailable)
		require.Contains(t, err.Error(), "did not answer within 100ms")
		require.Less(t, time.Since(start), 2*time.Second)
	})

	t.Run("ErrConnectionRefused", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := l.Addr().String()
		require.NoError(t, l.Close())
		a := newAdapter(t, testConfig(t, "http://"+addr), nil)
		_, err = call(a, "crm.raw", nil)
		requireCode(t, err, domains.CodeUnavailable)
		require.Contains(t, err.Error(), "the crm service is unavailable")
	})
}

func TestNew(t *testing.T) {
	tests := map[string]struct {
		change func(*domains.Config)
		env    map[string]string
		want   string
	}{
		"ErrMissingHeaderEnv":   {env: map[string]string{"CRM_AUTH": secret}, want: "CRM_TENANT"},
		"ErrBaseURL":            {change: func(c *domains.Config) { c.HTTP.BaseURL = "ftp://x" }, env: testEnv, want: "http.base_url"},
		"ErrBaseURLQuery":       {change: func(c *domains.Config) { c.HTTP.BaseURL = "http://x/?a=1" }, env: testEnv, want: "without query"},
		"ErrHeaderName":         {change: func(c *domains.Config) { c.HTTP.HeadersFromEnv["Bad Header"] = "CRM_AUTH" }, env: testEnv, want: "not a header name"},
		"ErrMethod":             {change: func(c *domains.Config) { c.Tools[0].HTTP.Method = "FETCH" }, env: testEnv, want: "http.method"},
		"ErrNoPath":             {change: func(c *domains.Config) { c.Tools[0].HTTP.Path = "" }, env: testEnv, want: "http.path is required"},
		"ErrUnknownPlaceholder": {change: func(c *domains.Config) { c.Tools[0].HTTP.Path = "/x/{id}" }, env: testEnv, want: `"id" is not an argument`},
		"ErrUnknownQueryArg":    {change: func(c *domains.Config) { c.Tools[0].HTTP.Query = []string{"nope"} }, env: testEnv, want: `"nope" is not an argument`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cfg := testConfig(t, "http://127.0.0.1:1")
			if tc.change != nil {
				tc.change(cfg)
			}
			_, err := httpkind.New(context.Background(), kit.Deps{Config: cfg, Getenv: getenv(tc.env)})
			require.ErrorContains(t, err, tc.want)
			require.NotContains(t, err.Error(), "very-secret-value")
		})
	}
}

// TestExampleConfigs checks that the example domains parse, and runs the CRM example against a
// fake CRM.
func TestExampleConfigs(t *testing.T) {
	const dir = "../../config/examples/domains"
	for _, name := range []string{"crm", "wiki"} {
		t.Run("OK parses "+name, func(t *testing.T) {
			cfg, err := domainconfig.Load(dir, name)
			require.NoError(t, err)
			require.Equal(t, name, cfg.Name)
		})
	}

	t.Run("OK crm against a fake CRM", func(t *testing.T) {
		cfg, err := domainconfig.Load(dir, "crm")
		require.NoError(t, err)
		require.Equal(t, domains.KindHTTP, cfg.Kind)
		require.Equal(t, "http://127.0.0.1:9090", cfg.HTTP.BaseURL)
		note := cfg.Tool("crm.create_note")
		require.NotNil(t, note)
		require.False(t, note.Annotations.RequiresApproval)
		require.True(t, note.Annotations.Idempotent)

		svc := newService(t)
		cfg.HTTP.BaseURL = svc.URL
		a, err := httpkind.New(context.Background(), kit.Deps{Config: cfg, Getenv: getenv(map[string]string{"CRM_AUTH_HEADER": secret})})
		require.NoError(t, err)

		svc.answer(200, `{"data": {"id": "C001", "company": "Acme", "status": "customer"}}`)
		got, err := call(a, "crm.get_customer", map[string]any{"customer_id": "C001"})
		require.NoError(t, err)
		require.Equal(t, "Acme", got.(map[string]any)["company"])
		require.Equal(t, secret, svc.request().Header.Get("Authorization"))

		svc.answer(200, `{"data": [{"id": "C001", "company": "Acme"}]}`)
		got, err = call(a, "crm.search_customers", map[string]any{"query": "acme", "limit": float64(5)})
		require.NoError(t, err)
		require.Len(t, got.(map[string]any)["result"], 1)
		require.Equal(t, "/customers?limit=5&query=acme", svc.request().RequestURI)

		svc.answer(201, `{"data": {"id": "N1", "customer_id": "C001", "text": "hi"}}`)
		_, err = call(a, "crm.create_note", map[string]any{"customer_id": "C001", "text": "hi"})
		require.NoError(t, err)
		r := svc.request()
		require.Equal(t, "/customers/C001/notes", r.RequestURI)
		require.JSONEq(t, `{"text": "hi"}`, r.Body)
		require.Equal(t, "wf-9/call-2", r.Header.Get("Idempotency-Key"))

		svc.answer(404, `{"error": "customer C404 not found"}`)
		_, err = call(a, "crm.get_customer", map[string]any{"customer_id": "C404"})
		requireCode(t, err, domains.CodeNotFound)
		require.Contains(t, err.Error(), "customer C404 not found")
	})
}
