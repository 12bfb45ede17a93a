package authz

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Assertions are what the front ends (gateway API, MCP server) sign for the backbone: a worker
// acts only on what an authenticated front end asserted, never on what a Temporal payload
// merely says. They are Ed25519-signed, so a worker that holds only the public keys can verify
// but never mint one; key IDs let keys rotate.
//
// Wire form: "v1.<kid>.<base64url(claims JSON)>.<base64url(signature)>".

// ErrAssertion is wrapped by every verification failure: missing, malformed, forged (unknown
// key or bad signature), expired, or of the wrong kind.
var ErrAssertion = errors.New("invalid assertion")

// Assertion kinds, signed into the claims so that one kind cannot pass for another.
const (
	kindPrincipal = "principal"
	kindDecision  = "decision"
)

var kidRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// claims is the signed content of an assertion.
type claims struct {
	Kind      string    `json:"kind"`
	Principal Principal `json:"principal"`
	Decision  *Decision `json:"decision,omitempty"`
	// Workflow binds the assertion to the one workflow it was made for, so it cannot be
	// copied into another.
	Workflow string `json:"wf"`
	IssuedAt int64  `json:"iat"`
	Expires  int64  `json:"exp"`
}

// Decision is a person's decision on a request for approval, as the API asserts it: who
// decided (with their roles and scopes), which request, what, and for which arguments.
type Decision struct {
	ApprovalID string `json:"approval_id"`
	Approve    bool   `json:"approve"`
	ArgsHash   string `json:"args_hash"`
	Comment    string `json:"comment,omitempty"`
}

// Signer signs assertions with a front end's private key.
type Signer struct {
	kid string
	key ed25519.PrivateKey
	now func() time.Time
}

// Keyring verifies assertions with the front ends' public keys, by key ID.
type Keyring struct {
	keys map[string]ed25519.PublicKey
}

// NewKeyPair returns a new signing key and its public key, with key ID kid.
func NewKeyPair(kid string) (*Signer, *Keyring, error) {
	if !kidRE.MatchString(kid) {
		return nil, nil, fmt.Errorf("new key pair: key ID %q must be 1-32 letters, digits, _ or -", kid)
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("new key pair: %w", err)
	}
	return &Signer{kid: kid, key: priv, now: time.Now}, &Keyring{keys: map[string]ed25519.PublicKey{kid: pub}}, nil
}

// ParseSigner reads a signing key written as "kid:base64(32-byte seed)" (what FormatSigner
// writes and MCP_ASSERTION_KEY holds).
func ParseSigner(s string) (*Signer, error) {
	kid, seed, err := parseKey(s, ed25519.SeedSize)
	if err != nil {
		return nil, fmt.Errorf("assertion signing key: %w", err)
	}
	return &Signer{kid: kid, key: ed25519.NewKeyFromSeed(seed), now: time.Now}, nil
}

// ParseKeyring reads public keys written as "kid:base64(32-byte key),kid2:..." (what
// FormatKeyring writes and MCP_ASSERTION_PUBLIC_KEYS holds). Listing an old key beside the
// new one lets assertions signed before a rotation still verify.
func ParseKeyring(s string) (*Keyring, error) {
	k := &Keyring{keys: map[string]ed25519.PublicKey{}}
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		kid, pub, err := parseKey(part, ed25519.PublicKeySize)
		if err != nil {
			return nil, fmt.Errorf("assertion public keys: %w", err)
		}
		k.keys[kid] = pub
	}
	if len(k.keys) == 0 {
		return nil, errors.New("assertion public keys: none given")
	}
	return k, nil
}

func parseKey(s string, size int) (string, []byte, error) {
	kid, b64, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || !kidRE.MatchString(kid) {
		return "", nil, errors.New(`want "kid:base64key" with a key ID of letters, digits, _ or -`)
	}
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(b) != size {
		return "", nil, fmt.Errorf("key %s: want %d bytes in base64", kid, size)
	}
	return kid, b, nil
}

// Format writes the signing key as ParseSigner reads it. It is a secret.
func (s *Signer) Format() string {
	return s.kid + ":" + base64.StdEncoding.EncodeToString(s.key.Seed())
}

