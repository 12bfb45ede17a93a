package scaleout

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"mcp-platform/platform/platformtest"
)

// ledgerYAML onboards a third-party MCP server (Streamable HTTP at %s) whose append_entry
// writes and is annotated neither read-only nor idempotent. Its calls may take a minute and
// would be retried three times: only the kill of its worker ends the first attempt.
const ledgerYAML = `
name: ledger
description: A third-party ledger.
kind: mcp
mcp:
  url: %s
timeout: 60s
retry: {max_attempts: 3, initial_interval: 100ms}
permissions:
  - role: bookkeeper
    tools: ["ledger.*"]
`

// ledger is the upstream MCP server: append_entry counts its calls, says when one arrives and
// answers only once released, as a slow write would.
type ledger struct {
	calls    atomic.Int32
	arrived  chan struct{}
	released chan struct{}
	release  func()
}

func newLedger(t *testing.T) (*ledger, string) {
	t.Helper()
	l := &ledger{arrived: make(chan struct{}, 10), released: make(chan struct{})}
	l.release = sync.OnceFunc(func() { close(l.released) })
	srv := mcp.NewServer(&mcp.Implementation{Name: "ledger", Version: "1"}, nil)
	mcp.AddTool(srv, &mcp.Tool{Name: "append_entry", Description: "Appends an entry to the ledger."},
		func(context.Context, *mcp.CallToolRequest, struct {
			Amount int `json:"amount"`
		}) (*mcp.CallToolResult, any, error) {
			n := l.calls.Add(1)
			l.arrived <- struct{}{}
			<-l.released // the entry is written; the answer waits
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: fmt.Sprintf("entry %d appended", n)}}}, nil, nil
		})
	up := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, nil))
	t.Cleanup(func() {
		l.release()
		up.Close()
	})
	return l, up.URL
}

// TestAtMostOnceAcrossWorkerCrash kills, with SIGKILL, the worker process that is in the middle
// of a call of a writing third-party tool, once the upstream has received the call. Temporal
// hands the call to a replacement worker when the dead one's heartbeats stop, and the
// replacement must not send it again: the upstream gets one call, the caller hears that the
// outcome is unknown (outcome_unknown, HTTP 502), and the audit log says so.
func TestAtMostOnceAcrossWorkerCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL cluster and five processes")
	}
	up, url := newLedger(t)
	s := launch(t, topology{apis: 1, mcps: 1, domains: map[string]string{"ledger.yaml": fmt.Sprintf(ledgerYAML, url)}})
	first := s.worker(t, "ledger-1", "ledger")
	token := s.issue(t, "bea", "bookkeeper")
	s.waitAvailable(t, token, "ledger.append_entry")

	type answer struct {
		code int
		body map[string]any
	}
	answered := make(chan answer, 1)
	go func() {
		var a answer
		defer func() { answered <- a }() // also when Do fails the test
		a.code, _, a.body = platformtest.Do(t, s.mcps[0], http.MethodPost, "/execute", token,
			map[string]any{"tool": "ledger.append_entry", "arguments": map[string]any{"amount": 5}})
	}()
	select {
	case <-up.arrived:
	case a := <-answered:
		t.Fatalf("the call answered before it reached the upstream: %d %v", a.code, a.body)
	case <-time.After(2 * time.Minute):
		t.Fatal("the call never reached the upstream")
	}

	first.kill(t)
	s.worker(t, "ledger-2", "ledger")
	up.release()

	var a answer
	select {
	case a = <-answered:
	case <-time.After(3 * time.Minute):
		t.Fatal("the caller got no answer")
	}
	require.Equal(t, http.StatusBadGateway, a.code, a.body)
	require.Contains(t, fmt.Sprint(a.body["detail"]), "may have reached the ledger service", a.body)
	require.Contains(t, fmt.Sprint(a.body["detail"]), "not sent again", a.body)
	require.Equal(t, int32(1), up.calls.Load(), "the upstream received the call once")

	// Every attempt is audited as unknown: the killed worker's, which began and never finished,
	// and the replacement's, which refused to send it again.
	rows, err := s.pool.Query(context.Background(),
		`SELECT outcome, workflow_id FROM audit_log WHERE tool = 'ledger.append_entry' ORDER BY id`)
	require.NoError(t, err)
	var outcomes []string
	var workflowID string
	for rows.Next() {
		var outcome string
		require.NoError(t, rows.Scan(&outcome, &workflowID))
		outcomes = append(outcomes, outcome)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []string{"unknown", "unknown"}, outcomes, "the killed attempt and the refused retry")

	// The tool run itself ended with the outcome_unknown error, after a second attempt: the
	// first one's worker died.
	err = s.temporal.GetWorkflow(context.Background(), workflowID, "").Get(context.Background(), nil)
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), "the run failed with an application error: %v", err)
	require.Equal(t, "outcome_unknown", appErr.Type())
	require.True(t, timedOut(t, s.temporal, workflowID), "the first attempt timed out on the killed worker")
}
