package devoauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// maxDocument bounds a client ID metadata document or a registration request.
const maxDocument = 64 << 10

// errUnknownClient is why a client ID is refused: neither registered nor a metadata document URL.
var errUnknownClient = errors.New("unknown client")

// registration is a dynamic client registration request (RFC 7591 §2) or a client ID metadata
// document, with the fields this server uses.
type registration struct {
	ClientID                string   `json:"client_id,omitempty"`
	ClientName              string   `json:"client_name,omitempty"`
	RedirectURIs            []string `json:"redirect_uris"`
	GrantTypes              []string `json:"grant_types,omitempty"`
	ResponseTypes           []string `json:"response_types,omitempty"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method,omitempty"`
	Scope                   string   `json:"scope,omitempty"`
}

// registered is the answer to a registration (RFC 7591 §3.2.1).
type registered struct {
	ClientID                string   `json:"client_id"`
	ClientIDIssuedAt        int64    `json:"client_id_issued_at"`
	ClientName              string   `json:"client_name,omitempty"`
	RedirectURIs            []string `json:"redirect_uris"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
}

// serveRegistration registers a public client (RFC 7591). Only public clients exist here: PKCE
// protects the grant, so there is no client secret to hand out.
func (s *Server) serveRegistration(w http.ResponseWriter, r *http.Request) {
	if allowCORS(w, r) {
		return
	}
	var req registration
	dec := json.NewDecoder(io.LimitReader(r.Body, maxDocument))
	if err := dec.Decode(&req); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_client_metadata", "the registration must be a JSON object (RFC 7591)")
		return
	}
	if err := checkClientMetadata(req); err != nil {
		oauthError(w, http.StatusBadRequest, err.code, err.msg)
		return
	}
	c := client{ID: "dev-" + newSecret(), Name: req.ClientName, RedirectURIs: req.RedirectURIs, registered: s.now()}
	s.mu.Lock()
	if len(s.clients) >= maxClients {
		evictOldest(s.clients, func(c client) time.Time { return c.registered })
	}
	s.clients[c.ID] = c
	s.mu.Unlock()
	s.logger.Info("OAuth client registered", "client_id", c.ID, "client_name", c.Name, "redirect_uris", c.RedirectURIs)
	writeJSON(w, http.StatusCreated, registered{
		ClientID: c.ID, ClientIDIssuedAt: c.registered.Unix(), ClientName: c.Name, RedirectURIs: c.RedirectURIs,
		GrantTypes: []string{"authorization_code"}, ResponseTypes: []string{"code"}, TokenEndpointAuthMethod: "none",
	})
}

// problem is an OAuth error code with its description.
type problem struct{ code, msg string }

// checkClientMetadata refuses metadata this server cannot honour: no or unsafe redirect URIs,
// a grant other than the authorization code, or a confidential client.
func checkClientMetadata(m registration) *problem {
	if len(m.RedirectURIs) == 0 {
		return &problem{"invalid_redirect_uri", "redirect_uris is required: list where the authorization code may be sent"}
	}
	for _, u := range m.RedirectURIs {
		if err := checkRedirectURI(u); err != nil {
			return &problem{"invalid_redirect_uri", fmt.Sprintf("redirect URI %q: %v", u, err)}
		}
	}
	for _, g := range m.GrantTypes {
		if g != "authorization_code" && g != "refresh_token" {
			return &problem{"invalid_client_metadata", fmt.Sprintf("grant type %q is not supported; use authorization_code", g)}
		}
	}
	if a := m.TokenEndpointAuthMethod; a != "" && a != "none" {
		return &problem{"invalid_client_metadata", fmt.Sprintf("token_endpoint_auth_method %q is not supported: clients are public and use PKCE (\"none\")", a)}
	}
	return nil
}

// checkRedirectURI accepts the redirect URIs of OAuth 2.1 native and web clients: https, http on
// a loopback address (RFC 8252 §7.3), or a private-use scheme (RFC 8252 §7.1); never a fragment
// or a scheme that runs code.
func checkRedirectURI(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil || !u.IsAbs():
		return errors.New("not an absolute URI")
	case u.Fragment != "":
		return errors.New("a redirect URI must not have a fragment")
	}
	switch scheme := strings.ToLower(u.Scheme); scheme {
	case "https":
		return nil
	case "http":
		if !isLoopback(u.Hostname()) {
			return errors.New("http is allowed only on a loopback host (localhost, 127.0.0.1, [::1])")
		}
		return nil
	case "javascript", "data", "file", "vbscript", "about", "blob":
		return fmt.Errorf("the %s scheme is not allowed", scheme)
	default:
		return nil
	}
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// redirectAllowed reports whether uri is one of the client's redirect URIs. A loopback http URI
// matches on any port, as native apps pick theirs at run time (RFC 8252 §7.3).
func redirectAllowed(c client, uri string) bool {
	if slices.Contains(c.RedirectURIs, uri) {
		return true
	}
	want, err := url.Parse(uri)
	if err != nil || want.Scheme != "http" || !isLoopback(want.Hostname()) {
		return false
	}
	for _, r := range c.RedirectURIs {
		got, err := url.Parse(r)
		if err == nil && got.Scheme == "http" && got.Hostname() == want.Hostname() && got.Path == want.Path && got.RawQuery == want.RawQuery {
			return true
		}
	}
	return false
}

// client finds the client of id: a registered one, or one whose ID is the URL of its client ID
// metadata document, fetched now.
func (s *Server) client(ctx context.Context, id string) (client, error) {
	s.mu.Lock()
	c, ok := s.clients[id]
	s.mu.Unlock()
	if ok {
		return c, nil
	}
	u, err := url.Parse(id)
	if err != nil || !u.IsAbs() || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname()))) || u.Path == "" || u.Path == "/" {
		return client{}, fmt.Errorf("%w %q: register it (%s) or use the https URL of its client ID metadata document", errUnknownClient, id, RegistrationPath)
	}
	return s.fetchDocument(ctx, id)
}

// fetchDocument fetches and checks a client ID metadata document: its client_id must be the
// URL it was fetched from.
func (s *Server) fetchDocument(ctx context.Context, id string) (client, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, id, nil)
	if err != nil {
		return client{}, fmt.Errorf("client ID metadata document %s: %w", id, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.fetch.Do(req)
	if err != nil {
		return client{}, fmt.Errorf("client ID metadata document %s could not be fetched", id)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return client{}, fmt.Errorf("client ID metadata document %s answered HTTP %d", id, resp.StatusCode)
	}
	var doc registration
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxDocument)).Decode(&doc); err != nil {
		return client{}, fmt.Errorf("client ID metadata document %s is not a JSON object", id)
	}
	if doc.ClientID != id {
		return client{}, fmt.Errorf("client ID metadata document %s names client_id %q, not its own URL", id, doc.ClientID)
	}
	if p := checkClientMetadata(doc); p != nil {
		return client{}, fmt.Errorf("client ID metadata document %s: %s", id, p.msg)
	}
	return client{ID: id, Name: doc.ClientName, RedirectURIs: doc.RedirectURIs}, nil
}
