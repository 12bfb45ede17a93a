// Package devoauth is the dev-mode OAuth 2.1 authorization server that lets MCP clients (MCP
// Inspector, mcp-remote, the SDKs' OAuth providers) sign in to /mcp with no hand-made token: the
// authorization code grant with PKCE (S256 only), clients identified by a client ID metadata
// document or registered dynamically (RFC 7591), and a page where the person picks a demo user.
// It issues the same tokens as POST /auth/token, so it exists only in dev mode: anyone who can
// reach it can become any demo user, including admin. In production the protected-resource
// metadata names the configured identity provider instead.
//
// No well-kept Go library fits this job at its size: full authorization servers (ory/fosite)
// bring storage, sessions and consent models we do not need, and the smaller ones lack client
// ID metadata documents. The grant is short and follows RFC 6749, RFC 7636, RFC 7591, RFC 8414,
// RFC 8707, RFC 9207 and the MCP authorization specification.
package devoauth

import (
	"crypto/rand"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"mcp-platform/authz"
)

// Paths of the authorization server's endpoints, below its issuer URL.
const (
	MetadataPath     = "/.well-known/oauth-authorization-server"
	AuthorizePath    = "/oauth/authorize"
	TokenPath        = "/oauth/token"
	RegistrationPath = "/oauth/register"
)

// codeTTL is how long an authorization code may wait for its exchange (RFC 6749 §4.1.2
// recommends at most ten minutes).
const codeTTL = 2 * time.Minute

// maxClients and maxCodes bound the in-memory state, so a client that registers in a loop cannot
// grow it without end; the oldest entries go first.
const (
	maxClients = 1000
	maxCodes   = 1000
)

// Options configure a Server.
type Options struct {
	// Issuer is the authorization server's URL (its issuer identifier): the MCP server's public
	// URL, such as http://localhost:8001.
	Issuer string
	// Resource is the protected resource the tokens are for (the /mcp URL); a request naming
	// another resource (RFC 8707) is refused.
	Resource string
	// Tokens signs the access tokens (the dev issuer).
	Tokens *authz.Issuer
	// HTTPClient fetches client ID metadata documents; nil means one with a 5 s timeout.
	HTTPClient *http.Client
	Logger     *slog.Logger
}

// Server is the dev authorization server. Registered clients and pending codes live in memory:
// a restart of dev forgets them, and MCP clients then register again.
type Server struct {
	issuer   string
	resource string
	tokens   *authz.Issuer
	fetch    *http.Client
	logger   *slog.Logger
	now      func() time.Time

	mu      sync.Mutex
	clients map[string]client
	codes   map[string]grant
}

// client is a registered or discovered OAuth client.
type client struct {
	ID           string
	Name         string
	RedirectURIs []string
	registered   time.Time
}

// grant is an issued authorization code waiting for its exchange.
type grant struct {
	ClientID    string
	RedirectURI string
	Challenge   string
	User        string
	Scopes      []string
	Resource    string
	Expires     time.Time
}

// New returns the authorization server, or an error when an option is missing.
func New(o Options) (*Server, error) {
	switch {
	case o.Tokens == nil:
		return nil, errors.New("dev authorization server: no token issuer (it exists only in dev mode)")
	case o.Issuer == "":
		return nil, errors.New("dev authorization server: no issuer URL")
	}
	fetch := o.HTTPClient
	if fetch == nil {
		fetch = &http.Client{Timeout: 5 * time.Second}
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Server{
		issuer: strings.TrimRight(o.Issuer, "/"), resource: o.Resource, tokens: o.Tokens,
		fetch: fetch, logger: logger, now: time.Now,
		clients: map[string]client{}, codes: map[string]grant{},
	}, nil
}

// Issuer is the server's issuer identifier, for the protected-resource metadata.
func (s *Server) Issuer() string { return s.issuer }

// Register adds the server's endpoints to mux.
func (s *Server) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET "+MetadataPath, s.serveMetadata)
	mux.HandleFunc("OPTIONS "+MetadataPath, s.serveMetadata)
	mux.HandleFunc("GET "+AuthorizePath, s.serveAuthorizePage)
	mux.HandleFunc("POST "+AuthorizePath, s.serveAuthorizeDecision)
	mux.HandleFunc("POST "+TokenPath, s.serveToken)
	mux.HandleFunc("OPTIONS "+TokenPath, s.serveToken)
	mux.HandleFunc("POST "+RegistrationPath, s.serveRegistration)
	mux.HandleFunc("OPTIONS "+RegistrationPath, s.serveRegistration)
}

// metadata is the authorization server metadata (RFC 8414) with the MCP client ID metadata
// document flag.
type metadata struct {
	Issuer                            string   `json:"issuer"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	RegistrationEndpoint              string   `json:"registration_endpoint"`
	ScopesSupported                   []string `json:"scopes_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	ResponseModesSupported            []string `json:"response_modes_supported"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported"`
	ClientIDMetadataDocumentSupported bool     `json:"client_id_metadata_document_supported"`
	IssParameterSupported             bool     `json:"authorization_response_iss_parameter_supported"`
	ServiceDocumentation              string   `json:"service_documentation,omitempty"`
}

func (s *Server) serveMetadata(w http.ResponseWriter, r *http.Request) {
	if allowCORS(w, r) {
		return
	}
	writeJSON(w, http.StatusOK, metadata{
		Issuer:                            s.issuer,
		AuthorizationEndpoint:             s.issuer + AuthorizePath,
		TokenEndpoint:                     s.issuer + TokenPath,
		RegistrationEndpoint:              s.issuer + RegistrationPath,
		ScopesSupported:                   []string{"tools:*"},
		ResponseTypesSupported:            []string{"code"},
		ResponseModesSupported:            []string{"query"},
		GrantTypesSupported:               []string{"authorization_code"},
		TokenEndpointAuthMethodsSupported: []string{"none"},
		CodeChallengeMethodsSupported:     []string{"S256"},
		ClientIDMetadataDocumentSupported: true,
		IssParameterSupported:             true,
	})
}

// newSecret is an unguessable identifier (codes, client IDs).
func newSecret() string { return rand.Text() }

// remember stores a grant under a new code, dropping expired ones and, past maxCodes, the
// oldest.
func (s *Server) remember(g grant) string {
	code := newSecret()
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for c, old := range s.codes {
		if now.After(old.Expires) {
			delete(s.codes, c)
		}
	}
	if len(s.codes) >= maxCodes {
		evictOldest(s.codes, func(g grant) time.Time { return g.Expires })
	}
	s.codes[code] = g
	return code
}

// redeem takes the grant of code once: a code is single use, whatever the exchange's outcome.
func (s *Server) redeem(code string) (grant, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.codes[code]
	delete(s.codes, code)
	if !ok || s.now().After(g.Expires) {
		return grant{}, false
	}
	return g, true
}

// evictOldest deletes the entry of m with the earliest time.
func evictOldest[V any](m map[string]V, at func(V) time.Time) {
	var oldest string
	var first time.Time
	for k, v := range m {
		if t := at(v); oldest == "" || t.Before(first) {
			oldest, first = k, t
		}
	}
	delete(m, oldest)
}
