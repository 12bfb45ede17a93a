package mcpserver_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"mcp-platform/domains"
	"mcp-platform/domains/domainconfig"
	"mcp-platform/domains/kit"
	"mcp-platform/platform"
	"mcp-platform/platform/platformtest"
)

// TestToolsListChanged: a client that subscribes (the go-sdk client opens subscriptions/listen
// when it has a tools/list_changed handler and /mcp declares listChanged) is told when a domain
// worker starts and when it stops, and each time tools/list shows the change.
func TestToolsListChanged(t *testing.T) {
	f := newFixture(t)
	clerk := f.Token(t, "carl", "clerk")
	changed := make(chan struct{}, 16)
	cs := platformtest.MCPSessionWith(t, f.MCP.URL+"/mcp", clerk, &mcp.ClientOptions{
		ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) { changed <- struct{}{} },
	})
	require.True(t, cs.InitializeResult().Capabilities.Tools.ListChanged)
	listed := func() []string {
		res, err := cs.ListTools(context.Background(), nil)
		require.NoError(t, err)
		var names []string
		for _, tool := range res.Tools {
			names = append(names, tool.Name)
		}
		return names
	}
	waitChange := func(what string) {
		t.Helper()
		select {
		case <-changed:
		case <-time.After(60 * time.Second):
			t.Fatalf("no notifications/tools/list_changed after %s", what)
		}
	}
	require.NotContains(t, listed(), "watch__get_record")

	dc, err := domainconfig.Parse("watch.yaml", []byte(fmt.Sprintf(demoYAML, "watch")))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- platform.RunDomainWorker(ctx, f.Env, dc, func(context.Context, kit.Deps) (domains.Adapter, error) { return f.backend, nil })
	}()
	t.Cleanup(cancel)
	waitChange("the worker started")
	require.Eventually(t, func() bool { return slices.Contains(listed(), "watch__get_record") }, 10*time.Second, 100*time.Millisecond)

	cancel()
	require.NoError(t, <-done)
	waitChange("the worker stopped")
	require.Eventually(t, func() bool { return !slices.Contains(listed(), "watch__get_record") }, 10*time.Second, 100*time.Millisecond)
}
