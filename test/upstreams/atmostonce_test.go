package upstreams_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"mcp-platform/domains/domainconfig"
	"mcp-platform/domains/mcpkind"
	"mcp-platform/platform/platformtest"
)

// ledgerYAML onboards a third-party server whose append_entry writes and says nothing about
// being idempotent; its calls time out after 2s and would be retried three times.
const ledgerYAML = `
name: ledger
description: A third-party ledger.
kind: mcp
mcp:
  url: %s
timeout: 2s
retry: {max_attempts: 3, initial_interval: 100ms}
permissions:
  - role: tester
    tools: ["ledger.*"]
`

// TestAtMostOnceThroughTemporal runs a call of a writing upstream tool that receives the call
// and never answers: the activity fails after the upstream received it, Temporal's retry policy
// would send it again, and instead the caller and the audit log hear that the outcome is unknown,
// with one upstream call.
func TestAtMostOnceThroughTemporal(t *testing.T) {
	var calls atomic.Int32
	stop := make(chan struct{})
	srv := mcp.NewServer(&mcp.Implementation{Name: "ledger", Version: "1"}, nil)
	mcp.AddTool(srv, &mcp.Tool{Name: "append_entry", Description: "Appends an entry."},
		func(ctx context.Context, _ *mcp.CallToolRequest, in struct {
			Amount int `json:"amount"`
		}) (*mcp.CallToolResult, any, error) {
			calls.Add(1)
			select { // the entry is written; the answer never comes
			case <-ctx.Done():
			case <-stop:
			}
			return nil, nil, ctx.Err()
		})
	up := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, nil))
	t.Cleanup(func() {
		close(stop)
		up.Close()
	})
	cfg, err := domainconfig.Parse("ledger.yaml", []byte(fmt.Sprintf(ledgerYAML, up.URL)))
	require.NoError(t, err)
	s := platformtest.Start(t, platformtest.Options{Extra: []platformtest.Domain{{Config: cfg, Factory: mcpkind.New}}})
	token := s.Token(t, "tess", "tester")

	t.Run("ErrOutcomeUnknown with one upstream call", func(t *testing.T) {
		code, _, body := platformtest.Do(t, s.MCP.URL, http.MethodPost, "/execute", token,
			map[string]any{"tool": "ledger.append_entry", "arguments": map[string]any{"amount": 5}})
		require.Equal(t, http.StatusBadGateway, code, body)
		require.Contains(t, fmt.Sprint(body["detail"]), "not sent again", body)
		require.Equal(t, int32(1), calls.Load(), "the call reached the upstream once and was not sent again")

		var outcomes []string
		rows, err := s.DB.Pool.Query(context.Background(), `SELECT outcome FROM audit_log WHERE tool = 'ledger.append_entry' ORDER BY id`)
		require.NoError(t, err)
		for rows.Next() {
			var o string
			require.NoError(t, rows.Scan(&o))
			outcomes = append(outcomes, o)
		}
		require.NoError(t, rows.Err())
		require.NotEmpty(t, outcomes)
		for _, o := range outcomes {
			require.Equal(t, "unknown", o, "every attempt is audited as unknown: %v", outcomes)
		}
	})
}
