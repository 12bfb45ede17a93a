package mcpserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"mcp-platform/domains"
	"mcp-platform/domains/domainconfig"
	"mcp-platform/domains/kit"
	"mcp-platform/domains/registry"
	"mcp-platform/internal/redact"
	"mcp-platform/platform"
	"mcp-platform/platform/platformtest"
)

// demoYAML is a small domain whose backend is a stand-in for a business system.
const demoYAML = `
name: %s
description: A demo back office used by the MCP server tests.
version: 1.0.0
sensitive_fields: [secret_code]
permissions:
  - role: clerk
    tools: ["%[1]s.*"]
  - role: viewer
    tools: ["%[1]s.get_record"]
  - role: officer
    tools: ["%[1]s.*"]
    actions: [execute, read_sensitive]
retry:
  max_attempts: 3
  initial_interval: 100ms
tools:
  - name: get_record
    description: Fetch a record by its ID.
    annotations: {read_only: true, idempotent: true}
    input_schema:
      type: object
      required: [record_id]
      additionalProperties: false
      properties:
        record_id: {type: string, pattern: "^R[0-9]{3}$", description: "Record ID such as R001"}
        password: {type: string}
    output_schema:
      type: object
      required: [record_id, name]
      properties:
        record_id: {type: string}
        name: {type: string}
        secret_code: {type: string}
  - name: flaky_write
    description: Writes something; the backend fails on the first attempt of each call.
    annotations: {destructive: true, idempotent: true}
    input_schema: {type: object, properties: {value: {type: integer}}}
`

// backend is the demo domain's business system: records, and a write that fails once per
// idempotency key before succeeding (as a flaky network would).
type backend struct {
	mu      sync.Mutex
	seen    map[string]int
	applied atomic.Int32
	// release lets slow_write finish.
	release chan struct{}
}

func (b *backend) Call(ctx context.Context, c domains.Call) (any, error) {
	switch domains.SafeName(c.Tool)[strings.Index(domains.SafeName(c.Tool), "__")+2:] {
	case "get_record":
		id := c.Args["record_id"].(string)
		if id != "R001" {
			return nil, domains.Errorf(domains.CodeNotFound, "no record %q", id)
		}
		return map[string]any{"record_id": id, "name": "Quarterly report", "secret_code": "TOPSECRET-42"}, nil
	case "flaky_write":
		b.mu.Lock()
		defer b.mu.Unlock()
		b.seen[c.IdempotencyKey]++
		if b.seen[c.IdempotencyKey] == 1 {
			return nil, domains.Errorf(domains.CodeUnavailable, "backend timed out")
		}
		b.applied.Add(1)
		return map[string]any{"ok": true}, nil
	case "slow_write":
		select {
		case <-b.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return map[string]any{"written": c.Args["value"]}, nil
	case "guarded_write":
		b.applied.Add(1)
		return map[string]any{"written": c.Args["value"]}, nil
	}
	return nil, domains.Errorf(domains.CodeNotFound, "no tool %s", c.Tool)
}

type fixture struct {
	*platformtest.Stack
	backend *backend
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	s := platformtest.Start(t, platformtest.Options{})
	return &fixture{Stack: s, backend: &backend{seen: map[string]int{}, release: make(chan struct{})}}
}

// startDomain runs a worker for a demo domain named name until the test ends, and waits until
// the catalog offers its tools.
func (f *fixture) startDomain(t *testing.T, name string) {
	t.Helper()
	f.runDomain(t, name)
	f.waitTool(t, name+".get_record", true)
}

// runDomain runs a worker for a demo domain named name until the test ends.
func (f *fixture) runDomain(t *testing.T, name string) {
	t.Helper()
	f.runDomainYAML(t, name, demoYAML)
}

// runDomainYAML runs a worker for a domain named name configured by yaml (a format whose %[1]s
// is the name) until the test ends.
func (f *fixture) runDomainYAML(t *testing.T, name, yaml string) {
	t.Helper()
	f.runDomainWith(t, fmt.Sprintf(yaml, name), func(context.Context, kit.Deps) (domains.Adapter, error) { return f.backend, nil })
}

// runDomainWith runs a worker for the domain configured by yaml, whose adapter factory makes,
// until the test ends.
func (f *fixture) runDomainWith(t *testing.T, yaml string, factory kit.Factory) {
	t.Helper()
	dc, err := domainconfig.Parse("", []byte(yaml))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- platform.RunDomainWorker(ctx, f.Env, dc, factory)
	}()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
}

