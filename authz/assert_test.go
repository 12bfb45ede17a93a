package authz_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"mcp-platform/authz"
)

func TestAssertions(t *testing.T) {
	signer, keyring, err := authz.NewKeyPair("k1")
	require.NoError(t, err)
	alice := authz.Principal{Subject: "alice", Roles: []string{"hr_manager"}, Scopes: []string{"tools:hr.*"}}
	now := time.Now()

	t.Run("OK principal", func(t *testing.T) {
		tok, err := signer.SignPrincipal(alice, "chat-1", time.Hour)
		require.NoError(t, err)
		got, err := keyring.VerifyPrincipal(tok, "chat-1", now)
		require.NoError(t, err)
		require.Equal(t, alice, got)
	})

	t.Run("OK decision, and rotation keeps old keys verifying", func(t *testing.T) {
		tok, err := signer.SignDecision(alice, "chat-1", authz.Decision{ApprovalID: "apr-1", Approve: true, ArgsHash: "h"}, time.Minute)
		require.NoError(t, err)
		newSigner, newRing, err := authz.NewKeyPair("k2")
		require.NoError(t, err)
		both, err := authz.ParseKeyring(newRing.Format() + "," + keyring.Format())
		require.NoError(t, err)
		p, d, err := both.VerifyDecision(tok, "chat-1", now)
		require.NoError(t, err)
		require.Equal(t, "alice", p.Subject)
		require.Equal(t, authz.Decision{ApprovalID: "apr-1", Approve: true, ArgsHash: "h"}, d)
		_, _, err = both.VerifyDecisionSignature(tok, "chat-1")
		require.NoError(t, err)
		_ = newSigner
	})

	t.Run("OK keys round-trip through their text form", func(t *testing.T) {
		s2, err := authz.ParseSigner(signer.Format())
		require.NoError(t, err)
		tok, err := s2.SignPrincipal(alice, "wf", time.Hour)
		require.NoError(t, err)
		ring, err := authz.ParseKeyring(s2.Public().Format())
		require.NoError(t, err)
		_, err = ring.VerifyPrincipal(tok, "wf", now)
		require.NoError(t, err)
	})

	forged := func() string {
		tok, _ := signer.SignPrincipal(alice, "chat-1", time.Hour)
		parts := strings.Split(tok, ".")
		other, _ := signer.SignPrincipal(authz.Principal{Subject: "nobody", Roles: []string{"admin"}}, "chat-1", time.Hour)
		parts[2] = strings.Split(other, ".")[2] // someone else's claims under alice's signature
		return strings.Join(parts, ".")
	}
	expired, _ := signer.SignPrincipal(alice, "chat-1", -time.Second)
	decision, _ := signer.SignDecision(alice, "chat-1", authz.Decision{ApprovalID: "a"}, time.Hour)
	_, otherRing, _ := authz.NewKeyPair("k1")
	good, _ := signer.SignPrincipal(alice, "chat-1", time.Hour)
	tests := []struct {
		name, token, workflow string
		ring                  *authz.Keyring
		want                  string
	}{
		{"ErrMissing", "", "chat-1", keyring, "missing"},
		{"ErrMalformed", "v1.k1.abc", "chat-1", keyring, "malformed"},
		{"ErrForged", forged(), "chat-1", keyring, "bad signature"},
		{"ErrOtherKeySameID", good, "chat-1", otherRing, "bad signature"},
		{"ErrUnknownKey", strings.Replace(good, "v1.k1.", "v1.k9.", 1), "chat-1", keyring, "unknown key"},
		{"ErrExpired", expired, "chat-1", keyring, "expired"},
		{"ErrOtherWorkflow", good, "chat-2", keyring, "another workflow"},
		{"ErrWrongKind", decision, "chat-1", keyring, "not a principal"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.ring.VerifyPrincipal(tc.token, tc.workflow, now)
			require.ErrorIs(t, err, authz.ErrAssertion)
			require.ErrorContains(t, err, tc.want)
		})
	}
	_, err = authz.ParseSigner("k1:short")
	require.Error(t, err)
	_, err = authz.ParseKeyring("")
	require.Error(t, err)
}
