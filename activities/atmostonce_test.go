package activities_test

import (
	"context"
	"encoding/base64"
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

	"mcp-platform/activities"
	"mcp-platform/authz"
	"mcp-platform/domains"
	"mcp-platform/domains/kit"
	"mcp-platform/domains/mcpkind"
	"mcp-platform/internal/audit"
	"mcp-platform/toolcall"
)

// notesYAML is a third-party MCP server onboarded by configuration; %s is its URL.
const notesYAML = `
name: notes
description: A third-party notes service.
kind: mcp
mcp:
  url: %s
permissions:
  - role: clerk
    tools: ["notes.*"]
`

// notesServer is the upstream: append_note writes and has no annotations (so it is not
// idempotent), and stalls until release is closed, as a server that received a call and whose
// answer never comes; secret_note returns content with a password in its text.
type notesServer struct {
	calls   atomic.Int32
	release chan struct{}
	once    sync.Once
}

// answer lets stalled calls return.
func (n *notesServer) answer() { n.once.Do(func() { close(n.release) }) }

func startNotes(t *testing.T) (*notesServer, string) {
	t.Helper()
	n := &notesServer{release: make(chan struct{})}
	s := mcp.NewServer(&mcp.Implementation{Name: "notes", Version: "1"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "append_note", Description: "Appends a note."},
		func(ctx context.Context, _ *mcp.CallToolRequest, in struct {
			Text string `json:"text"`
		}) (*mcp.CallToolResult, any, error) {
			n.calls.Add(1)
			select {
			case <-n.release:
			case <-ctx.Done():
			}
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "appended"}}}, nil, nil
		})
	png, _ := base64.StdEncoding.DecodeString("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
	mcp.AddTool(s, &mcp.Tool{Name: "secret_note", Description: "Reads a note.", Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true}},
		func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{
				&mcp.TextContent{Text: "the wifi password is hunter22", Annotations: &mcp.Annotations{Priority: 1}},
				&mcp.ImageContent{Data: png, MIMEType: "image/png"},
			}}, nil, nil
		})
	srv := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, nil))
	t.Cleanup(func() {
		n.answer()
		srv.Close()
	})
	return n, srv.URL
}

// notesExecutor is the notes domain's ToolExecutor as its worker builds it: the adapter's
// discovered tools merged into the configuration.
func notesExecutor(t *testing.T, f *fixture, url string) *activities.ToolExecutor {
	t.Helper()
	cfg := parseDomain(t, "notes", fmt.Sprintf(notesYAML, url))
	a, err := mcpkind.New(context.Background(), kit.Deps{Config: cfg, Getenv: func(string) string { return "" }})
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.(domains.Closer).Close() })
	tools, err := a.(domains.ToolSource).DiscoverTools(context.Background())
	require.NoError(t, err)
	cfg.Tools = tools
	enf, err := authz.NewEnforcer()
	require.NoError(t, err)
	require.NoError(t, enf.SetDomainPolicies(cfg.Name, cfg.Permissions))
	return &activities.ToolExecutor{Domain: cfg, Adapter: a, Authz: enf, Audit: f.Audit, Logger: f.Logger}
}

// TestAtMostOnce kills nothing but abandons a first attempt whose call reached the upstream and
// never answered, as a worker killed mid-call leaves it, and retries the call as Temporal would.
func TestAtMostOnce(t *testing.T) {
	f := newFixture(t)
	up, url := startNotes(t)
	in := activities.ExecuteToolInput{Principal: clerk, Tool: "notes.append_note", Args: map[string]any{"text": "buy milk"}, ToolCallID: "call-1"}

	t.Run("ErrOutcomeUnknown after a crash mid-call, with one upstream call", func(t *testing.T) {
		first := notesExecutor(t, f, url)
		go func() { _, _ = newEnv(first).ExecuteActivity(first.ExecuteTool, in) }() // the worker that "dies"
		require.Eventually(t, func() bool { return up.calls.Load() == 1 }, 30*time.Second, 10*time.Millisecond)

		retry := notesExecutor(t, f, url) // another worker picks up the retried activity
		_, err := newEnv(retry).ExecuteActivity(retry.ExecuteTool, in)
		var appErr *temporal.ApplicationError
		require.ErrorAs(t, err, &appErr)
		require.Equal(t, string(toolcall.OutcomeUnknown), appErr.Type())
		require.True(t, appErr.NonRetryable())
		require.Contains(t, appErr.Message(), "not sent again")
		require.Equal(t, int32(1), up.calls.Load(), "the call is not sent twice")

		page, err := f.Audit.Query(context.Background(), audit.Filter{Tool: "notes.append_note"})
		require.NoError(t, err)
		require.Len(t, page.Records, 2)
		for _, r := range page.Records {
			require.Equal(t, audit.OutcomeUnknown, r.Outcome, "both attempts are audited as unknown: %+v", r)
		}
		up.answer() // let the abandoned call end, so its session can close
	})

	t.Run("OK a read-only tool's content passes through, redacted", func(t *testing.T) {
		x := notesExecutor(t, f, url)
		val, err := newEnv(x).ExecuteActivity(x.ExecuteTool, activities.ExecuteToolInput{Principal: clerk, Tool: "notes.secret_note", ToolCallID: "call-2"})
		require.NoError(t, err)
		var res activities.ExecuteToolResult
		require.NoError(t, val.Get(&res))
		require.Len(t, res.Content, 2)
		require.Equal(t, map[string]any{"priority": float64(1)}, res.Content[0]["annotations"])
		require.NotContains(t, res.Content[0]["text"], "hunter22", "secrets in text are masked")
		require.Equal(t, "image", res.Content[1]["type"])
		require.Equal(t, "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==", res.Content[1]["data"], "binary data is not touched")
		require.True(t, res.Redacted)

		page, err := f.Audit.Query(context.Background(), audit.Filter{Tool: "notes.secret_note"})
		require.NoError(t, err)
		require.Len(t, page.Records, 1)
		require.Equal(t, audit.OutcomeSucceeded, page.Records[0].Outcome)
		require.NotContains(t, fmt.Sprint(page.Records[0].Result), "hunter22")
		require.NotContains(t, fmt.Sprint(page.Records[0].Result), "iVBORw0KGgo", "images are not kept in the audit log")
	})
}
