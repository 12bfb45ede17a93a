// Package authz answers two questions for every request and every tool call: who is calling
// (bearer JWT verification into a Principal) and may they do it (Casbin RBAC over namespaced
// tool names, narrowed by the token's scopes). It also issues dev-only tokens for the demo
// users.
package authz

import (
	"errors"
	"slices"
)

// ErrUnauthenticated is wrapped by every Verify failure. The error's message says why (token
// expired, bad signature, wrong audience...) without echoing the token, so it is safe to log;
// APIs still answer clients with a generic 401.
var ErrUnauthenticated = errors.New("unauthenticated")

// Principal is who calls: it travels with every workflow into the tool activities, so it stays a
// plain JSON-friendly value.
type Principal struct {
	Subject string   `json:"sub"`
	Name    string   `json:"name,omitempty"`
	Roles   []string `json:"roles"`
	Scopes  []string `json:"scopes,omitempty"`
}

// HasRole reports whether the principal holds role (compared exactly).
func (p Principal) HasRole(role string) bool {
	return slices.Contains(p.Roles, role)
}
