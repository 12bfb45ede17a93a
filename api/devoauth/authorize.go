package devoauth

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"mcp-platform/authz"
)

// authRequest is a checked authorization request (RFC 6749 §4.1.1 with RFC 7636 and RFC 8707).
type authRequest struct {
	Client      client
	RedirectURI string
	State       string
	Challenge   string
	Scopes      []string
	Resource    string
}

// authError is a refused authorization request. Redirect says whether it may be reported to the
// client's redirect URI; when the client or the redirect URI is in doubt it must not be
// (RFC 6749 §4.1.2.1), and the person sees the page instead.
type authError struct {
	Code, Description string
	Redirect          bool
}

func (e *authError) Error() string { return e.Code + ": " + e.Description }

// parseAuthRequest checks the parameters of an authorization request, from the query (GET) or
// the form the sign-in page posts back.
func (s *Server) parseAuthRequest(ctx context.Context, q url.Values) (authRequest, *authError) {
	var req authRequest
	c, err := s.client(ctx, q.Get("client_id"))
	if err != nil {
		return req, &authError{Code: "invalid_client", Description: err.Error()}
	}
	req.Client, req.RedirectURI, req.State = c, q.Get("redirect_uri"), q.Get("state")
	if req.RedirectURI == "" && len(c.RedirectURIs) == 1 {
		req.RedirectURI = c.RedirectURIs[0]
	}
	if !redirectAllowed(c, req.RedirectURI) {
		return req, &authError{Code: "invalid_request", Description: "redirect_uri is missing or is not one of the client's registered redirect URIs"}
	}
	refuse := func(code, msg string) (authRequest, *authError) {
		return req, &authError{Code: code, Description: msg, Redirect: true}
	}
	if rt := q.Get("response_type"); rt != "code" {
		return refuse("unsupported_response_type", "only response_type=code is supported")
	}
	req.Challenge = q.Get("code_challenge")
	if req.Challenge == "" {
		return refuse("invalid_request", "PKCE is required: send code_challenge and code_challenge_method=S256")
	}
	if m := q.Get("code_challenge_method"); m != "S256" {
		return refuse("invalid_request", "code_challenge_method must be S256")
	}
	if !validChallenge(req.Challenge) {
		return refuse("invalid_request", "code_challenge must be the base64url SHA-256 of the verifier (43 characters)")
	}
	req.Scopes = toolScopes(q.Get("scope"))
	if r := q.Get("resource"); r != "" {
		if !s.ownResource(r) {
			return refuse("invalid_target", "this server issues tokens only for "+s.resource)
		}
		req.Resource = r
	}
	return req, nil
}

// toolScopes keeps the "tools:<pattern>" scopes of a space-separated scope parameter, the only
// ones the platform gives meaning to; "tools:*" is the same as none (every tool the person's
// roles allow). offline_access, openid and the like are dropped: no refresh or ID tokens here.
func toolScopes(scope string) []string {
	var out []string
	for _, s := range strings.Fields(scope) {
		if rest, ok := strings.CutPrefix(s, "tools:"); ok && rest != "" && rest != "*" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// ownResource reports whether a resource indicator names this server's protected resource:
// its /mcp URL or its origin.
func (s *Server) ownResource(r string) bool {
	r = strings.TrimRight(r, "/")
	return r == strings.TrimRight(s.resource, "/") || r == s.issuer
}

// serveAuthorizePage shows the sign-in page of an authorization request: who asks, for what,
// and a button for each demo user.
func (s *Server) serveAuthorizePage(w http.ResponseWriter, r *http.Request) {
	req, aerr := s.parseAuthRequest(r.Context(), r.URL.Query())
	if aerr != nil {
		s.refuse(w, r, req, aerr)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	target, _ := url.Parse(req.RedirectURI)
	name := req.Client.Name
	if name == "" {
		name = req.Client.ID
	}
	scopes := "every tool your role allows"
	if len(req.Scopes) > 0 {
		scopes = strings.Join(req.Scopes, " ")
	}
	if err := signInPage.Execute(w, map[string]any{
		"Client": name, "RedirectHost": target.Host, "Scopes": scopes,
		"Users": authz.DemoUsers(), "Params": r.URL.Query(), "Action": AuthorizePath,
	}); err != nil {
		s.logger.Warn("dev sign-in page not written", "error", err)
	}
}

// serveAuthorizeDecision takes the person's choice from the sign-in page: a demo user (a code
// goes to the client) or cancel (access_denied).
func (s *Server) serveAuthorizeDecision(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxDocument)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "the sign-in form could not be read", http.StatusBadRequest)
		return
	}
	req, aerr := s.parseAuthRequest(r.Context(), r.PostForm)
	if aerr != nil {
		s.refuse(w, r, req, aerr)
		return
	}
	user := r.PostForm.Get("user")
	if user == "" {
		s.refuse(w, r, req, &authError{Code: "access_denied", Description: "the person cancelled the sign-in", Redirect: true})
		return
	}
	if !slices.ContainsFunc(authz.DemoUsers(), func(u authz.DemoUser) bool { return u.ID == user }) {
		s.refuse(w, r, req, &authError{Code: "access_denied", Description: "no demo user " + user, Redirect: true})
		return
	}
	code := s.remember(grant{ClientID: req.Client.ID, RedirectURI: req.RedirectURI, Challenge: req.Challenge,
		User: user, Scopes: req.Scopes, Resource: req.Resource, Expires: s.now().Add(codeTTL)})
	s.logger.Info("dev sign-in through OAuth", "user", user, "client_id", req.Client.ID)
	s.redirect(w, r, req, url.Values{"code": {code}})
}

