package mcpserver_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"mcp-platform/domains"
	"mcp-platform/domains/kit"
)

// meterYAML is a domain with one tool that reports its progress.
const meterYAML = `
name: %[1]s
description: A meter whose count reports its progress.
version: 1.0.0
permissions:
  - role: clerk
    tools: ["%[1]s.*"]
tools:
  - name: count
    description: Counts to three, reporting each step.
    annotations: {read_only: true, idempotent: true}
    input_schema: {type: object}
`

// meter counts to three when its caller follows the call's progress, reporting each step and
// waiting for the test (step) between them, so that each report is seen before the next one is
// made; a report that does not increase, and a secret in a message, come along. Without a
// follower it answers at once.
type meter struct {
	step chan struct{}
}

func (m *meter) Call(ctx context.Context, c domains.Call) (any, error) {
	if c.OnProgress == nil {
		return map[string]any{"followed": false}, nil
	}
	wait := func() error {
		select {
		case <-m.step:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	c.ReportProgress(1, 3, "started")
	if err := wait(); err != nil {
		return nil, err
	}
	c.ReportProgress(2, 3, "copying with password=hunter2")
	if err := wait(); err != nil {
		return nil, err
	}
	c.ReportProgress(2, 3, "stale")
	c.ReportProgress(3, 3, "done")
	return map[string]any{"followed": true}, nil
}

// postCall sends a tools/call of meter.count to /mcp with _meta meta and returns the response.
func postCall(t *testing.T, f *fixture, token string, meta map[string]any) *http.Response {
	t.Helper()
	params := map[string]any{"name": "meter__count", "arguments": map[string]any{}}
	if meta != nil {
		params["_meta"] = meta
	}
	b, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": params})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, f.MCP.URL+"/mcp", bytes.NewReader(b))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	require.Equal(t, http.StatusOK, resp.StatusCode)
	return resp
}

// sseMessages returns the JSON-RPC messages of an SSE response, one at a time, as they arrive.
func sseMessages(t *testing.T, resp *http.Response) func() map[string]any {
	sc := bufio.NewScanner(resp.Body)
	return func() map[string]any {
		t.Helper()
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var m map[string]any
				require.NoError(t, json.Unmarshal([]byte(data), &m))
				return m
			}
		}
		require.NoError(t, sc.Err())
		t.Fatal("the stream ended without another message")
		return nil
	}
}

func TestMCPProgress(t *testing.T) {
	f := newFixture(t)
	m := &meter{step: make(chan struct{})}
	f.runDomainWith(t, fmt.Sprintf(meterYAML, "meter"), func(context.Context, kit.Deps) (domains.Adapter, error) { return m, nil })
	f.waitTool(t, "meter.count", true)
	token := f.Token(t, "carl", "clerk")

	t.Run("OK without a progress token the answer is one JSON response", func(t *testing.T) {
		resp := postCall(t, f, token, nil)
		require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
		var msg map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&msg))
		require.EqualValues(t, 7, msg["id"])
		res := msg["result"].(map[string]any)
		require.Equal(t, map[string]any{"followed": false}, res["structuredContent"], "the tool was not asked for progress")
	})

	t.Run("OK with a progress token, notifications precede the result on an SSE stream", func(t *testing.T) {
		// The test steps the meter only after it has seen each step's notification: they
		// stream live, before the result exists.
		resp := postCall(t, f, token, map[string]any{"progressToken": "tok-carl"})
		require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
		next := sseMessages(t, resp)
		progressOf := func(msg map[string]any) map[string]any {
			t.Helper()
			require.Equal(t, "notifications/progress", msg["method"], "a progress notification, not yet the result: %v", msg)
			return msg["params"].(map[string]any)
		}

		first := progressOf(next())
		require.Equal(t, map[string]any{"progressToken": "tok-carl", "progress": 1.0, "total": 3.0, "message": "started"}, first)
		m.step <- struct{}{}
		second := progressOf(next())
		require.Equal(t, 2.0, second["progress"])
		require.Equal(t, "copying with password=[REDACTED]", second["message"], "messages are redacted like other stored text")
		m.step <- struct{}{}

		var last map[string]any
		for {
			msg := next()
			if msg["method"] == nil {
				require.EqualValues(t, 7, msg["id"])
				res := msg["result"].(map[string]any)
				require.Equal(t, map[string]any{"followed": true}, res["structuredContent"])
				break
			}
			p := progressOf(msg)
			require.Equal(t, "tok-carl", p["progressToken"])
			require.NotEqual(t, "stale", p["message"], "a report that does not increase is dropped")
			require.Greater(t, p["progress"], second["progress"])
			last = p
		}
		require.NotNil(t, last, "the last step's progress comes before the result")
		require.Equal(t, 3.0, last["progress"])
		require.Equal(t, "done", last["message"])
	})
}
