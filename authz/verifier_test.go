package authz

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"mcp-platform/internal/config"
)

func newTestVerifier(tb testing.TB, cfg config.JWT) *Verifier {
	tb.Helper()
	v, err := NewVerifier(tb.Context(), cfg)
	require.NoError(tb, err)
	tb.Cleanup(v.Close)
	return v
}

// signHS signs claims with HS256 and secret, as a third party (not our Issuer) would.
func signHS(tb testing.TB, claims jwt.MapClaims, secret []byte) string {
	tb.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
	require.NoError(tb, err)
	return s
}

// validClaims are claims the test verifier accepts; cases change one thing.
func validClaims(mod func(c jwt.MapClaims)) jwt.MapClaims {
	now := time.Now()
	c := jwt.MapClaims{
		"iss":   "mcp-platform",
		"aud":   "mcp-platform",
		"sub":   "u1",
		"roles": []string{"employee"},
		"iat":   now.Unix(),
		"exp":   now.Add(time.Hour).Unix(),
	}
	if mod != nil {
		mod(c)
	}
	return c
}

func TestVerifyHS256RoundTrip(t *testing.T) {
	cfg := testJWTConfig()
	v := newTestVerifier(t, cfg)
	iss := newTestIssuer(t, cfg)

	t.Run("OK", func(t *testing.T) {
		token, _, want, err := iss.IssueDemo("alice", []string{"openid", "tools:hr.*"})
		require.NoError(t, err)
		got, err := v.Verify(t.Context(), token)
		require.NoError(t, err)
		require.Equal(t, want, got)
	})
	t.Run("OKNoScopes", func(t *testing.T) {
		token, _, err := iss.Issue(Principal{Subject: "svc", Roles: nil})
		require.NoError(t, err)
		got, err := v.Verify(t.Context(), token)
		require.NoError(t, err)
		require.Equal(t, Principal{Subject: "svc", Roles: []string{}}, got, "roles is an empty list, never null")
	})
	t.Run("OKExpiredWithinClockSkew", func(t *testing.T) {
		token := signHS(t, validClaims(func(c jwt.MapClaims) {
			c["iat"] = time.Now().Add(-time.Hour).Unix()
			c["exp"] = time.Now().Add(-10 * time.Second).Unix()
		}), []byte(testSecret))
		_, err := v.Verify(t.Context(), token)
		require.NoError(t, err)
	})
}