// refuse reports a refused authorization request: to the client's redirect URI when it is
// trusted, otherwise on a page.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, req authRequest, e *authError) {
	if e.Redirect {
		s.redirect(w, r, req, url.Values{"error": {e.Code}, "error_description": {e.Description}})
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusBadRequest)
	_ = errorPage.Execute(w, e)
}

// redirect sends the person back to the client with params, the state and the issuer (RFC 9207).
func (s *Server) redirect(w http.ResponseWriter, r *http.Request, req authRequest, params url.Values) {
	u, err := url.Parse(req.RedirectURI)
	if err != nil {
		http.Error(w, "the redirect URI is not valid", http.StatusBadRequest)
		return
	}
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	if req.State != "" {
		q.Set("state", req.State)
	}
	q.Set("iss", s.issuer)
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// errInvalidGrant is the token endpoint's answer to a code that is unknown, used, expired or
// not this client's.
var errInvalidGrant = errors.New("the authorization code is not valid: it is unknown, expired, already used, or was issued to another client or redirect URI")

var signInPage = template.Must(template.New("signin").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in to MCP Platform (dev)</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#1f2937}
button{display:block;width:100%;text-align:left;margin:.4rem 0;padding:.6rem .8rem;border:1px solid #cbd5e1;border-radius:.5rem;background:#fff;cursor:pointer;font-size:1rem}
button:hover{background:#f1f5f9} small{color:#64748b} .cancel{text-align:center;color:#b91c1c}</style></head>
<body><h1>Sign in to MCP Platform</h1>
<p><strong>{{.Client}}</strong> wants to use MCP Platform's tools as you (it will receive the code at <code>{{.RedirectHost}}</code>), for {{.Scopes}}.</p>
<p><small>Development sign-in: pick a demo user. Anyone who can reach this page can sign in as anyone, so it exists only in dev mode.</small></p>
<form method="post" action="{{.Action}}">
{{range $k, $vs := .Params}}{{range $vs}}<input type="hidden" name="{{$k}}" value="{{.}}">{{end}}{{end}}
{{range .Users}}<button type="submit" name="user" value="{{.ID}}">{{.Name}} <small>{{.Title}} · {{range $i, $r := .Roles}}{{if $i}}, {{end}}{{$r}}{{end}}</small></button>{{end}}
<button type="submit" name="user" value="" class="cancel">Cancel</button>
</form></body></html>
`))

var errorPage = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign-in refused</title></head>
<body style="font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto">
<h1>This sign-in request was refused</h1><p><code>{{.Code}}</code>: {{.Description}}</p>
<p>Nothing was sent back to the application. Start the sign-in again from the MCP client.</p></body></html>
`))
