package authz

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"mcp-platform/internal/config"
)

// testSecret is long enough for config validation; tests only.
const testSecret = "authz-test-secret-0123456789abcdef"

func testJWTConfig() config.JWT {
	return config.JWT{Secret: testSecret, Issuer: "mcp-platform", Audience: "mcp-platform", TokenTTL: time.Hour}
}

func newTestIssuer(tb testing.TB, cfg config.JWT) *Issuer {
	tb.Helper()
	iss, err := NewIssuer(cfg, true)
	require.NoError(tb, err)
	return iss
}

func TestNewIssuer(t *testing.T) {
	tests := []struct {
		name string
		cfg  func(c *config.JWT)
		dev  bool
		ok   bool
	}{
		{name: "OK", cfg: func(*config.JWT) {}, dev: true, ok: true},
		{name: "ErrNotDev", cfg: func(*config.JWT) {}, dev: false},
		{name: "ErrNoSecret", cfg: func(c *config.JWT) { c.Secret = "" }, dev: true},
		{name: "ErrJWKSConfigured", cfg: func(c *config.JWT) { c.JWKSURL = "https://idp.example/jwks" }, dev: true},
		{name: "ErrNoTTL", cfg: func(c *config.JWT) { c.TokenTTL = 0 }, dev: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testJWTConfig()
			tt.cfg(&cfg)
			iss, err := NewIssuer(cfg, tt.dev)
			if tt.ok {
				require.NoError(t, err)
				require.NotNil(t, iss)
				return
			}
			require.Error(t, err)
			require.Nil(t, iss)
			require.NotContains(t, err.Error(), testSecret)
		})
	}
}

func TestDemoUsers(t *testing.T) {
	got := DemoUsers()
	want := []DemoUser{
		{ID: "alice", Name: "Alice Martin", Title: "HR manager", Roles: []string{"hr_manager", "employee"}},
		{ID: "bob", Name: "Bob Chen", Title: "Finance clerk", Roles: []string{"finance_clerk", "employee"}},
		{ID: "fiona", Name: "Fiona Walsh", Title: "Finance manager", Roles: []string{"finance_manager", "finance_clerk", "employee"}},
		{ID: "carol", Name: "Carol Diaz", Title: "SRE", Roles: []string{"sre", "employee"}},
		{ID: "dan", Name: "Dan Okafor", Title: "SRE lead", Roles: []string{"sre_lead", "sre", "employee"}},
		{ID: "audrey", Name: "Audrey Kim", Title: "Auditor", Roles: []string{"auditor", "employee"}},
		{ID: "oscar", Name: "Oscar Novak", Title: "Platform operator", Roles: []string{"operator", "employee"}},
		{ID: "admin", Name: "Platform Admin", Title: "Administrator", Roles: []string{"admin"}},
	}
	require.Equal(t, want, got)

	got[0].Roles[0] = "admin"
	require.Equal(t, "hr_manager", DemoUsers()[0].Roles[0], "callers cannot change the demo users")
}

func TestIssueDemo(t *testing.T) {
	iss := newTestIssuer(t, testJWTConfig())
	now := time.Date(2030, 1, 2, 3, 4, 5, 600, time.UTC)
	iss.now = func() time.Time { return now }

	t.Run("OK", func(t *testing.T) {
		token, expires, p, err := iss.IssueDemo("fiona", []string{"openid", "tools:erp.*"})
		require.NoError(t, err)
		require.NotEmpty(t, token)
		require.Equal(t, time.Date(2030, 1, 2, 4, 4, 5, 0, time.UTC), expires.UTC(), "now + TTL, whole seconds as in exp")
		require.Equal(t, Principal{
			Subject: "fiona",
			Name:    "Fiona Walsh",
			Roles:   []string{"finance_manager", "finance_clerk", "employee"},
			Scopes:  []string{"openid", "tools:erp.*"},
		}, p)
	})
	t.Run("ErrUnknownUser", func(t *testing.T) {
		token, _, _, err := iss.IssueDemo("mallory", nil)
		require.ErrorIs(t, err, ErrUnknownUser)
		require.Empty(t, token)
	})
}

func TestIssue(t *testing.T) {
	iss := newTestIssuer(t, testJWTConfig())
	tests := []struct {
		name string
		p    Principal
	}{
		{name: "ErrNoSubject", p: Principal{Roles: []string{"admin"}}},
		{name: "ErrScopeWithSpace", p: Principal{Subject: "x", Scopes: []string{"tools:hr.* tools:erp.*"}}},
		{name: "ErrEmptyScope", p: Principal{Subject: "x", Scopes: []string{""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token, _, err := iss.Issue(tt.p)
			require.Error(t, err)
			require.Empty(t, token)
		})
	}
}
