package authz

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"

	"mcp-platform/internal/config"
)

const (
	// clockSkew is how far the clocks of the token issuer and ours may disagree when checking
	// exp, nbf and iat.
	clockSkew = 30 * time.Second
	// maxTokenSize bounds the work an unauthenticated caller can make us do. Real tokens, even
	// ones carrying many groups, stay well under it.
	maxTokenSize = 32 << 10

	// jwksRefreshInterval is how often the JWKS is fetched again, so removed keys stop being
	// accepted. New keys are picked up sooner: a token with an unknown kid triggers a fetch.
	jwksRefreshInterval = 15 * time.Minute
	// jwksUnknownKIDEvery limits fetches triggered by unknown kids, so a flood of forged kids
	// cannot hammer the identity provider.
	jwksUnknownKIDEvery = time.Minute
	// jwksUnknownKIDWait is the longest a request waits for that limiter; past it the token is
	// refused at once rather than holding the request.
	jwksUnknownKIDWait = 2 * time.Second
	// jwksHTTPTimeout bounds one fetch of the JWKS.
	jwksHTTPTimeout = 10 * time.Second
)

// errAlgorithm is returned by our key functions when a token's algorithm does not match the
// verifier's mode; the parser's allow-list normally refuses such tokens first.
var errAlgorithm = errors.New("signing algorithm not accepted")

// errUnknownKey is returned by the JWKS key function when the set has no usable key for the
// token's kid and algorithm, even after a refresh (or while refreshes are rate limited).
var errUnknownKey = errors.New("unknown signing key")

// Verifier checks bearer tokens and turns them into principals. It is safe for concurrent use.
type Verifier struct {
	methods  []string
	keyFunc  func(ctx context.Context) jwt.Keyfunc
	issuer   string
	audience string
	// now is the clock used for exp, nbf and iat; tests replace it.
	now func() time.Time
	// stop ends the background JWKS refresh.
	stop context.CancelFunc
}

// NewVerifier builds a verifier for cfg. Without cfg.JWKSURL it accepts only HS256 tokens
// signed with cfg.Secret (dev and simple deployments). With cfg.JWKSURL it accepts only RS256
// and ES256 tokens signed by a key of that JWK Set, which it fetches now (failing when that
// fetch fails, so a wrong URL is found at start), refreshes every 15 minutes and re-fetches
// when a token names an unknown key ID, so provider key rotation needs no restart. The
// background refresh stops when ctx is done or Close is called.
//
// When cfg.Issuer or cfg.Audience is set, tokens must carry that iss, and aud must contain that
// audience.
func NewVerifier(ctx context.Context, cfg config.JWT) (*Verifier, error) {
	v := &Verifier{issuer: cfg.Issuer, audience: cfg.Audience, now: time.Now, stop: func() {}}
	if cfg.JWKSURL == "" {
		if cfg.Secret == "" {
			return nil, errors.New("new token verifier: neither an HS256 secret nor a JWKS URL is configured")
		}
		secret := []byte(cfg.Secret)
		v.methods = []string{jwt.SigningMethodHS256.Alg()}
		v.keyFunc = func(context.Context) jwt.Keyfunc {
			return func(t *jwt.Token) (any, error) {
				if t.Method != jwt.SigningMethodHS256 {
					return nil, errAlgorithm
				}
				return secret, nil
			}
		}
		return v, nil
	}

	refreshCtx, cancel := context.WithCancel(ctx)
	noErrorOnFirstFetch := false
	kf, err := keyfunc.NewDefaultOverrideCtx(refreshCtx, []string{cfg.JWKSURL}, keyfunc.Override{
		HTTPTimeout:               jwksHTTPTimeout,
		NoErrorReturnFirstHTTPReq: &noErrorOnFirstFetch,
		RefreshInterval:           jwksRefreshInterval,
		RefreshUnknownKID:         rate.NewLimiter(rate.Every(jwksUnknownKIDEvery), 1),
		RateLimitWaitMax:          jwksUnknownKIDWait,
	})
	if err != nil {
		cancel()
		return nil, fmt.Errorf("new token verifier: fetch JWKS from %s: %w", cfg.JWKSURL, err)
	}
	v.stop = cancel
	v.methods = []string{jwt.SigningMethodRS256.Alg(), jwt.SigningMethodES256.Alg()}
	v.keyFunc = func(ctx context.Context) jwt.Keyfunc {
		lookup := kf.KeyfuncCtx(ctx)
		return func(t *jwt.Token) (any, error) {
			key, err := lookup(t)
			if err != nil {
				return nil, errors.Join(errUnknownKey, err)
			}
			return publicKeyFor(t.Method.Alg(), key)
		}
	}
	return v, nil
}

