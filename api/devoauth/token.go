package devoauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// tokenResponse is a successful token response (RFC 6749 §5.1).
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope,omitempty"`
}

// serveToken exchanges an authorization code for an access token, checking the client, the
// redirect URI, the PKCE verifier and the resource.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	if allowCORS(w, r) {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxDocument)
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "the token request must be an application/x-www-form-urlencoded form")
		return
	}
	f := r.PostForm
	if gt := f.Get("grant_type"); gt != "authorization_code" {
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "only grant_type=authorization_code is supported")
		return
	}
	clientID := f.Get("client_id")
	if id, _, ok := r.BasicAuth(); ok && clientID == "" {
		clientID = id
	}
	if clientID == "" {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "client_id is required (public clients send it in the form)")
		return
	}
	g, ok := s.redeem(f.Get("code"))
	if !ok || g.ClientID != clientID || g.RedirectURI != f.Get("redirect_uri") {
		oauthError(w, http.StatusBadRequest, "invalid_grant", errInvalidGrant.Error())
		return
	}
	if !verifierMatches(f.Get("code_verifier"), g.Challenge) {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "code_verifier does not match the code_challenge of the authorization request (PKCE)")
		return
	}
	if res := f.Get("resource"); res != "" && !s.ownResource(res) {
		oauthError(w, http.StatusBadRequest, "invalid_target", "this server issues tokens only for "+s.resource)
		return
	}
	token, expires, _, err := s.tokens.IssueDemo(g.User, g.Scopes)
	if err != nil {
		s.logger.Error("dev OAuth token not issued", "user", g.User, "error", err)
		oauthError(w, http.StatusInternalServerError, "server_error", "the token could not be issued")
		return
	}
	scope := strings.Join(g.Scopes, " ")
	if scope == "" {
		scope = "tools:*"
	}
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, tokenResponse{AccessToken: token, TokenType: "Bearer",
		ExpiresIn: int64(time.Until(expires).Seconds()), Scope: scope})
}

// verifierMatches checks a PKCE code verifier (RFC 7636 §4.1: 43 to 128 unreserved characters)
// against the S256 challenge.
func verifierMatches(verifier, challenge string) bool {
	if len(verifier) < 43 || len(verifier) > 128 || strings.ContainsFunc(verifier, func(r rune) bool {
		return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("-._~", r))
	}) {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	return subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(challenge)) == 1
}

// validChallenge reports whether c can be an S256 challenge: 43 base64url characters.
func validChallenge(c string) bool {
	_, err := base64.RawURLEncoding.DecodeString(c)
	return len(c) == 43 && err == nil
}

// oauthError writes an OAuth error response (RFC 6749 §5.2).
func oauthError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": description})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// allowCORS lets browser-based MCP clients (such as MCP Inspector) reach the metadata,
// registration and token endpoints from their own origin: they carry no cookies, so any origin
// may. It answers a preflight and reports whether it did.
func allowCORS(w http.ResponseWriter, r *http.Request) bool {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, MCP-Protocol-Version")
	h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
	if r.Method == http.MethodOptions {
		w.WriteHeader(http.StatusNoContent)
		return true
	}
	return false
}
