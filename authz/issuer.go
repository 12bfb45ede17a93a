package authz

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/golang-jwt/jwt/v5"

	"mcp-platform/internal/config"
)

// ErrUnknownUser is wrapped by IssueDemo when the user ID is not one of DemoUsers.
var ErrUnknownUser = errors.New("unknown demo user")

// DemoUser is a ready-made identity for trying the platform in dev mode: one per kind of
// person the example domains care about.
type DemoUser struct {
	ID    string   `json:"id"`
	Name  string   `json:"name"`
	Title string   `json:"title"`
	Roles []string `json:"roles"`
}

// DemoUsers returns the dev-mode demo users, in the order the UI lists them. The result is a
// fresh copy: callers may modify it.
func DemoUsers() []DemoUser {
	return []DemoUser{
		{ID: "alice", Name: "Alice Martin", Title: "HR manager", Roles: []string{"hr_manager", "employee"}},
		{ID: "bob", Name: "Bob Chen", Title: "Finance clerk", Roles: []string{"finance_clerk", "employee"}},
		{ID: "fiona", Name: "Fiona Walsh", Title: "Finance manager", Roles: []string{"finance_manager", "finance_clerk", "employee"}},
		{ID: "carol", Name: "Carol Diaz", Title: "SRE", Roles: []string{"sre", "employee"}},
		{ID: "dan", Name: "Dan Okafor", Title: "SRE lead", Roles: []string{"sre_lead", "sre", "employee"}},
		{ID: "audrey", Name: "Audrey Kim", Title: "Auditor", Roles: []string{"auditor", "employee"}},
		{ID: "oscar", Name: "Oscar Novak", Title: "Platform operator", Roles: []string{"operator", "employee"}},
		{ID: "admin", Name: "Platform Admin", Title: "Administrator", Roles: []string{"admin"}},
	}
}

// Issuer signs HS256 tokens for the dev token endpoint. It exists only in dev mode: anyone who
// can reach that endpoint can become any demo user, including admin.
type Issuer struct {
	secret   []byte
	issuer   string
	audience string
	ttl      time.Duration
	// now is the clock for iat and exp; tests replace it.
	now func() time.Time
}

// NewIssuer returns an Issuer signing with cfg.Secret, stamping cfg.Issuer and cfg.Audience,
// valid for cfg.TokenTTL. It returns an error when dev is false (so production wiring cannot
// build one by mistake), when cfg.Secret is empty, when cfg.JWKSURL is set (the verifier would
// then refuse HS256 tokens) or when cfg.TokenTTL is not positive.
func NewIssuer(cfg config.JWT, dev bool) (*Issuer, error) {
	switch {
	case !dev:
		return nil, errors.New("new token issuer: dev tokens are only issued in dev mode")
	case cfg.Secret == "":
		return nil, errors.New("new token issuer: no HS256 secret configured")
	case cfg.JWKSURL != "":
		return nil, errors.New("new token issuer: tokens are verified with a JWKS, so HS256 dev tokens would be refused")
	case cfg.TokenTTL <= 0:
		return nil, errors.New("new token issuer: token TTL must be positive")
	}
	return &Issuer{
		secret:   []byte(cfg.Secret),
		issuer:   cfg.Issuer,
		audience: cfg.Audience,
		ttl:      cfg.TokenTTL,
		now:      time.Now,
	}, nil
}

// Issue signs a token for p: iss, aud, sub, name, roles, scope (space-separated), iat and exp
// (now + TokenTTL). It returns the token and when it expires, or an error when p has no subject
// or a scope contains white space (it could not survive the space-separated form).
func (i *Issuer) Issue(p Principal) (token string, expires time.Time, err error) {
	if p.Subject == "" {
		return "", time.Time{}, errors.New("issue token: principal has no subject")
	}
	for _, s := range p.Scopes {
		if s == "" || strings.ContainsFunc(s, unicode.IsSpace) {
			return "", time.Time{}, fmt.Errorf("issue token: scope %q is empty or contains white space", s)
		}
	}
	now := i.now()
	exp := jwt.NewNumericDate(now.Add(i.ttl))
	claims := tokenClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    i.issuer,
			Subject:   p.Subject,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: exp,
		},
		Name:  p.Name,
		Roles: append(stringList{}, p.Roles...),
		Scope: spaceList(p.Scopes),
	}
	if i.audience != "" {
		claims.Audience = jwt.ClaimStrings{i.audience}
	}
	token, err = jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(i.secret)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("issue token: %w", err)
	}
	return token, exp.Time, nil
}

// IssueDemo signs a token for the demo user userID, with the given scopes (nil for an
// unrestricted token). It returns the token, its expiry and the principal it names, or an error
// wrapping ErrUnknownUser when userID is not one of DemoUsers.
func (i *Issuer) IssueDemo(userID string, scopes []string) (token string, expires time.Time, p Principal, err error) {
	users := DemoUsers()
	idx := slices.IndexFunc(users, func(u DemoUser) bool { return u.ID == userID })
	if idx < 0 {
		return "", time.Time{}, Principal{}, fmt.Errorf("issue demo token for %q: %w", userID, ErrUnknownUser)
	}
	u := users[idx]
	p = Principal{Subject: u.ID, Name: u.Name, Roles: u.Roles, Scopes: slices.Clone(scopes)}
	token, expires, err = i.Issue(p)
	if err != nil {
		return "", time.Time{}, Principal{}, err
	}
	return token, expires, p, nil
}
