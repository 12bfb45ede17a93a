package e2e_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"

	"mcp-platform/domains"
	"mcp-platform/domains/domainconfig"
	"mcp-platform/domains/kit"
	"mcp-platform/internal/redact"
	"mcp-platform/internal/temporalx"
	"mcp-platform/internal/testutil/fakeopenai"
	"mcp-platform/internal/testutil/temporaltest"
	"mcp-platform/platform/platformtest"
)

// vaultYAML is a test domain whose tool takes a password and answers with a salary.
const vaultYAML = `
name: vault
description: Signs people in and tells them their pay.
permissions:
  - role: vault_user
    tools: ["vault.*"]
    actions: [execute, read_sensitive]
tools:
  - name: sign_in
    description: Signs a user in and returns their pay.
    annotations: {read_only: true}
    input_schema:
      type: object
      required: [username, password]
      properties:
        username: {type: string}
        password: {type: string}
`

// What must never be stored in clear.
const (
	vaultPassword = "S3cret-pw-4711-zq"
	vaultSalary   = 9876543
	vaultSubject  = "zed-5150-subject"
)

type vault struct{}

func (vault) Call(_ context.Context, c domains.Call) (any, error) {
	if c.Args["password"] != vaultPassword {
		return nil, &domains.Error{Code: domains.CodeDenied, Message: "wrong password"}
	}
	return map[string]any{"username": c.Args["username"], "salary": vaultSalary}, nil
}

func vaultDomain(t *testing.T) platformtest.Domain {
	t.Helper()
	dc, err := domainconfig.Parse("vault.yaml", []byte(vaultYAML))
	require.NoError(t, err)
	return platformtest.Domain{Config: dc, Factory: func(context.Context, kit.Deps) (domains.Adapter, error) { return vault{}, nil }}
}

// requireEncryptedHistory fails unless every payload of the workflow's history, as Temporal
// stores it, is encrypted under the test key, and no event shows the password, the salary or
// (outside the UserId search attribute, an index by design) the caller's subject.
func requireEncryptedHistory(t *testing.T, workflowID string) {
	t.Helper()
	events := temporaltest.History(t, temporaltest.RawClient(t), workflowID)
	require.NotEmpty(t, events)
	var payloads int
	for _, e := range events {
		raw, err := proto.Marshal(e)
		require.NoError(t, err)
		require.NotContains(t, string(raw), vaultPassword, "event %d (%s)", e.GetEventId(), e.GetEventType())
		require.NotContains(t, string(raw), "9876543", "event %d (%s)", e.GetEventId(), e.GetEventType())
		for _, p := range temporaltest.Payloads(e) {
			payloads++
			require.Equal(t, temporalx.EncodingEncrypted, string(p.GetMetadata()[converter.MetadataEncoding]), "event %d (%s)", e.GetEventId(), e.GetEventType())
			require.Equal(t, temporaltest.CodecKeyID, string(p.GetMetadata()[temporalx.MetadataKeyID]))
		}
		// The subject may be in the search attributes only; drop them and look again.
		c := proto.Clone(e).(*historypb.HistoryEvent)
		if a := c.GetWorkflowExecutionStartedEventAttributes(); a != nil {
			a.SearchAttributes = nil
		}
		if a := c.GetUpsertWorkflowSearchAttributesEventAttributes(); a != nil {
			a.SearchAttributes = nil
		}
		raw, err = proto.Marshal(c)
		require.NoError(t, err)
		require.NotContains(t, string(raw), vaultSubject, "event %d (%s)", e.GetEventId(), e.GetEventType())
	}
	require.Greater(t, payloads, 3, "the history has payloads at all")
}

func TestPayloadsEncryptedAtRest(t *testing.T) {
	fake := fakeopenai.New(t,
		fakeopenai.Reply{ToolCalls: []fakeopenai.ToolCall{{Name: "vault__sign_in", Arguments: `{"username": "zed", "password": "` + vaultPassword + `"}`}}},
		fakeopenai.Reply{Text: "You are signed in."},
	)
	s := platformtest.Start(t, platformtest.Options{LLM: compatible(t, fake), Extra: []platformtest.Domain{vaultDomain(t)}})
	token := s.Token(t, vaultSubject, "vault_user")

	t.Run("OK chat turn", func(t *testing.T) {
		body := chat(t, s, token, "Sign me in as zed with password="+vaultPassword)
		require.Equal(t, "completed", body["status"], body)
		workflowID := body["workflow_id"].(string)
		requireEncryptedHistory(t, workflowID)

		// The title the Temporal UI shows is redacted before it is encrypted.
		events := temporaltest.History(t, temporaltest.Client(t), workflowID)
		var summary string
		require.NoError(t, temporaltest.Codec(t).DataConverter().FromPayload(events[0].GetUserMetadata().GetSummary(), &summary))
		require.Equal(t, "Chat: Sign me in as zed with password="+redact.Mask, summary)
	})

	t.Run("OK execute", func(t *testing.T) {
		code, _, body := platformtest.Do(t, s.MCP.URL, http.MethodPost, "/execute", token,
			map[string]any{"tool": "vault.sign_in", "arguments": map[string]any{"username": "zed", "password": vaultPassword}})
		require.Equal(t, http.StatusOK, code, body)
		require.EqualValues(t, vaultSalary, body["result"].(map[string]any)["salary"], "the caller may read it")
		workflowID := body["workflow_id"].(string)
		require.True(t, strings.HasPrefix(workflowID, "tool-"))
		requireEncryptedHistory(t, workflowID)
	})
}
