package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/auth"

	"mcp-platform/api/httpapi"
	"mcp-platform/authz"
	"mcp-platform/domains"
	"mcp-platform/internal/audit"
)

// maxPeek bounds how much of a request body the scope check reads; a larger body goes on to the
// MCP handler unchecked here, and the tool call is still authorized by the pipeline.
const maxPeek = 1 << 20

// requireBearer authenticates /mcp as an OAuth 2.0 resource server (RFC 6750, RFC 9728, MCP
// authorization): no token gets 401 with where to find the authorization server; a bad token
// 401 with error="invalid_token"; a tools/call of a tool the caller's roles allow but the
// token's scopes do not cover gets 403 with error="insufficient_scope" and the scope to ask for,
// so the client can step up. The principal goes into the request's context.
func requireBearer(deps Deps, metadataURL string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := httpapi.BearerToken(r.Header.Get("Authorization"))
		if !ok {
			challenge(w, http.StatusUnauthorized, metadataURL, "", "a bearer token is required: send Authorization: Bearer <token>", "tools:*")
			return
		}
		p, err := deps.Verifier.Verify(r.Context(), token)
		if err != nil {
			challenge(w, http.StatusUnauthorized, metadataURL, "invalid_token", "the bearer token is not valid (expired, not signed by a trusted issuer, or for another audience)", "")
			return
		}
		r = r.WithContext(httpapi.WithPrincipal(r.Context(), p))
		if tool, ok := scopeShortfall(deps, p, r); ok {
			scope := "tools:" + tool
			deps.Logger.Info("MCP tools/call outside the token's scopes", "user", p.Subject, "tool", tool, "scopes", p.Scopes)
			if _, err := deps.Audit.Record(r.Context(), audit.Entry{UserID: p.Subject, Roles: p.Roles, Tool: tool, Domain: domains.DomainOf(tool),
				Outcome: audit.OutcomeDenied, Error: "the token's scopes do not cover " + tool + "; step up to " + scope}); err != nil {
				deps.Logger.Error("audit write failed", "tool", tool, "error", err)
			}
			challenge(w, http.StatusForbidden, metadataURL, "insufficient_scope",
				fmt.Sprintf("the token's scopes (%s) do not cover %s: authorize again with scope %s", strings.Join(p.Scopes, " "), tool, scope), scope)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// scopeShortfall finds a tools/call of a known tool that p's roles allow but p's token scopes
// do not: the one refusal a broader token would fix. Other refusals (unknown tool, roles) are
// the pipeline's, reported as tool results.
func scopeShortfall(deps Deps, p authz.Principal, r *http.Request) (string, bool) {
	if r.Method != http.MethodPost || len(p.Scopes) == 0 || r.Body == nil {
		return "", false
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPeek+1))
	r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), r.Body))
	if err != nil || len(body) > maxPeek {
		return "", false
	}
	var msg struct {
		Method string `json:"method"`
		Params struct {
			Name string `json:"name"`
		} `json:"params"`
	}
	if json.Unmarshal(body, &msg) != nil || msg.Method != "tools/call" {
		return "", false
	}
	tool, known := deps.Catalog.Resolve(msg.Params.Name)
	if !known || p.ScopesAllow(tool) {
		return "", false
	}
	unscoped := p
	unscoped.Scopes = nil
	return tool, deps.Authz.Can(unscoped, domains.ActionExecute, tool)
}

// challenge writes a bearer challenge (RFC 6750 §3) with the protected-resource metadata URL
// (RFC 9728 §5.1) and a JSON body saying the same.
func challenge(w http.ResponseWriter, status int, metadataURL, code, description, scope string) {
	params := []string{`realm="mcp-platform"`}
	if code != "" {
		params = append(params, fmt.Sprintf("error=%q", code), fmt.Sprintf("error_description=%q", description))
	}
	if scope != "" {
		params = append(params, fmt.Sprintf("scope=%q", scope))
	}
	params = append(params, fmt.Sprintf("resource_metadata=%q", metadataURL))
	w.Header().Set("WWW-Authenticate", "Bearer "+strings.Join(params, ", "))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	body := map[string]string{"error": code, "error_description": description}
	if code == "" {
		body["error"] = "unauthorized"
	}
	_ = json.NewEncoder(w).Encode(body)
}

// withTokenInfo hands the principal requireBearer verified to the MCP SDK as its token info,
// which the SDK passes to every handler of the request (RequestExtra.TokenInfo). The token is not
// verified again: the principal is taken from the request's context.
func withTokenInfo(next http.Handler) http.Handler {
	fromContext := func(ctx context.Context, _ string, _ *http.Request) (*auth.TokenInfo, error) {
		p, ok := httpapi.PrincipalFrom(ctx)
		if !ok {
			return nil, fmt.Errorf("%w: no authenticated principal", auth.ErrInvalidToken)
		}
		return &auth.TokenInfo{UserID: p.Subject, Scopes: p.Scopes, Extra: map[string]any{principalExtra: p}}, nil
	}
	// The verifier has already checked the token's expiry.
	return auth.RequireBearerToken(fromContext, &auth.RequireBearerTokenOptions{AllowMissingExpiration: true})(next)
}
