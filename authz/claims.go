package authz

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// tokenClaims is the JWT payload we read and write. Identity providers disagree on where
// roles and scopes live, so reading accepts the common variants (see principal).
type tokenClaims struct {
	jwt.RegisteredClaims
	Name   string     `json:"name,omitempty"`
	Roles  stringList `json:"roles"`
	Groups stringList `json:"groups,omitempty"`
	// Scope is the OAuth 2.0 space-separated scope string.
	Scope spaceList `json:"scope,omitempty"`
	// Scp is the array form some providers use instead (Okta; Entra ID sends a string).
	Scp spaceList `json:"scp,omitempty"`
}

// principal turns verified claims into a Principal: roles from "roles", or from "groups" when
// the token has no roles; scopes from "scope" and "scp" together.
func (c *tokenClaims) principal() Principal {
	roles := c.Roles
	if len(roles) == 0 {
		roles = c.Groups
	}
	scopes := compactStrings(append(slices.Clone(c.Scope), c.Scp...))
	return Principal{
		Subject: c.Subject,
		Name:    c.Name,
		Roles:   append([]string{}, compactStrings(roles)...),
		Scopes:  scopes,
	}
}

// compactStrings drops empty and repeated entries, keeping the first occurrence's order.
func compactStrings(in []string) []string {
	var out []string
	for _, s := range in {
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// stringList is a claim holding a JSON array of strings; a lone string is read as a
// one-element list, as some providers emit single-valued claims that way.
type stringList []string

// UnmarshalJSON reads an array of strings, a single string or null.
func (l *stringList) UnmarshalJSON(b []byte) error {
	v, err := decodeList(b, func(one string) []string { return []string{one} }, "want a string or an array of strings")
	*l = v
	return err
}

// spaceList is a scope claim: a space-separated string (RFC 8693 "scope") or an array.
type spaceList []string

// UnmarshalJSON reads a space-separated string, an array of strings or null.
func (l *spaceList) UnmarshalJSON(b []byte) error {
	v, err := decodeList(b, strings.Fields, "want a space-separated string or an array of strings")
	*l = v
	return err
}

// decodeList reads a claim that is null, a JSON array of strings, or a single string that
// split turns into a list.
func decodeList(b []byte, split func(string) []string, want string) ([]string, error) {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		return nil, nil
	}
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		return split(one), nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return nil, errors.New(want)
	}
	return many, nil
}

// MarshalJSON writes the OAuth form, a space-separated string.
func (l spaceList) MarshalJSON() ([]byte, error) {
	return json.Marshal(strings.Join(l, " "))
}
