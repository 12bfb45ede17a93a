package devoauth_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"mcp-platform/api/devoauth"
	"mcp-platform/authz"
	"mcp-platform/internal/config"
)

type harness struct {
	srv      *httptest.Server
	verifier *authz.Verifier
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	jwt := config.JWT{Secret: strings.Repeat("k", 32), Issuer: "mcp-platform", Audience: "mcp-platform", TokenTTL: time.Hour}
	iss, err := authz.NewIssuer(jwt, true)
	require.NoError(t, err)
	ver, err := authz.NewVerifier(t.Context(), jwt)
	require.NoError(t, err)
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	as, err := devoauth.New(devoauth.Options{Issuer: srv.URL, Resource: srv.URL + "/mcp", Tokens: iss})
	require.NoError(t, err)
	as.Register(mux)
	return &harness{srv: srv, verifier: ver}
}

var noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func (h *harness) register(t *testing.T, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(h.srv.URL+devoauth.RegistrationPath, "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return resp.StatusCode, out
}

// authorize posts the sign-in form as the page would, and returns the redirect.
func (h *harness) authorize(t *testing.T, params url.Values) (int, *url.URL) {
	t.Helper()
	resp, err := noFollow.PostForm(h.srv.URL+devoauth.AuthorizePath, params)
	require.NoError(t, err)
	defer resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	return resp.StatusCode, loc
}

func (h *harness) token(t *testing.T, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(h.srv.URL+devoauth.TokenPath, form)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return resp.StatusCode, out
}

const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-0123456789"

func challengeOf(v string) string {
	sum := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

const redirect = "http://127.0.0.1:7777/cb"

func (h *harness) client(t *testing.T) string {
	t.Helper()
	code, out := h.register(t, `{"client_name":"test","redirect_uris":["`+redirect+`"]}`)
	require.Equal(t, http.StatusCreated, code, out)
	require.Equal(t, "none", out["token_endpoint_auth_method"])
	return out["client_id"].(string)
}

func authParams(clientID string) url.Values {
	return url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirect}, "state": {"s1"},
		"code_challenge": {challengeOf(verifier)}, "code_challenge_method": {"S256"}, "scope": {"tools:hr.*"}, "user": {"alice"}}
}

func TestAuthorizationCodeFlow(t *testing.T) {
	h := newHarness(t)
	id := h.client(t)

	t.Run("OK the page lists the demo users", func(t *testing.T) {
		q := authParams(id)
		q.Del("user")
		resp, err := http.Get(h.srv.URL + devoauth.AuthorizePath + "?" + q.Encode())
		require.NoError(t, err)
		defer resp.Body.Close()
		page, _ := io.ReadAll(resp.Body)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Contains(t, string(page), "Alice Martin")
		require.Contains(t, string(page), `name="code_challenge"`)
		require.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"))
	})

	t.Run("OK code for token, scoped, with the issuer in the redirect", func(t *testing.T) {
		code, loc := h.authorize(t, authParams(id))
		require.Equal(t, http.StatusFound, code)
		q := loc.Query()
		require.Equal(t, "s1", q.Get("state"))
		require.Equal(t, h.srv.URL, q.Get("iss"))
		form := url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "client_id": {id},
			"redirect_uri": {redirect}, "code_verifier": {verifier}, "resource": {h.srv.URL + "/mcp"}}
		status, tok := h.token(t, form)
		require.Equal(t, http.StatusOK, status, tok)
		require.Equal(t, "Bearer", tok["token_type"])
		require.Equal(t, "tools:hr.*", tok["scope"])
		p, err := h.verifier.Verify(t.Context(), tok["access_token"].(string))
		require.NoError(t, err)
		require.Equal(t, "alice", p.Subject)
		require.Equal(t, []string{"tools:hr.*"}, p.Scopes)

		t.Run("ErrCodeReused", func(t *testing.T) {
			status, out := h.token(t, form)
			require.Equal(t, http.StatusBadRequest, status)
			require.Equal(t, "invalid_grant", out["error"])
		})
	})

	t.Run("ErrWrongVerifier", func(t *testing.T) {
		_, loc := h.authorize(t, authParams(id))
		status, out := h.token(t, url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "client_id": {id},
			"redirect_uri": {redirect}, "code_verifier": {strings.Repeat("x", 50)}})
		require.Equal(t, http.StatusBadRequest, status)
		require.Equal(t, "invalid_grant", out["error"])
		require.Contains(t, out["error_description"], "PKCE")
	})

	t.Run("ErrOtherClientsCode", func(t *testing.T) {
		_, loc := h.authorize(t, authParams(id))
		status, out := h.token(t, url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "client_id": {h.client(t)},
			"redirect_uri": {redirect}, "code_verifier": {verifier}})
		require.Equal(t, http.StatusBadRequest, status)
		require.Equal(t, "invalid_grant", out["error"])
	})

	t.Run("ErrNoPKCE is reported to the client", func(t *testing.T) {
		q := authParams(id)
		q.Del("code_challenge")
		code, loc := h.authorize(t, q)
		require.Equal(t, http.StatusFound, code)
		require.Equal(t, "invalid_request", loc.Query().Get("error"))
		require.Contains(t, loc.Query().Get("error_description"), "PKCE")
	})

	t.Run("ErrPlainPKCE", func(t *testing.T) {
		q := authParams(id)
		q.Set("code_challenge_method", "plain")
		_, loc := h.authorize(t, q)
		require.Equal(t, "invalid_request", loc.Query().Get("error"))
	})

	t.Run("ErrOtherResource", func(t *testing.T) {
		q := authParams(id)
		q.Set("resource", "https://elsewhere.example/mcp")
		_, loc := h.authorize(t, q)
		require.Equal(t, "invalid_target", loc.Query().Get("error"))
	})

	t.Run("ErrUnregisteredRedirect is never redirected to", func(t *testing.T) {
		q := authParams(id)
		q.Set("redirect_uri", "https://attacker.example/cb")
		code, loc := h.authorize(t, q)
		require.Equal(t, http.StatusBadRequest, code)
		require.Empty(t, loc.String())
	})

	t.Run("ErrUnknownClient", func(t *testing.T) {
		code, _ := h.authorize(t, authParams("nobody"))
		require.Equal(t, http.StatusBadRequest, code)
	})

	t.Run("OK cancel is access_denied", func(t *testing.T) {
		q := authParams(id)
		q.Set("user", "")
		_, loc := h.authorize(t, q)
		require.Equal(t, "access_denied", loc.Query().Get("error"))
	})

	t.Run("OK a loopback redirect matches on any port", func(t *testing.T) {
		q := authParams(id)
		q.Set("redirect_uri", "http://127.0.0.1:9191/cb")
		code, loc := h.authorize(t, q)
		require.Equal(t, http.StatusFound, code)
		require.Equal(t, "127.0.0.1:9191", loc.Host)
		require.NotEmpty(t, loc.Query().Get("code"))
	})
}