// waitTool waits until the catalog does (or does not) offer tool as available.
func (f *fixture) waitTool(t *testing.T, tool string, live bool) {
	t.Helper()
	require.Eventually(t, func() bool {
		require.NoError(t, f.Services.Catalog.Refresh(context.Background()))
		_, ok := f.Services.Catalog.Lookup(tool)
		return ok && f.Services.Catalog.Live(domains.DomainOf(tool)) == live
	}, 20*time.Second, 100*time.Millisecond)
}

func (f *fixture) do(t *testing.T, method, path, token string, body any) (int, http.Header, map[string]any) {
	t.Helper()
	return platformtest.Do(t, f.MCP.URL, method, path, token, body)
}

func toolNames(body map[string]any) []string {
	var names []string
	for _, t := range body["tools"].([]any) {
		names = append(names, t.(map[string]any)["name"].(string))
	}
	return names
}

func auditRows(t *testing.T, f *fixture, where string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, f.Env.Pool.QueryRow(context.Background(), "SELECT count(*) FROM audit_log WHERE "+where, args...).Scan(&n))
	return n
}

func TestMCPServerREST(t *testing.T) {
	f := newFixture(t)
	f.startDomain(t, "demo")
	clerk := f.Token(t, "carl", "clerk")
	viewer := f.Token(t, "vera", "viewer")
	officer := f.Token(t, "olga", "officer")

	t.Run("ErrNoToken is 401 with a challenge", func(t *testing.T) {
		code, h, body := f.do(t, http.MethodGet, "/tools", "", nil)
		require.Equal(t, http.StatusUnauthorized, code)
		require.Contains(t, h.Get("WWW-Authenticate"), "Bearer")
		require.Contains(t, body["detail"], "bearer token is required")
	})

	t.Run("ErrBadToken is 401", func(t *testing.T) {
		code, h, body := f.do(t, http.MethodGet, "/tools", "not.a.jwt", nil)
		require.Equal(t, http.StatusUnauthorized, code)
		require.Contains(t, h.Get("WWW-Authenticate"), `error="invalid_token"`)
		require.NotContains(t, fmt.Sprint(body), "not.a.jwt")
	})

	t.Run("OK tools are filtered by role", func(t *testing.T) {
		code, _, body := f.do(t, http.MethodGet, "/tools", clerk, nil)
		require.Equal(t, http.StatusOK, code)
		require.Equal(t, []string{"demo.flaky_write", "demo.get_record"}, toolNames(body))
		_, _, body = f.do(t, http.MethodGet, "/tools", viewer, nil)
		require.Equal(t, []string{"demo.get_record"}, toolNames(body))
	})

	t.Run("OK execute returns the result with sensitive fields masked", func(t *testing.T) {
		code, _, body := f.do(t, http.MethodPost, "/execute", viewer, map[string]any{"tool": "demo.get_record", "arguments": map[string]any{"record_id": "R001"}})
		require.Equal(t, http.StatusOK, code, body)
		res := body["result"].(map[string]any)
		require.Equal(t, "Quarterly report", res["name"])
		require.Equal(t, redact.Mask, res["secret_code"])
		require.Equal(t, true, body["redacted"])
		require.True(t, strings.HasPrefix(body["workflow_id"].(string), "tool-"))
	})

	t.Run("OK a role with read_sensitive sees sensitive fields", func(t *testing.T) {
		code, _, body := f.do(t, http.MethodPost, "/execute", officer, map[string]any{"tool": "demo__get_record", "arguments": map[string]any{"record_id": "R001"}})
		require.Equal(t, http.StatusOK, code, body)
		require.Equal(t, "TOPSECRET-42", body["result"].(map[string]any)["secret_code"])
	})

	t.Run("OK transient backend failure is retried once and applied once", func(t *testing.T) {
		before := f.backend.applied.Load()
		code, _, body := f.do(t, http.MethodPost, "/execute", clerk, map[string]any{"tool": "demo.flaky_write", "arguments": map[string]any{"value": 7}})
		require.Equal(t, http.StatusOK, code, body)
		require.Equal(t, before+1, f.backend.applied.Load())
		require.Equal(t, 1, auditRows(t, f, "tool = 'demo.flaky_write' AND outcome = 'failed'"))
		require.Equal(t, 1, auditRows(t, f, "tool = 'demo.flaky_write' AND outcome = 'succeeded'"))
	})

	t.Run("ErrDenied is 403 and audited", func(t *testing.T) {
		code, _, body := f.do(t, http.MethodPost, "/execute", viewer, map[string]any{"tool": "demo.flaky_write", "arguments": map[string]any{}})
		require.Equal(t, http.StatusForbidden, code)
		require.Contains(t, body["detail"], "not allowed to use demo.flaky_write")
		require.Equal(t, 1, auditRows(t, f, "user_id = 'vera' AND tool = 'demo.flaky_write' AND outcome = 'denied'"))
	})

	t.Run("ErrInvalid is 422 naming the field and audited", func(t *testing.T) {
		code, _, body := f.do(t, http.MethodPost, "/execute", clerk, map[string]any{"tool": "demo.get_record", "arguments": map[string]any{"record_id": 12, "password": "hunter2"}})
		require.Equal(t, http.StatusUnprocessableEntity, code)
		errs := body["errors"].([]any)
		require.Equal(t, "body.arguments.record_id", errs[0].(map[string]any)["location"])
		require.Equal(t, 1, auditRows(t, f, "user_id = 'carl' AND outcome = 'invalid'"))
	})

	t.Run("ErrNUL in an argument is 422 naming the field, audited once, never run", func(t *testing.T) {
		before := f.backend.applied.Load()
		code, _, body := f.do(t, http.MethodPost, "/execute", clerk, map[string]any{"tool": "demo.flaky_write", "arguments": map[string]any{"note": "x\u0000y", "value": 1}})
		require.Equal(t, http.StatusUnprocessableEntity, code, body)
		errs := body["errors"].([]any)
		require.Equal(t, "body.arguments.note", errs[0].(map[string]any)["location"])
		require.Equal(t, before, f.backend.applied.Load())
		require.Equal(t, 1, auditRows(t, f, "user_id = 'carl' AND tool = 'demo.flaky_write' AND outcome = 'invalid' AND params->>'note' = $1", "x\uFFFDy"))
	})

	t.Run("ErrNUL in the tool name is 422 naming it", func(t *testing.T) {
		code, _, body := f.do(t, http.MethodPost, "/execute", clerk, map[string]any{"tool": "demo.get_rec\u0000ord", "arguments": map[string]any{}})
		require.Equal(t, http.StatusUnprocessableEntity, code, body)
		require.Equal(t, "body.tool", body["errors"].([]any)[0].(map[string]any)["location"])
	})

	t.Run("ErrAuditDown: a call whose attempt cannot be recorded does not run (503)", func(t *testing.T) {
		ctx := context.Background()
		_, err := f.Env.Pool.Exec(ctx, `CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS
			$$ BEGIN RAISE EXCEPTION 'audit disk full'; END $$;
			CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION refuse_audit()`)
		require.NoError(t, err)
		defer func() {
			_, err := f.Env.Pool.Exec(ctx, `DROP TRIGGER refuse_audit ON audit_log; DROP FUNCTION refuse_audit()`)
			require.NoError(t, err)
		}()
		before := f.backend.applied.Load()
		code, _, body := f.do(t, http.MethodPost, "/execute", clerk, map[string]any{"tool": "demo.flaky_write", "arguments": map[string]any{"value": 8}})
		require.Equal(t, http.StatusServiceUnavailable, code, body)
		require.Contains(t, body["detail"], "audit log is unavailable")
		require.NotContains(t, body["detail"], "disk full", "no database text reaches the caller")
		require.Equal(t, before, f.backend.applied.Load(), "nothing ran")
	})

	t.Run("ErrUnknownTool is 404", func(t *testing.T) {
		code, _, _ := f.do(t, http.MethodPost, "/execute", clerk, map[string]any{"tool": "demo.nope", "arguments": map[string]any{}})
		require.Equal(t, http.StatusNotFound, code)
		code, _, _ = f.do(t, http.MethodGet, "/tools/demo.nope", clerk, nil)
		require.Equal(t, http.StatusNotFound, code)
	})

	t.Run("ErrNotFoundInBackend is a clear 404", func(t *testing.T) {
		code, _, body := f.do(t, http.MethodPost, "/execute", clerk, map[string]any{"tool": "demo.get_record", "arguments": map[string]any{"record_id": "R999"}})
		require.Equal(t, http.StatusNotFound, code)
		require.Contains(t, body["detail"], `no record "R999"`)
	})

	t.Run("OK domains report worker health", func(t *testing.T) {
		code, _, body := f.do(t, http.MethodGet, "/domains", viewer, nil)
		require.Equal(t, http.StatusOK, code)
		d := body["domains"].([]any)[0].(map[string]any)
		require.Equal(t, "demo", d["name"])
		require.Equal(t, "up", d["status"])
		require.Len(t, d["workers"], 1)
	})

	t.Run("OK audit for auditors only, filtered", func(t *testing.T) {
		code, _, _ := f.do(t, http.MethodGet, "/audit", clerk, nil)
		require.Equal(t, http.StatusForbidden, code)
		auditor := f.Token(t, "audrey", "auditor")
		code, _, body := f.do(t, http.MethodGet, "/audit?outcome=denied&user=vera", auditor, nil)
		require.Equal(t, http.StatusOK, code, body)
		recs := body["records"].([]any)
		require.Len(t, recs, 1)
		require.Equal(t, "demo.flaky_write", recs[0].(map[string]any)["tool"])
	})

	t.Run("OK secrets never stored or logged", func(t *testing.T) {
		var all string
		require.NoError(t, f.Env.Pool.QueryRow(context.Background(), `SELECT coalesce(string_agg(row_to_json(a)::text, ' '), '') FROM audit_log a`).Scan(&all))
		require.NotContains(t, all, "hunter2")
		require.NotContains(t, all, "TOPSECRET-42")
		require.Contains(t, all, redact.Mask)
		require.NotContains(t, f.Logs.String(), "hunter2")
		require.NotContains(t, f.Logs.String(), "TOPSECRET-42")
	})
}

