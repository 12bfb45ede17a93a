package authz

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"mcp-platform/internal/config"
)

// jwksServer is a stand-in identity provider: it serves whatever keys the test publishes and
// counts fetches.
type jwksServer struct {
	*httptest.Server
	mu      sync.Mutex
	body    []byte
	fetches atomic.Int32
}

// publishedKey is one JWK of the served set.
type publishedKey struct {
	kid string
	alg jwkset.ALG
	key any // public key, or []byte for a symmetric key
}

func newJWKSServer(tb testing.TB, keys ...publishedKey) *jwksServer {
	tb.Helper()
	s := &jwksServer{}
	s.publish(tb, keys...)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s.fetches.Add(1)
		s.mu.Lock()
		body := s.body
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	tb.Cleanup(s.Close)
	return s
}

// publish replaces the served set, as a provider rotating its keys does.
func (s *jwksServer) publish(tb testing.TB, keys ...publishedKey) {
	tb.Helper()
	var set jwkset.JWKSMarshal
	for _, k := range keys {
		jwk, err := jwkset.NewJWKFromKey(k.key, jwkset.JWKOptions{
			Marshal:  jwkset.JWKMarshalOptions{Private: true}, // only the symmetric key has private material here
			Metadata: jwkset.JWKMetadataOptions{KID: k.kid, ALG: k.alg, USE: jwkset.UseSig},
		})
		require.NoError(tb, err)
		set.Keys = append(set.Keys, jwk.Marshal())
	}
	body, err := json.Marshal(set)
	require.NoError(tb, err)
	s.mu.Lock()
	s.body = body
	s.mu.Unlock()
}

// signWith signs claims with method and key, naming kid in the header when it is not empty.
func signWith(tb testing.TB, method jwt.SigningMethod, kid string, key any, claims jwt.MapClaims) string {
	tb.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	require.NoError(tb, err)
	return s
}

func generateRSA(tb testing.TB) *rsa.PrivateKey {
	tb.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(tb, err)
	return k
}

func generateEC(tb testing.TB) *ecdsa.PrivateKey {
	tb.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(tb, err)
	return k
}

func TestVerifyJWKS(t *testing.T) {
	rsaKey, ecKey, strangerKey := generateRSA(t), generateEC(t), generateRSA(t)
	sharedSecret := []byte("a-symmetric-key-some-jwks-publish-0123")
	srv := newJWKSServer(t,
		publishedKey{kid: "rsa-1", alg: jwkset.AlgRS256, key: &rsaKey.PublicKey},
		publishedKey{kid: "ec-1", alg: jwkset.AlgES256, key: &ecKey.PublicKey},
		publishedKey{kid: "shared", alg: jwkset.AlgHS256, key: sharedSecret},
	)
	cfg := config.JWT{JWKSURL: srv.URL, Issuer: "mcp-platform", Audience: "mcp-platform"}
	v := newTestVerifier(t, cfg)

	pubDER, err := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	require.NoError(t, err)
	claims := validClaims(func(c jwt.MapClaims) { c["roles"] = []string{"sre", "employee"} })
	want := Principal{Subject: "u1", Roles: []string{"sre", "employee"}}

	ok := []struct {
		name  string
		token string
	}{
		{name: "OKRS256", token: signWith(t, jwt.SigningMethodRS256, "rsa-1", rsaKey, claims)},
		{name: "OKES256", token: signWith(t, jwt.SigningMethodES256, "ec-1", ecKey, claims)},
		{name: "OKES256WithoutKid", token: signWith(t, jwt.SigningMethodES256, "", ecKey, claims)},
	}
	for _, tt := range ok {
		t.Run(tt.name, func(t *testing.T) {
			got, err := v.Verify(t.Context(), tt.token)
			require.NoError(t, err)
			require.Equal(t, want, got)
		})
	}

	refused := []struct {
		name   string
		token  string
		reason string
	}{
		{name: "ErrSignedByStranger", token: signWith(t, jwt.SigningMethodRS256, "rsa-1", strangerKey, claims), reason: "bad signature"},
		{name: "ErrExpired", token: signWith(t, jwt.SigningMethodRS256, "rsa-1", rsaKey, validClaims(func(c jwt.MapClaims) { c["exp"] = 1 })), reason: "token expired"},
		{name: "ErrWrongAudience", token: signWith(t, jwt.SigningMethodES256, "ec-1", ecKey, validClaims(func(c jwt.MapClaims) { c["aud"] = "other" })), reason: "wrong audience"},
		{name: "ErrAlgNone", token: signWith(t, jwt.SigningMethodNone, "rsa-1", jwt.UnsafeAllowNoneSignatureType, claims), reason: "signing algorithm not accepted"},
		{name: "ErrHS256SignedWithPublicKey", token: signWith(t, jwt.SigningMethodHS256, "rsa-1", pubDER, claims), reason: "signing algorithm not accepted"},
		{name: "ErrHS256WithPublishedSymmetricKey", token: signWith(t, jwt.SigningMethodHS256, "shared", sharedSecret, claims), reason: "signing algorithm not accepted"},
		{name: "ErrRS256NamingECKey", token: signWith(t, jwt.SigningMethodRS256, "ec-1", rsaKey, claims), reason: "unknown signing key"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			got, err := v.Verify(t.Context(), tt.token)
			require.ErrorIs(t, err, ErrUnauthenticated)
			require.Equal(t, "unauthenticated: "+tt.reason, err.Error())
			require.Equal(t, Principal{}, got)
		})
	}
}

// TestVerifyJWKSRotation checks that a key the provider starts using after we fetched its set
// is picked up on first sight of its kid, without a restart.
func TestVerifyJWKSRotation(t *testing.T) {
	oldKey, newKey := generateRSA(t), generateEC(t)
	srv := newJWKSServer(t, publishedKey{kid: "2030-01", alg: jwkset.AlgRS256, key: &oldKey.PublicKey})
	v := newTestVerifier(t, config.JWT{JWKSURL: srv.URL, Issuer: "mcp-platform", Audience: "mcp-platform"})
	claims := validClaims(nil)

	_, err := v.Verify(t.Context(), signWith(t, jwt.SigningMethodRS256, "2030-01", oldKey, claims))
	require.NoError(t, err)
	fetchesBefore := srv.fetches.Load()

	srv.publish(t,
		publishedKey{kid: "2030-01", alg: jwkset.AlgRS256, key: &oldKey.PublicKey},
		publishedKey{kid: "2030-02", alg: jwkset.AlgES256, key: &newKey.PublicKey},
	)

	t.Run("OKNewKid", func(t *testing.T) {
		got, err := v.Verify(t.Context(), signWith(t, jwt.SigningMethodES256, "2030-02", newKey, claims))
		require.NoError(t, err)
		require.Equal(t, "u1", got.Subject)
		require.Greater(t, srv.fetches.Load(), fetchesBefore, "the unknown kid made the verifier fetch the set again")
	})
	t.Run("OKOldKidStillPublished", func(t *testing.T) {
		_, err := v.Verify(t.Context(), signWith(t, jwt.SigningMethodRS256, "2030-01", oldKey, claims))
		require.NoError(t, err)
	})
	t.Run("ErrUnknownKid", func(t *testing.T) {
		_, err := v.Verify(t.Context(), signWith(t, jwt.SigningMethodES256, "never-published", newKey, claims))
		require.ErrorIs(t, err, ErrUnauthenticated)
		require.Equal(t, "unauthenticated: unknown signing key", err.Error())
		require.NotContains(t, err.Error(), "never-published", "the kid comes from the caller and is not echoed")
	})
}