// Public is the keyring that verifies what s signs.
func (s *Signer) Public() *Keyring {
	return &Keyring{keys: map[string]ed25519.PublicKey{s.kid: s.key.Public().(ed25519.PublicKey)}}
}

// Format writes the keyring as ParseKeyring reads it.
func (k *Keyring) Format() string {
	parts := make([]string, 0, len(k.keys))
	for kid, pub := range k.keys {
		parts = append(parts, kid+":"+base64.StdEncoding.EncodeToString(pub))
	}
	return strings.Join(parts, ",")
}

// SignPrincipal asserts that p was authenticated, for the workflow workflowID and for ttl.
func (s *Signer) SignPrincipal(p Principal, workflowID string, ttl time.Duration) (string, error) {
	return s.sign(claims{Kind: kindPrincipal, Principal: p, Workflow: workflowID}, ttl)
}

// SignDecision asserts that decider made decision d on a call of workflow workflowID, for ttl
// (the time to deliver it).
func (s *Signer) SignDecision(decider Principal, workflowID string, d Decision, ttl time.Duration) (string, error) {
	return s.sign(claims{Kind: kindDecision, Principal: decider, Decision: &d, Workflow: workflowID}, ttl)
}

func (s *Signer) sign(c claims, ttl time.Duration) (string, error) {
	now := s.now()
	c.IssuedAt, c.Expires = now.Unix(), now.Add(ttl).Unix()
	body, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("sign assertion: %w", err)
	}
	payload := base64.RawURLEncoding.EncodeToString(body)
	signed := "v1." + s.kid + "." + payload
	sig := ed25519.Sign(s.key, []byte(signed))
	return signed + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// VerifyPrincipal returns the principal an assertion vouches for in workflow workflowID, at
// time now.
func (k *Keyring) VerifyPrincipal(token, workflowID string, now time.Time) (Principal, error) {
	c, err := k.verify(token, kindPrincipal, workflowID, now)
	return c.Principal, err
}

// VerifyDecision returns the decider and the decision an assertion vouches for, at time now.
// It is deterministic for a given now, so workflows may call it in Update validators.
func (k *Keyring) VerifyDecision(token, workflowID string, now time.Time) (Principal, Decision, error) {
	c, err := k.verify(token, kindDecision, workflowID, now)
	if err != nil {
		return Principal{}, Decision{}, err
	}
	if c.Decision == nil {
		return Principal{}, Decision{}, fmt.Errorf("%w: no decision", ErrAssertion)
	}
	return c.Principal, *c.Decision, nil
}

// VerifyDecisionSignature is VerifyDecision without the expiry check: for a worker that runs
// a call long after the decision was accepted by the workflow (which checked the expiry).
func (k *Keyring) VerifyDecisionSignature(token, workflowID string) (Principal, Decision, error) {
	return k.VerifyDecision(token, workflowID, time.Time{})
}

func (k *Keyring) verify(token, kind, workflowID string, now time.Time) (claims, error) {
	var c claims
	if k == nil || token == "" {
		return c, fmt.Errorf("%w: missing", ErrAssertion)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 4 || parts[0] != "v1" {
		return c, fmt.Errorf("%w: malformed", ErrAssertion)
	}
	pub, ok := k.keys[parts[1]]
	if !ok {
		return c, fmt.Errorf("%w: unknown key %q", ErrAssertion, parts[1])
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[3])
	if err != nil || !ed25519.Verify(pub, []byte(strings.Join(parts[:3], ".")), sig) {
		return c, fmt.Errorf("%w: bad signature", ErrAssertion)
	}
	body, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || json.Unmarshal(body, &c) != nil {
		return claims{}, fmt.Errorf("%w: malformed claims", ErrAssertion)
	}
	if c.Kind != kind {
		return claims{}, fmt.Errorf("%w: a %s assertion, not a %s one", ErrAssertion, c.Kind, kind)
	}
	if c.Workflow != workflowID {
		return claims{}, fmt.Errorf("%w: made for another workflow", ErrAssertion)
	}
	if !now.IsZero() && now.Unix() >= c.Expires {
		return claims{}, fmt.Errorf("%w: expired at %s", ErrAssertion, time.Unix(c.Expires, 0).UTC().Format(time.RFC3339))
	}
	return c, nil
}