func TestVerifyClaimVariants(t *testing.T) {
	v := newTestVerifier(t, testJWTConfig())
	tests := []struct {
		name string
		mod  func(c jwt.MapClaims)
		want Principal
	}{
		{
			name: "OKGroupsFallback",
			mod:  func(c jwt.MapClaims) { delete(c, "roles"); c["groups"] = []string{"sre", "employee"} },
			want: Principal{Subject: "u1", Roles: []string{"sre", "employee"}},
		},
		{
			name: "OKRolesWinOverGroups",
			mod:  func(c jwt.MapClaims) { c["groups"] = []string{"sre"} },
			want: Principal{Subject: "u1", Roles: []string{"employee"}},
		},
		{
			name: "OKScopeString",
			mod:  func(c jwt.MapClaims) { c["scope"] = "openid  tools:hr.get_employee profile" },
			want: Principal{Subject: "u1", Roles: []string{"employee"}, Scopes: []string{"openid", "tools:hr.get_employee", "profile"}},
		},
		{
			name: "OKScpArray",
			mod:  func(c jwt.MapClaims) { c["scp"] = []string{"tools:erp.*"} },
			want: Principal{Subject: "u1", Roles: []string{"employee"}, Scopes: []string{"tools:erp.*"}},
		},
		{
			name: "OKNameAndAudienceList",
			mod:  func(c jwt.MapClaims) { c["name"] = "Una"; c["aud"] = []string{"other", "mcp-platform"} },
			want: Principal{Subject: "u1", Name: "Una", Roles: []string{"employee"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := v.Verify(t.Context(), signHS(t, validClaims(tt.mod), []byte(testSecret)))
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestVerifyHS256Refused(t *testing.T) {
	cfg := testJWTConfig()
	v := newTestVerifier(t, cfg)
	secret := []byte(testSecret)

	expiredIssuer := newTestIssuer(t, cfg)
	expiredIssuer.now = func() time.Time { return time.Now().Add(-2 * time.Hour) }
	expired, _, _, err := expiredIssuer.IssueDemo("bob", nil)
	require.NoError(t, err)

	otherAudience := cfg
	otherAudience.Audience = "someone-else"
	wrongAud, _, _, err := newTestIssuer(t, otherAudience).IssueDemo("bob", nil)
	require.NoError(t, err)

	otherIssuer := cfg
	otherIssuer.Issuer = "evil-idp"
	wrongIss, _, _, err := newTestIssuer(t, otherIssuer).IssueDemo("bob", nil)
	require.NoError(t, err)

	good := signHS(t, validClaims(nil), secret)
	parts := strings.Split(good, ".")
	elevated := base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"u1","roles":["admin"],"iss":"mcp-platform","aud":"mcp-platform","exp":4102444800}`))
	tampered := parts[0] + "." + elevated + "." + parts[2]

	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, validClaims(nil)).SignedString(jwt.UnsafeAllowNoneSignatureType)
	require.NoError(t, err)
	hs512, err := jwt.NewWithClaims(jwt.SigningMethodHS512, validClaims(nil)).SignedString(secret)
	require.NoError(t, err)

	// An attacker who knows a public key signs HS256 with it, hoping a verifier treats the key
	// as an HMAC secret.
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	pubDER, err := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	require.NoError(t, err)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	hsWithPublicKey := signHS(t, validClaims(nil), pubPEM)

	tests := []struct {
		name   string
		token  string
		reason string
		cause  error
	}{
		{name: "ErrEmpty", token: "", reason: "no token"},
		{name: "ErrMalformed", token: "not-a-jwt", reason: "malformed token", cause: jwt.ErrTokenMalformed},
		{name: "ErrTooLarge", token: strings.Repeat("a", maxTokenSize+1), reason: "token too large"},
		{name: "ErrExpired", token: expired, reason: "token expired", cause: jwt.ErrTokenExpired},
		{name: "ErrWrongSignature", token: signHS(t, validClaims(nil), []byte("another-secret-0123456789abcdefgh")), reason: "bad signature", cause: jwt.ErrTokenSignatureInvalid},
		{name: "ErrTamperedPayload", token: tampered, reason: "bad signature", cause: jwt.ErrTokenSignatureInvalid},
		{name: "ErrWrongAudience", token: wrongAud, reason: "wrong audience", cause: jwt.ErrTokenInvalidAudience},
		{name: "ErrWrongIssuer", token: wrongIss, reason: "wrong issuer", cause: jwt.ErrTokenInvalidIssuer},
		{name: "ErrNoAudience", token: signHS(t, validClaims(func(c jwt.MapClaims) { delete(c, "aud") }), secret), reason: "token has no aud"},
		{name: "ErrNoIssuer", token: signHS(t, validClaims(func(c jwt.MapClaims) { delete(c, "iss") }), secret), reason: "token has no iss"},
		{name: "ErrNoExp", token: signHS(t, validClaims(func(c jwt.MapClaims) { delete(c, "exp") }), secret), reason: "token has no exp"},
		{name: "ErrNoSub", token: signHS(t, validClaims(func(c jwt.MapClaims) { delete(c, "sub") }), secret), reason: "token has no sub"},
		{name: "ErrNotYetValid", token: signHS(t, validClaims(func(c jwt.MapClaims) { c["nbf"] = time.Now().Add(5 * time.Minute).Unix() }), secret), reason: "token not valid yet", cause: jwt.ErrTokenNotValidYet},
		{name: "ErrIssuedInFuture", token: signHS(t, validClaims(func(c jwt.MapClaims) { c["iat"] = time.Now().Add(5 * time.Minute).Unix() }), secret), reason: "token issued in the future", cause: jwt.ErrTokenUsedBeforeIssued},
		{name: "ErrRolesNotStrings", token: signHS(t, validClaims(func(c jwt.MapClaims) { c["roles"] = []int{1} }), secret), reason: "malformed token"},
		{name: "ErrAlgNone", token: none, reason: "signing algorithm not accepted"},
		{name: "ErrAlgHS512", token: hs512, reason: "signing algorithm not accepted"},
		{name: "ErrHS256SignedWithPublicKey", token: hsWithPublicKey, reason: "bad signature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := v.Verify(t.Context(), tt.token)
			require.ErrorIs(t, err, ErrUnauthenticated)
			require.Equal(t, "unauthenticated: "+tt.reason, err.Error())
			if tt.cause != nil {
				require.ErrorIs(t, err, tt.cause)
			}
			require.Equal(t, Principal{}, got)
		})
	}
}

func TestNewVerifier(t *testing.T) {
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	t.Cleanup(failing.Close)

	tests := []struct {
		name string
		cfg  config.JWT
	}{
		{name: "ErrNothingToVerifyWith", cfg: config.JWT{Issuer: "x", Audience: "y", TokenTTL: time.Hour}},
		{name: "ErrJWKSUnavailable", cfg: config.JWT{JWKSURL: failing.URL, TokenTTL: time.Hour}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := NewVerifier(t.Context(), tt.cfg)
			require.Error(t, err)
			require.Nil(t, v)
		})
	}
}
