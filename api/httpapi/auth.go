package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"mcp-platform/authz"
)

// Verifier checks bearer tokens (authz.Verifier in production code).
type Verifier interface {
	Verify(ctx context.Context, token string) (authz.Principal, error)
}

type principalKey struct{}

// WithPrincipal returns ctx carrying the authenticated principal.
func WithPrincipal(ctx context.Context, p authz.Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the authenticated principal of the request.
func PrincipalFrom(ctx context.Context) (authz.Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(authz.Principal)
	return p, ok
}

// BearerToken extracts the token of an "Authorization: Bearer <token>" header.
func BearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "bearer") || strings.TrimSpace(token) == "" {
		return "", false
	}
	return strings.TrimSpace(token), true
}

// Challenge is the WWW-Authenticate value of a 401: the bearer scheme, why, and where the
// protected-resource metadata is (RFC 9728) when known.
func Challenge(resourceMetadataURL, errCode string) string {
	parts := []string{`realm="mcp-platform"`}
	if errCode != "" {
		parts = append(parts, fmt.Sprintf("error=%q", errCode))
	}
	if resourceMetadataURL != "" {
		parts = append(parts, fmt.Sprintf("resource_metadata=%q", resourceMetadataURL))
	}
	return "Bearer " + strings.Join(parts, ", ")
}

// RequireAuth returns a Huma middleware that authenticates every operation except those that
// declare an empty security requirement (health, dev sign-in). A missing or invalid token gets
// 401 problem details with a WWW-Authenticate challenge; the token is never echoed.
func RequireAuth(api huma.API, v Verifier, resourceMetadataURL string) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		if op := ctx.Operation(); op != nil && op.Security != nil && len(op.Security) == 0 {
			next(ctx)
			return
		}
		token, ok := BearerToken(ctx.Header("Authorization"))
		if !ok {
			ctx.SetHeader("WWW-Authenticate", Challenge(resourceMetadataURL, ""))
			_ = huma.WriteErr(api, ctx, http.StatusUnauthorized, "a bearer token is required: send Authorization: Bearer <token>")
			return
		}
		p, err := v.Verify(ctx.Context(), token)
		if err != nil {
			ctx.SetHeader("WWW-Authenticate", Challenge(resourceMetadataURL, "invalid_token"))
			_ = huma.WriteErr(api, ctx, http.StatusUnauthorized, "the bearer token is not valid: "+reason(err))
			return
		}
		next(huma.WithValue(ctx, principalKey{}, p))
	}
}

// reason is the part of a verification error that is safe to show: the verifier's own message
// without the wrapped library text.
func reason(err error) string {
	if !errors.Is(err, authz.ErrUnauthenticated) {
		return "verification failed"
	}
	return strings.TrimPrefix(err.Error(), authz.ErrUnauthenticated.Error()+": ")
}

// Principal returns the request's principal or a 401 error; handlers behind RequireAuth always
// have one.
func Principal(ctx context.Context) (authz.Principal, error) {
	p, ok := PrincipalFrom(ctx)
	if !ok {
		return authz.Principal{}, huma.Error401Unauthorized("a bearer token is required")
	}
	return p, nil
}

// DemoUser is a dev-mode demo account.
type DemoUser struct {
	ID    string   `json:"id" example:"alice" doc:"User ID to sign in with"`
	Name  string   `json:"name" example:"Alice Martin"`
	Title string   `json:"title" example:"HR manager"`
	Roles []string `json:"roles" example:"[\"hr_manager\"]"`
}

// TokenRequest asks for a dev token.
type TokenRequest struct {
	Body struct {
		User   string   `json:"user" minLength:"1" maxLength:"64" example:"alice" doc:"ID of a demo user (GET /auth/demo-users)"`
		Scopes []string `json:"scopes,omitempty" maxItems:"20" doc:"Optional scopes that narrow the token, such as tools:hr.*"`
	}
}

// TokenResponse is an OAuth-style token answer.
type TokenResponse struct {
	Body struct {
		AccessToken string          `json:"access_token"`
		TokenType   string          `json:"token_type" enum:"Bearer"`
		ExpiresIn   int64           `json:"expires_in" doc:"Lifetime in seconds"`
		Principal   authz.Principal `json:"principal"`
	}
}

type demoUsersOutput struct {
	Body struct {
		Users []DemoUser `json:"users"`
	}
}

// AddDevAuth registers the dev-only sign-in endpoints: GET /auth/demo-users and
// POST /auth/token. They are always documented, but answer 404 unless issuer is set, which
// only happens in dev mode.
func AddDevAuth(api huma.API, issuer *authz.Issuer) {
	disabled := func() error {
		return huma.Error404NotFound("demo sign-in is available only in dev mode (MCP_ENVIRONMENT=dev); use your identity provider's tokens")
	}
	huma.Register(api, huma.Operation{
		OperationID: "list-demo-users",
		Method:      http.MethodGet,
		Path:        "/auth/demo-users",
		Summary:     "List demo users (dev only)",
		Description: "The demo accounts of dev mode, with their roles. Answers 404 outside dev.",
		Tags:        []string{"Auth"},
		Security:    []map[string][]string{},
	}, func(ctx context.Context, _ *struct{}) (*demoUsersOutput, error) {
		if issuer == nil {
			return nil, disabled()
		}
		out := &demoUsersOutput{}
		for _, u := range authz.DemoUsers() {
			out.Body.Users = append(out.Body.Users, DemoUser{ID: u.ID, Name: u.Name, Title: u.Title, Roles: u.Roles})
		}
		return out, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "create-dev-token",
		Method:      http.MethodPost,
		Path:        "/auth/token",
		Summary:     "Sign in as a demo user (dev only)",
		Description: "Issues a bearer token for a demo user. For development only: answers 404 outside dev.",
		Tags:        []string{"Auth"},
		Security:    []map[string][]string{},
	}, func(ctx context.Context, in *TokenRequest) (*TokenResponse, error) {
		if issuer == nil {
			return nil, disabled()
		}
		token, exp, p, err := issuer.IssueDemo(in.Body.User, in.Body.Scopes)
		if errors.Is(err, authz.ErrUnknownUser) {
			return nil, huma.Error422UnprocessableEntity(fmt.Sprintf("no demo user %q; see GET /auth/demo-users", in.Body.User))
		}
		if err != nil {
			return nil, huma.Error500InternalServerError("could not issue a token")
		}
		out := &TokenResponse{}
		out.Body.AccessToken, out.Body.TokenType, out.Body.Principal = token, "Bearer", p
		out.Body.ExpiresIn = int64(time.Until(exp).Seconds())
		return out, nil
	})
}
