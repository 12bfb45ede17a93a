package mcpkind_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"mcp-platform/domains"
)

// TestUpstreamProgress checks, over Streamable HTTP and stdio, that the upstream's progress
// reaches the call's receiver, every step including the one sent just before the result, by
// the time Call returns; and that a call nobody follows sends no progress token.
func TestUpstreamProgress(t *testing.T) {
	exe, err := os.Executable()
	require.NoError(t, err)
	srv := serve(t, newUpstream(), "")
	adapters := map[string]domains.Adapter{
		"http": newAdapter(t, wikiConfig(t, &domains.MCPSource{URL: srv.URL, BearerTokenEnv: "WIKI_TOKEN"}), env(map[string]string{"WIKI_TOKEN": testToken})),
		"stdio": newAdapter(t, wikiConfig(t, &domains.MCPSource{Command: exe, Args: []string{"-test.run=^$"}, Env: []string{stdioServerEnv}}),
			env(map[string]string{stdioServerEnv: "1", "PATH": os.Getenv("PATH"), "HOME": t.TempDir()})),
	}
	for name, a := range adapters {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var got []domains.Progress
			out, err := a.Call(ctx, domains.Call{Tool: "wiki.count", IdempotencyKey: "wf-1/call-1",
				OnProgress: func(p domains.Progress) { got = append(got, p) }})
			require.NoError(t, err)
			require.Equal(t, map[string]any{"token": true}, requireResult(t, out).Structured)
			require.Equal(t, []domains.Progress{{Progress: 1, Total: 3, Message: "step"}, {Progress: 2, Total: 3, Message: "step"},
				{Progress: 3, Total: 3, Message: "step"}}, got)

			out, err = a.Call(ctx, domains.Call{Tool: "wiki.count", IdempotencyKey: "wf-2/call-1"})
			require.NoError(t, err)
			require.Equal(t, map[string]any{"token": false}, requireResult(t, out).Structured, "no token without a follower")
		})
	}
}
