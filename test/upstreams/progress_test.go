package upstreams_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"mcp-platform/platform/platformtest"
)

// progressSteps is how many progress notifications server-everything's long-running operation
// sends, one each half second.
const progressSteps = 4

// progressLog collects the progress notifications a client receives.
type progressLog struct {
	mu   sync.Mutex
	seen []*mcp.ProgressNotificationParams
}

func (l *progressLog) handle(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seen = append(l.seen, req.Params)
}

func (l *progressLog) snapshot() []*mcp.ProgressNotificationParams {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]*mcp.ProgressNotificationParams(nil), l.seen...)
}

// testUpstreamProgress calls server-everything's trigger-long-running-operation through /mcp of
// domain name with a progress token, as a stateful go-sdk client, and checks that the
// upstream's progress reaches it: several notifications with the caller's token, increasing,
// within the total. (The go-sdk hands notifications to handlers asynchronously, on the
// platform's client of the upstream as on this one: the upstream's last notification, which
// comes just before its result, may be handled after the result and is then not forwarded; and
// the test waits for its own handler to have run.)
func testUpstreamProgress(t *testing.T, s *platformtest.Stack, token, name string) {
	t.Run("OK progress of a long upstream tool reaches the caller", func(t *testing.T) {
		log := &progressLog{}
		client := platformtest.MCPSessionWith(t, s.MCP.URL+"/mcp", token, &mcp.ClientOptions{ProgressNotificationHandler: log.handle})
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		params := &mcp.CallToolParams{Name: name + "__trigger_long_running_operation",
			Arguments: map[string]any{"duration": 2, "steps": progressSteps}}
		params.SetProgressToken("caller-" + name)
		res, err := client.CallTool(ctx, params)
		require.NoError(t, err)
		require.False(t, res.IsError, "%+v", res.Content)
		require.Contains(t, res.Content[0].(*mcp.TextContent).Text, "Long running operation completed")

		require.Eventually(t, func() bool { return len(log.snapshot()) >= 2 }, 10*time.Second, 10*time.Millisecond,
			"several notifications reach the caller, not only one")
		seen := log.snapshot()
		for i, p := range seen {
			require.Equal(t, "caller-"+name, p.ProgressToken, "the caller's own token")
			require.Equal(t, float64(progressSteps), p.Total)
			require.LessOrEqual(t, p.Progress, float64(progressSteps))
			if i > 0 {
				require.Greater(t, p.Progress, seen[i-1].Progress, "progress increases")
			}
		}
	})
}