func connectMCP(t *testing.T, f *fixture, token string) *mcp.ClientSession {
	t.Helper()
	return platformtest.MCPSession(t, f.MCP.URL+"/mcp", token)
}

func TestMCPEndpoint(t *testing.T) {
	f := newFixture(t)
	f.startDomain(t, "demo")
	ctx := context.Background()

	t.Run("ErrNoToken is 401 with resource metadata", func(t *testing.T) {
		resp, err := http.Post(f.MCP.URL+"/mcp", "application/json", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		require.Contains(t, resp.Header.Get("WWW-Authenticate"), "resource_metadata=")
		meta, err := http.Get(f.MCP.URL + "/.well-known/oauth-protected-resource/mcp")
		require.NoError(t, err)
		defer meta.Body.Close()
		var m map[string]any
		require.NoError(t, json.NewDecoder(meta.Body).Decode(&m))
		require.Equal(t, f.Env.URL(f.Env.Cfg.Server.MCPPort)+"/mcp", m["resource"])
	})

	t.Run("OK a browser's preflight is answered, not 401; a foreign origin is 403", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodOptions, f.MCP.URL+"/mcp", nil)
		require.NoError(t, err)
		req.Header.Set("Origin", "http://localhost:6274")
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusNoContent, resp.StatusCode)
		require.Equal(t, "http://localhost:6274", resp.Header.Get("Access-Control-Allow-Origin"))

		req, err = http.NewRequest(http.MethodPost, f.MCP.URL+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
		require.NoError(t, err)
		req.Header.Set("Origin", "http://evil.example")
		req.Header.Set("Authorization", "Bearer "+f.Token(t, "carl", "clerk"))
		resp, err = http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
	})

	t.Run("OK list and call with our annotations", func(t *testing.T) {
		cs := connectMCP(t, f, f.Token(t, "carl", "clerk"))
		res, err := cs.ListTools(ctx, nil)
		require.NoError(t, err)
		var names []string
		for _, tl := range res.Tools {
			names = append(names, tl.Name)
		}
		require.Equal(t, []string{"demo__flaky_write", "demo__get_record"}, names)
		require.True(t, res.Tools[1].Annotations.ReadOnlyHint)
		require.True(t, *res.Tools[0].Annotations.DestructiveHint)
		require.NotNil(t, res.Tools[1].OutputSchema)

		call, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "demo__get_record", Arguments: map[string]any{"record_id": "R001"}})
		require.NoError(t, err)
		require.False(t, call.IsError)
		sc := call.StructuredContent.(map[string]any)
		require.Equal(t, "Quarterly report", sc["name"])
		require.Equal(t, redact.Mask, sc["secret_code"])
	})

	t.Run("OK callers who see the same tools are each served as themselves", func(t *testing.T) {
		// A clerk and an officer list the same tools, so they share one MCP server; only the
		// officer may read the sensitive field.
		get := func(token string) any {
			call, err := connectMCP(t, f, token).CallTool(ctx, &mcp.CallToolParams{Name: "demo__get_record", Arguments: map[string]any{"record_id": "R001"}})
			require.NoError(t, err)
			require.False(t, call.IsError)
			return call.StructuredContent.(map[string]any)["secret_code"]
		}
		require.Equal(t, "TOPSECRET-42", get(f.Token(t, "olga", "officer")))
		require.Equal(t, redact.Mask, get(f.Token(t, "carl", "clerk")))
		require.Equal(t, "TOPSECRET-42", get(f.Token(t, "olga", "officer")))
	})

	t.Run("ErrToolFailure is an isError result", func(t *testing.T) {
		cs := connectMCP(t, f, f.Token(t, "carl", "clerk"))
		call, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "demo__get_record", Arguments: map[string]any{"record_id": "bad"}})
		require.NoError(t, err)
		require.True(t, call.IsError)
		require.Contains(t, call.Content[0].(*mcp.TextContent).Text, "record_id")
	})

	t.Run("ErrDenied hidden from list, refused and audited on call", func(t *testing.T) {
		cs := connectMCP(t, f, f.Token(t, "vera", "viewer"))
		res, err := cs.ListTools(ctx, nil)
		require.NoError(t, err)
		require.Len(t, res.Tools, 1)
		call, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "demo__flaky_write", Arguments: map[string]any{}})
		require.NoError(t, err)
		require.True(t, call.IsError)
		require.Contains(t, call.Content[0].(*mcp.TextContent).Text, "not allowed")
		require.Equal(t, 1, auditRows(t, f, "user_id = 'vera' AND tool = 'demo.flaky_write' AND outcome = 'denied'"))
	})
}

