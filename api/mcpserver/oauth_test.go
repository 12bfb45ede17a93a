package mcpserver_test

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"github.com/stretchr/testify/require"

	"mcp-platform/domains/hr"
	"mcp-platform/domains/kit"
	"mcp-platform/platform/platformtest"
)

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)

// signInAs answers the dev authorization server's sign-in page as a person would in a browser:
// it loads the page, checks the demo user is offered, and submits the page's form with that
// user, returning where the server redirects.
func signInAs(t *testing.T, user string) auth.AuthorizationCodeFetcher {
	return func(ctx context.Context, args *auth.AuthorizationArgs) (*auth.AuthorizationResult, error) {
		resp, err := http.Get(args.URL)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		if err != nil {
			return nil, err
		}
		page := string(raw)
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("sign-in page: HTTP %d: %s", resp.StatusCode, page)
		}
		if !strings.Contains(page, `value="`+user+`"`) {
			return nil, fmt.Errorf("the sign-in page offers no demo user %s", user)
		}
		form := url.Values{"user": {user}}
		for _, m := range hiddenInput.FindAllStringSubmatch(page, -1) {
			form.Add(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
		}
		action, _ := url.Parse(args.URL)
		action.RawQuery = ""
		noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err = noFollow.PostForm(action.String(), form)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusFound {
			return nil, fmt.Errorf("sign-in: HTTP %d, not a redirect", resp.StatusCode)
		}
		loc, err := url.Parse(resp.Header.Get("Location"))
		if err != nil {
			return nil, err
		}
		q := loc.Query()
		if e := q.Get("error"); e != "" {
			return nil, fmt.Errorf("sign-in refused: %s: %s", e, q.Get("error_description"))
		}
		return &auth.AuthorizationResult{Code: q.Get("code"), State: q.Get("state"), Iss: q.Get("iss")}, nil
	}
}

// TestOAuthDevAuthorizationServer drives the MCP authorization flow as an MCP client does
// (the go-sdk's AuthorizationCodeHandler): a 401 with the protected-resource metadata, discovery
// of the dev authorization server, dynamic client registration (client ID metadata documents
// are covered in api/devoauth: the SDK insists on https for them), the authorization code with PKCE through the sign-in page, and then tools/list and
// tools/call with the token it obtained.
func TestOAuthDevAuthorizationServer(t *testing.T) {
	s := platformtest.Start(t, platformtest.Options{Domains: map[string]kit.Factory{"hr": hr.New}})
	endpoint := s.MCP.URL + "/mcp"

	registrations := map[string]*auth.AuthorizationCodeHandlerConfig{
		"dynamic client registration": {DynamicClientRegistrationConfig: &auth.DynamicClientRegistrationConfig{
			Metadata: &oauthex.ClientRegistrationMetadata{ClientName: "OAuth test client", RedirectURIs: []string{"http://127.0.0.1:4545/callback"}}}},
	}
	for name, cfg := range registrations {
		t.Run("OK "+name+" then list and call tools", func(t *testing.T) {
			cfg.AuthorizationCodeFetcher = signInAs(t, "alice")
			h, err := auth.NewAuthorizationCodeHandler(cfg)
			require.NoError(t, err)
			client := mcp.NewClient(&mcp.Implementation{Name: "oauth-test", Version: "1.0"}, nil)
			cs, err := client.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: endpoint, OAuthHandler: h}, nil)
			require.NoError(t, err)
			t.Cleanup(func() { _ = cs.Close() })

			tools, err := cs.ListTools(context.Background(), nil)
			require.NoError(t, err)
			var names []string
			for _, tool := range tools.Tools {
				names = append(names, tool.Name)
			}
			require.Contains(t, names, "hr__get_employee")

			res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "hr__get_employee", Arguments: map[string]any{"employee_id": "E001"}})
			require.NoError(t, err)
			require.False(t, res.IsError, "%v", res.Content)
			require.Contains(t, res.Content[0].(*mcp.TextContent).Text, "Sarah Johnson")
			require.Positive(t, auditRowsIn(t, s, "user_id = 'alice' AND tool = 'hr.get_employee' AND outcome = 'succeeded'"))
		})
	}

	t.Run("OK the protected-resource metadata names the authorization server", func(t *testing.T) {
		code, h, _ := platformtest.Do(t, s.MCP.URL, http.MethodPost, "/mcp", "", map[string]any{"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
		require.Equal(t, http.StatusUnauthorized, code)
		require.Contains(t, h.Get("WWW-Authenticate"), `resource_metadata="`+s.MCP.URL+`/.well-known/oauth-protected-resource/mcp"`)
		code, _, meta := platformtest.Do(t, s.MCP.URL, http.MethodGet, "/.well-known/oauth-protected-resource/mcp", "", nil)
		require.Equal(t, http.StatusOK, code)
		require.Equal(t, []any{s.MCP.URL}, meta["authorization_servers"])
		require.Equal(t, endpoint, meta["resource"])
		code, _, as := platformtest.Do(t, s.MCP.URL, http.MethodGet, "/.well-known/oauth-authorization-server", "", nil)
		require.Equal(t, http.StatusOK, code)
		require.Equal(t, s.MCP.URL, as["issuer"])
		require.Equal(t, []any{"S256"}, as["code_challenge_methods_supported"])
		require.Equal(t, true, as["client_id_metadata_document_supported"])
	})

	t.Run("ErrBadToken is 401 invalid_token", func(t *testing.T) {
		code, h, _ := platformtest.Do(t, s.MCP.URL, http.MethodPost, "/mcp", "not.a.jwt", map[string]any{"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
		require.Equal(t, http.StatusUnauthorized, code)
		require.Contains(t, h.Get("WWW-Authenticate"), `error="invalid_token"`)
	})

	t.Run("ErrInsufficientScope is 403 with the scope to ask for", func(t *testing.T) {
		tok, _, _, err := s.Services.Issuer.IssueDemo("alice", []string{"tools:erp.*"})
		require.NoError(t, err)
		call := map[string]any{"jsonrpc": "2.0", "id": 1, "method": "tools/call",
			"params": map[string]any{"name": "hr__get_employee", "arguments": map[string]any{"employee_id": "E001"}}}
		code, h, body := platformtest.Do(t, s.MCP.URL, http.MethodPost, "/mcp", tok, call)
		require.Equal(t, http.StatusForbidden, code, body)
		challenge := h.Get("WWW-Authenticate")
		require.Contains(t, challenge, `error="insufficient_scope"`)
		require.Contains(t, challenge, `scope="tools:hr.get_employee"`)
		require.Contains(t, challenge, `resource_metadata=`)
		require.Equal(t, 1, auditRowsIn(t, s, "user_id = 'alice' AND tool = 'hr.get_employee' AND outcome = 'denied'"))
	})

	t.Run("OK a tool the roles do not allow stays a tool error, not a scope challenge", func(t *testing.T) {
		tok, _, _, err := s.Services.Issuer.IssueDemo("bob", []string{"tools:erp.*"})
		require.NoError(t, err)
		cs := platformtest.MCPSession(t, endpoint, tok)
		res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "hr__get_employee", Arguments: map[string]any{"employee_id": "E001"}})
		require.NoError(t, err)
		require.True(t, res.IsError)
	})
}

func auditRowsIn(t *testing.T, s *platformtest.Stack, where string) int {
	t.Helper()
	var n int
	require.NoError(t, s.Env.Pool.QueryRow(context.Background(), "SELECT count(*) FROM audit_log WHERE "+where).Scan(&n))
	return n
}