// Close stops the background JWKS refresh. The verifier must not be used afterwards. It is a
// no-op for an HS256 verifier.
func (v *Verifier) Close() { v.stop() }

// Verify checks token's signature, algorithm, expiry (required), not-before and issued-at
// (with 30 seconds of clock skew), issuer and audience, and returns who it names.
//
// Every error wraps ErrUnauthenticated; its message says why without echoing the token. The
// underlying golang-jwt error (jwt.ErrTokenExpired, jwt.ErrTokenSignatureInvalid, ...) is
// wrapped too, for errors.Is.
func (v *Verifier) Verify(ctx context.Context, token string) (Principal, error) {
	if token == "" {
		return Principal{}, unauthenticated("no token", nil)
	}
	if len(token) > maxTokenSize {
		return Principal{}, unauthenticated("token too large", nil)
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(v.methods),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(clockSkew),
		jwt.WithTimeFunc(v.now),
	}
	if v.issuer != "" {
		opts = append(opts, jwt.WithIssuer(v.issuer))
	}
	if v.audience != "" {
		opts = append(opts, jwt.WithAudience(v.audience))
	}
	var claims tokenClaims
	parsed, err := jwt.NewParser(opts...).ParseWithClaims(token, &claims, v.keyFunc(ctx))
	if err != nil {
		return Principal{}, unauthenticated(v.reason(err, parsed, &claims), err)
	}
	if claims.Subject == "" {
		return Principal{}, unauthenticated("token has no sub", nil)
	}
	return claims.principal(), nil
}

// reason says, in a few safe words, why golang-jwt refused a token. It looks only at error
// kinds and at parsed fields, never at text that may come from the token.
func (v *Verifier) reason(err error, parsed *jwt.Token, claims *tokenClaims) string {
	algAccepted := parsed != nil && parsed.Method != nil && slices.Contains(v.methods, parsed.Method.Alg())
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "malformed token"
	case errors.Is(err, errAlgorithm),
		parsed != nil && !algAccepted && (errors.Is(err, jwt.ErrTokenSignatureInvalid) || errors.Is(err, jwt.ErrTokenUnverifiable)):
		return "signing algorithm not accepted"
	case errors.Is(err, errUnknownKey):
		return "unknown signing key"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "bad signature"
	case errors.Is(err, jwt.ErrTokenUnverifiable) && !errors.Is(err, jwt.ErrTokenInvalidClaims):
		return "no key can verify the token"
	case errors.Is(err, jwt.ErrTokenExpired):
		return "token expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "token not valid yet"
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "token issued in the future"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "wrong issuer"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "wrong audience"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		switch {
		case claims.ExpiresAt == nil:
			return "token has no exp"
		case v.issuer != "" && claims.Issuer == "":
			return "token has no iss"
		default:
			return "token has no aud"
		}
	default:
		return "invalid token"
	}
}

// publicKeyFor keeps only the keys that fit alg: an RSA key of at least 2048 bits for RS256, a
// P-256 key for ES256. This guards against a JWK Set that mixes key types under one kid, or
// omits kids, on top of the parser's algorithm allow-list.
func publicKeyFor(alg string, key any) (any, error) {
	fits := func(k any) bool {
		switch alg {
		case jwt.SigningMethodRS256.Alg():
			rk, ok := k.(*rsa.PublicKey)
			return ok && rk.N.BitLen() >= 2048
		case jwt.SigningMethodES256.Alg():
			ek, ok := k.(*ecdsa.PublicKey)
			return ok && ek.Curve == elliptic.P256()
		}
		return false
	}
	if set, ok := key.(jwt.VerificationKeySet); ok {
		var keep jwt.VerificationKeySet
		for _, k := range set.Keys {
			if fits(k) {
				keep.Keys = append(keep.Keys, k)
			}
		}
		if len(keep.Keys) == 0 {
			return nil, errAlgorithm
		}
		return keep, nil
	}
	if !fits(key) {
		return nil, errAlgorithm
	}
	return key, nil
}

// authError is a Verify failure: a safe reason for logs, wrapping ErrUnauthenticated and the
// cause for errors.Is, without putting the cause's text (which may quote token content such as
// a kid) in the message.
type authError struct {
	reason string
	cause  error
}

func unauthenticated(reason string, cause error) error {
	return &authError{reason: reason, cause: cause}
}

func (e *authError) Error() string { return ErrUnauthenticated.Error() + ": " + e.reason }

func (e *authError) Unwrap() []error {
	if e.cause == nil {
		return []error{ErrUnauthenticated}
	}
	return []error{ErrUnauthenticated, e.cause}
}