func TestRegistration(t *testing.T) {
	h := newHarness(t)
	for name, body := range map[string]string{
		"ErrNoRedirect":         `{"client_name":"x"}`,
		"ErrHTTPNotLoopback":    `{"redirect_uris":["http://example.com/cb"]}`,
		"ErrJavascript":         `{"redirect_uris":["javascript:alert(1)"]}`,
		"ErrConfidentialClient": `{"redirect_uris":["https://app.example/cb"],"token_endpoint_auth_method":"client_secret_basic"}`,
		"ErrNotJSON":            `redirect_uris=x`,
	} {
		t.Run(name, func(t *testing.T) {
			code, out := h.register(t, body)
			require.Equal(t, http.StatusBadRequest, code)
			require.NotEmpty(t, out["error_description"])
		})
	}
	t.Run("OK a private-use scheme", func(t *testing.T) {
		code, _ := h.register(t, `{"redirect_uris":["com.example.app:/oauth"]}`)
		require.Equal(t, http.StatusCreated, code)
	})
}

func TestClientIDMetadataDocument(t *testing.T) {
	h := newHarness(t)
	var docURL, claimed string
	docs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"client_id": claimed, "redirect_uris": []string{redirect}})
	}))
	t.Cleanup(docs.Close)
	docURL = docs.URL + "/client.json"

	claimed = docURL
	code, loc := h.authorize(t, authParams(docURL))
	require.Equal(t, http.StatusFound, code)
	require.NotEmpty(t, loc.Query().Get("code"))

	t.Run("ErrDocumentNamesAnotherClient", func(t *testing.T) {
		claimed = "https://other.example/client.json"
		code, _ := h.authorize(t, authParams(docURL))
		require.Equal(t, http.StatusBadRequest, code)
	})
}

func TestMetadata(t *testing.T) {
	h := newHarness(t)
	resp, err := http.Get(h.srv.URL + devoauth.MetadataPath)
	require.NoError(t, err)
	defer resp.Body.Close()
	var m map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&m))
	require.Equal(t, h.srv.URL, m["issuer"])
	require.Equal(t, h.srv.URL+devoauth.TokenPath, m["token_endpoint"])
	require.Equal(t, h.srv.URL+devoauth.RegistrationPath, m["registration_endpoint"])
	require.Equal(t, "*", resp.Header.Get("Access-Control-Allow-Origin"))
}