func TestDomainLifecycle(t *testing.T) {
	f := newFixture(t)
	clerk := f.Token(t, "carl", "clerk")

	t.Run("OK a worker started while serving adds its tools within seconds", func(t *testing.T) {
		_, _, body := f.do(t, http.MethodGet, "/tools", clerk, nil)
		require.Empty(t, body["tools"])
		// Only the catalog's background refresh may reveal the new domain here.
		f.runDomain(t, "late")
		require.Eventually(t, func() bool {
			_, _, body := f.do(t, http.MethodGet, "/tools", clerk, nil)
			return len(body["tools"].([]any)) == 2
		}, 10*time.Second, 200*time.Millisecond)
	})

	t.Run("ErrNoWorker is 503 without waiting", func(t *testing.T) {
		dc, err := domainconfig.Parse("offline.yaml", []byte(fmt.Sprintf(demoYAML, "offline")))
		require.NoError(t, err)
		reg := registry.New(f.Env.Pool)
		require.NoError(t, reg.Register(context.Background(), registry.Registration{Config: dc, Identity: "gone-worker"}))
		require.NoError(t, reg.Deregister(context.Background(), "offline", "gone-worker"))
		f.waitTool(t, "offline.get_record", false)
		code, _, body := f.do(t, http.MethodPost, "/execute", clerk, map[string]any{"tool": "offline.get_record", "arguments": map[string]any{"record_id": "R001"}})
		require.Equal(t, http.StatusServiceUnavailable, code)
		require.Contains(t, body["detail"], "no running worker")
	})

	t.Run("ErrForeignNamespace cannot be registered", func(t *testing.T) {
		dc, err := domainconfig.Parse("late.yaml", []byte(fmt.Sprintf(demoYAML, "late")))
		require.NoError(t, err)
		dc.Tools[0].Name = "demo.get_record"
		require.Error(t, registry.New(f.Env.Pool).Register(context.Background(), registry.Registration{Config: dc, Identity: "rogue"}))
	})
}
