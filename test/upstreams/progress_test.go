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
// upstream's progress reaches it: several notifications with the caller's token, increasing, up
// to the last step. The notifications precede the result on the response stream, but the SDK
// hands them to the handler asynchronously, so the test waits for its handler to have run.
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

		require.Eventually(t, func() bool {
			seen := log.snapshot()
			return len(seen) > 0 && seen[len(seen)-1].Progress == progressSteps
		}, 10*time.Second, 10*time.Millisecond, "the last step's progress reaches the caller")
		seen := log.snapshot()
		require.GreaterOrEqual(t, len(seen), 2, "several notifications, not only the last")
		for i, p := range seen {
			require.Equal(t, "caller-"+name, p.ProgressToken, "the caller's own token")
			require.Equal(t, float64(progressSteps), p.Total)
			if i > 0 {
				require.Greater(t, p.Progress, seen[i-1].Progress, "progress increases")
			}
		}
	})
}
